import type { BackendInfo, FallbackInfo, HcdStats } from './types.js';

/** The player's events, named like hls.js's `Hls.Events`; the values are the plain names ('stats', ...). */
export enum Events {
  /** The network runs: `BackendInfo` (backend and where its output goes). */
  BACKEND = 'backend',
  /** Every `statsIntervalMs`: `HcdStats`. */
  STATS = 'stats',
  /** The player falls back (to WASM, or to bilinear): `FallbackInfo` with the reason. */
  FALLBACK = 'fallback',
}

/** An event's name: an `Events` member or its string value. */
export type EventName = `${Events}`;

export interface HcdEvents {
  backend: BackendInfo;
  stats: HcdStats;
  fallback: FallbackInfo;
}

/** Listeners get the event's name and its data, as hls.js's do. */
export type HcdListener<K extends EventName> = (event: K, data: HcdEvents[K]) => void;
