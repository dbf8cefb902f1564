type Listener<E, K extends keyof E> = (event: K, data: E[K]) => void;
type AnyListener = (event: never, data: never) => void;

/**
 * A minimal typed event emitter, called like hls.js's: listeners get `(event, data)`. Listener
 * errors are reported, never thrown into the player.
 */
export class Emitter<E extends object> {
  private readonly listeners = new Map<keyof E, Map<AnyListener, { once: boolean }>>();

  on<K extends keyof E>(name: K, cb: Listener<E, K>): void {
    this.add(name, cb, false);
  }

  once<K extends keyof E>(name: K, cb: Listener<E, K>): void {
    this.add(name, cb, true);
  }

  /** Without `cb`, removes every listener of `name`. */
  off<K extends keyof E>(name: K, cb?: Listener<E, K>): void {
    if (!cb) this.listeners.delete(name);
    else this.listeners.get(name)?.delete(cb as AnyListener);
  }

  emit<K extends keyof E>(name: K, data: E[K]): void {
    const set = this.listeners.get(name);
    if (!set) return;
    for (const [cb, { once }] of [...set]) {
      if (once) set.delete(cb);
      try {
        (cb as Listener<E, K>)(name, data);
      } catch (e) {
        console.error(`hcd-player: '${String(name)}' listener failed:`, e);
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }

  private add<K extends keyof E>(name: K, cb: Listener<E, K>, once: boolean): void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Map()));
    set.set(cb as AnyListener, { once });
  }
}
