import { describe, expect, it } from 'vitest';
import { AdaptiveController } from '../../src/player/adaptive.js';

/** Feeds `frames` frames at `interval` ms with the network taking `infer` ms; returns modes seen and frames upscaled. */
function drive(c: AdaptiveController, frames: number, interval: number, infer: number): { modes: Set<string>; upscaled: number } {
  const modes = new Set<string>();
  let upscaled = 0;
  for (let i = 0; i < frames; i++) {
    c.reportInterval(interval);
    if (c.shouldUpscale()) {
      upscaled++;
      c.reportInference(infer);
    }
    modes.add(c.mode);
  }
  return { modes, upscaled };
}

describe('AdaptiveController', () => {
  it('stays neural while inference fits in the frame interval', () => {
    const c = new AdaptiveController();
    const r = drive(c, 100, 41.7, 20);
    expect([...r.modes]).toEqual(['neural']);
    expect(r.upscaled).toBe(100);
  });

  it('degrades to alternate, then bilinear, as inference slows, and recovers when it speeds up', () => {
    const c = new AdaptiveController();
    drive(c, 40, 41.7, 50); // a bit too slow: every other frame
    expect(c.mode).toBe('alternate');
    const alt = drive(c, 40, 41.7, 50);
    expect(alt.upscaled).toBeGreaterThanOrEqual(19);
    expect(alt.upscaled).toBeLessThanOrEqual(21);

    drive(c, 200, 41.7, 120); // far too slow: bilinear with an occasional probe
    expect(c.mode).toBe('bilinear');
    const bil = drive(c, 120, 41.7, 120);
    expect(bil.upscaled).toBe(10);

    drive(c, 400, 41.7, 10); // fast again
    expect(c.mode).toBe('neural');
  });

  it('ignores single slow frames and gaps from seeks', () => {
    const c = new AdaptiveController();
    drive(c, 20, 41.7, 20);
    c.reportInterval(5000); // a seek, not a frame interval
    c.reportInference(200);
    drive(c, 3, 41.7, 20);
    expect(c.mode).toBe('neural');
    expect(c.intervalMs).toBeCloseTo(41.7, 1);
  });

  it('never degrades when disabled', () => {
    const c = new AdaptiveController({ enabled: false });
    expect(drive(c, 50, 41.7, 500).upscaled).toBe(50);
    expect(c.mode).toBe('neural');
  });
});
