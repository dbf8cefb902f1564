import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config.js';
import { chooseRungs } from '../../src/encoder/ladder/choose.js';
import { PROBE } from '../../src/encoder/ladder/options.js';
import { runProbe, type ProbeResult, type ProbeSettings } from '../../src/encoder/ladder/probe.js';
import { lossesToStop, lostOn, NeuralStop } from '../../src/encoder/ladder/stop.js';
import { fitToScale, probeSource } from '../../src/encoder/media/probe.js';
import { loadPair } from '../../src/encoder/pairs/load.js';
import { makeClip } from '../encoder/helpers.js';
import { FPS, probeOf } from './synthetic.js';

const LOW = { min: 40_000, max: 40_000 };
const margin = PROBE.margin.psnr_y;
const noProxy = (p: ProbeResult): ProbeResult => ({ ...p, proxy: undefined });

describe('when the probe stops measuring the neural candidate', () => {
  it('needs one lost window of two or three, two of four, three of five', () => {
    expect([2, 3, 4, 5, 6].map((n) => lossesToStop(n, PROBE.z))).toEqual([1, 1, 2, 3, 4]);
  });

  it('leaves the chooser no neural rung once that many windows are lost, however far ahead the others are', () => {
    for (let n = 2; n <= 6; n++) {
      const j = lossesToStop(n, PROBE.z);
      for (const far of [0.5, 5, 50, 500]) {
        const p = noProxy(probeOf(n, (w) => (w < j ? -0.2 : far)));
        for (let w = 0; w < j; w++) expect(lostOn(p.candidates, w, LOW, FPS, 'psnr_y', margin)).toBe(true);
        expect(chooseRungs(p, [40_000], FPS, 'psnr_y')[0].candidate.kind, `${n} windows, ${far} dB`).not.toBe('lr');
      }
      // one lost window fewer, and far enough ahead on the others, the neural rung is chosen:
      // the count is the least that rules it out
      if (j > 1) expect(chooseRungs(noProxy(probeOf(n, (w) => (w < j - 1 ? -0.2 : 500))), [40_000], FPS, 'psnr_y')[0].candidate.kind).toBe('lr');
    }
  });

  it('holds for any windows: with that many lost, random advantages elsewhere never clear the error', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 300; trial++) {
      const n = 2 + (trial % 5);
      const j = lossesToStop(n, PROBE.z);
      const gains = Array.from({ length: n }, (_, w) => (w < j ? -margin - rand() * 2 : rand() * 10 ** (rand() * 3)));
      expect(chooseRungs(noProxy(probeOf(n, (w) => gains[w])), [40_000], FPS, 'psnr_y')[0].candidate.kind, gains.join(' ')).not.toBe('lr');
    }
  });

  it('counts a window as lost only below the best conventional candidate by the margin at every rate of the targets', () => {
    const lost = (gain: number, range = { min: 40_000, max: 150_000 }) => lostOn(probeOf(1, () => gain).candidates, 0, range, FPS, 'psnr_y', margin);
    expect(lost(-0.3)).toBe(true);
    expect(lost(-margin / 2)).toBe(false);
    // ahead at 40 kb/s, behind the source at 150 kb/s: not lost
    expect(lost(0.3)).toBe(false);
    // behind 1/2 by 0.3 dB, but the source does not reach 20 kb/s and 1/2 is measured down to 7.5: still lost
    expect(lost(-0.3, { min: 20_000, max: 40_000 })).toBe(true);
    // no candidate reaches 3 kb/s: nothing to say there
    expect(lost(-0.3, { min: 3_000, max: 40_000 })).toBe(false);
    // past its top rate the neural candidate counts at its best: behind the source at 1 Mb/s
    expect(lost(-0.3, { min: 40_000, max: 700_000 })).toBe(true);
  });

  it('judges windows in order, whichever finishes first', () => {
    const p = probeOf(3, (w) => (w === 1 ? -0.3 : 0.3));
    const stop = new NeuralStop(3, { range: LOW, fps: FPS, metric: 'psnr_y' });
    // window 1 is lost, but window 0 is not judged yet
    expect(stop.finished(p.candidates, 1)).toBe(false);
    expect(stop.stopped).toBe(false);
    // window 0 is not lost; then window 1 is judged, and stops it
    expect(stop.finished(p.candidates, 0)).toBe(true);
    expect(stop.signal.aborted).toBe(true);
    expect(stop.verdict).toEqual({ windows: [1], of: 3, margin });
    expect(stop.last).toBe(1);
    // a window reported after the stop changes nothing
    expect(stop.finished(p.candidates, 2)).toBe(false);
  });
  it('needs as many lost windows as the bound asks, and ends without a verdict when cancelled', () => {
    const stop = new NeuralStop(4, { range: LOW, fps: FPS, metric: 'psnr_y' });
    const lost = probeOf(4, () => -0.3).candidates;
    expect(stop.needed).toBe(2);
    expect(stop.finished(lost, 0)).toBe(false);
    expect(stop.finished(lost, 1)).toBe(true);
    expect(stop.verdict).toEqual({ windows: [0, 1], of: 4, margin });
    const failed = new NeuralStop(3, { range: LOW, fps: FPS, metric: 'psnr_y' });
    failed.cancel();
    expect(failed.signal.aborted).toBe(true);
    expect(failed.verdict).toBeUndefined();
    expect(failed.last).toBeUndefined();
  });
});

