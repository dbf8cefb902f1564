/**
 * Which element shows an hls.js instance's picture: the upscaler registers its canvas, and the
 * cap-level controller (caplevel.ts), which hls.js creates before any upscaler exists, measures
 * it instead of the (often hidden) <video>.
 */
type Watcher = (el: Element | undefined) => void;

const surfaces = new WeakMap<object, Element>();
const watchers = new WeakMap<object, Set<Watcher>>();

export function setSurface(hls: object, el: Element | undefined): void {
  if (el) surfaces.set(hls, el);
  else surfaces.delete(hls);
  for (const w of watchers.get(hls) ?? []) w(el);
}

export function surfaceOf(hls: object): Element | undefined {
  return surfaces.get(hls);
}

/** Calls `fn` now and whenever the surface of `hls` changes; returns the unsubscribe. */
export function watchSurface(hls: object, fn: Watcher): () => void {
  let set = watchers.get(hls);
  if (!set) watchers.set(hls, (set = new Set()));
  set.add(fn);
  fn(surfaces.get(hls));
  return () => set.delete(fn);
}
