/** A minimal typed event emitter: listener errors are reported, never thrown into the player. */
export class Emitter<E extends object> {
  private readonly listeners = new Map<keyof E, Set<(data: never) => void>>();

  on<K extends keyof E>(name: K, cb: (data: E[K]) => void): void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(cb as (data: never) => void);
  }

  off<K extends keyof E>(name: K, cb: (data: E[K]) => void): void {
    this.listeners.get(name)?.delete(cb as (data: never) => void);
  }

  emit<K extends keyof E>(name: K, data: E[K]): void {
    for (const cb of [...(this.listeners.get(name) ?? [])]) {
      try {
        (cb as (d: E[K]) => void)(data);
      } catch (e) {
        console.error(`hcd-player: '${String(name)}' listener failed:`, e);
      }
    }
  }

  count(): number {
    let n = 0;
    for (const s of this.listeners.values()) n += s.size;
    return n;
  }

  clear(): void {
    this.listeners.clear();
  }
}
