/** Synthetic probe results with curves of known shape, for the chooser and the neural stop. */
import { candidatesFor } from '../../src/encoder/ladder/candidates.js';
import { PROBE } from '../../src/encoder/ladder/options.js';
import type { ProbePoint, ProbeResult } from '../../src/encoder/ladder/probe.js';

export const FPS = 24;
export const W = 48; // frames per probe window at 24 fps

/** A curve of q = a + b·log2(kbps) at the probe's CRFs, kbps = base·2^((30-crf)/6), on one window. */
export function points(window: number, base: number, a: number, b: number): ProbePoint[] {
  return PROBE.crfs.map((crf) => {
    const kbps = base * 2 ** ((30 - crf) / 6);
    return { window, crf, bits: kbps * 1000 * (W / FPS), frames: W, psnr_y: a + b * Math.log2(kbps), vmaf: 50 + 5 * Math.log2(kbps) };
  });
}

/** Source, 1/2 and neural candidates on `n` windows; the neural one is `gain(w)` dB above 1/2 on window w. */
export function probeOf(n: number, gain: (w: number) => number, proxyGap = 0): ProbeResult {
  const c = candidatesFor({ width: 640, height: 360 }, 2, true);
  const pick = (id: string) => c.find((x) => x.id === id)!;
  const windows = Array.from({ length: n }, (_, i) => ({ start: i * 100, frames: W }));
  const each = (f: (w: number) => ProbePoint[]) => windows.flatMap((_, w) => f(w));
  return {
    windows,
    candidates: [
      { candidate: pick('source'), points: each((w) => points(w, 200, 10, 3.5)) },
      { candidate: pick('1/2'), points: each((w) => points(w, 60, 16, 2.5)) },
      { candidate: pick('neural-x2'), points: each((w) => points(w, 60, 16 + gain(w), 2.5)) },
    ],
    proxy: { window: Math.floor(n / 2), points: points(Math.floor(n / 2), 60, 16 + gain(Math.floor(n / 2)) - proxyGap, 2.5) },
    seconds: 1,
  };
}