describe('the probe with the neural stop, on a real clip', () => {
  let dir: string;
  let with_: ProbeResult;
  let without: ProbeResult;
  // rates a 128x72 rung reaches, where the source is far ahead of it: the pair loses on the first window
  const range = { min: 50_000, max: 140_000 };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hcd-stop-'));
    const input = await makeClip(join(dir, 'in.mp4'), { seconds: 4.5, width: 256, height: 144, audio: false });
    const src = await probeSource(input);
    const geo = fitToScale(src.width, src.height, 2);
    const pair = await loadPair('bicubic-x2');
    const probe = (stopNeural: boolean) => {
      const o: ProbeSettings = { pair, hcdIters: DEFAULTS.encode.hcdIters, neural: true, preset: DEFAULTS.encode.preset, gop: 12, work: mkdtempSync(join(dir, 'w-')), range, stopNeural, threads: 2, needsProxy: () => false };
      return runProbe({ input, fpsNum: src.fpsNum, fpsDen: src.fpsDen, total: Math.floor(src.duration * 24), hr: geo, decode: { rate: `${src.fpsNum}/${src.fpsDen}`, matrix: src.matrix, range: src.range, filter: geo.crop } }, o);
    };
    with_ = await probe(true);
    without = await probe(false);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('stops after the first window, measuring the pair there only', () => {
    expect(with_.neuralStop).toEqual({ windows: [0], of: 2, margin });
    const neural = (r: ProbeResult) => r.candidates.find((e) => e.candidate.kind === 'lr')!.points;
    expect(new Set(neural(with_).map((p) => p.window))).toEqual(new Set([0]));
    expect(neural(without).length).toBeGreaterThan(neural(with_).length);
    expect(new Set(neural(without).map((p) => p.window))).toEqual(new Set([0, 1]));
    // the conventional candidates are measured as without the stop, point for point
    for (let i = 0; i < 4; i++) expect(with_.candidates[i].points).toEqual(without.candidates[i].points);
  });

  it('chooses the same rungs with the same predictions as the probe without it', () => {
    const targets = [50_000, 84_000, 140_000];
    const a = chooseRungs(with_, targets, 24, 'psnr_y');
    const b = chooseRungs(without, targets, 24, 'psnr_y');
    expect(a.map((r) => [r.candidate.id, r.predicted])).toEqual(b.map((r) => [r.candidate.id, r.predicted]));
    expect(a.every((r) => r.candidate.kind !== 'lr')).toBe(true);
    expect(a[0].why).toMatch(/lost to the best conventional one by more than 0.100 dB at every rate of the targets on 1 of 2 windows/);
    // and without the stop, the neural rung loses wherever it reaches (its CRFs capped where the
    // source is ahead of it, crfs.ts)
    expect(b.some((r) => r.neural)).toBe(true);
    expect(b.every((r) => !r.neural || r.neural.advantage < 0)).toBe(true);
  });
});
