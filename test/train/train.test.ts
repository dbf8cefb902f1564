import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { validationCrops } from '../../src/train/data.js';
import { Rng } from '../../src/shared/rng.js';
import { defaultConfig, initFrom, initialState, lineage, sampleChromaMask, sampleSteps, train, validate, type TrainConfig } from '../../src/train/trainer.js';
import { exportPair } from '../../src/train/export.js';
import { loadInitSource } from '../../src/train/init.js';
import { savePair } from '../../src/encoder/pairs/folder.js';
import { genImage, TINY } from './helpers.js';

const dir = await mkdtemp(join(tmpdir(), 'hcd-train-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const images = [genImage(96, 80, 0), genImage(80, 96, 1), genImage(90, 90, 2)];
const valCrops = validationCrops([genImage(96, 96, 3)], 32, 4);

function config(steps: number): TrainConfig {
  return {
    ...defaultConfig(2, TINY),
    steps,
    batch: 4,
    crop: 32,
    seed: 5,
    // the loop's mechanics on RGB; 4:2:0 has its own test below
    chroma: '444',
    valEvery: 0,
    checkpointEvery: 4,
    adam: { ...defaultConfig(2, TINY).adam, lr: 5e-3, warmup: 2 },
  };
}

describe('hcd train loop', () => {
  it('lowers the loss over 40 steps without hurting held-out crops', async () => {
    const cfg = { ...config(40), losslessProb: 1 };
    const state = initialState(cfg);
    const before = await validate(state.params, TINY, valCrops, 32, 1);
    const losses: number[] = [];
    await train(cfg, { train: images, valCrops, valCrop: 32 }, state, { threads: 1, hooks: { onStep: (s) => losses.push(s.loss) } });
    const after = await validate(state.params, TINY, valCrops, 32, 1);
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    // Adam's first steps move every weight by ~lr and raise the loss; from there it must fall
    const early = mean(losses.slice(1, 9));
    expect(mean(losses.slice(-8))).toBeLessThan(0.8 * early);
    expect(Math.min(...losses.slice(-8))).toBeLessThan(losses[0]);
    // zero-initialised residual bodies: the untrained pair is exactly the bicubic pair, and 40
    // tiny steps must not make it worse (the real gains take hundreds of steps: docs/models.md)
    expect(before.lrPsnr).toBeGreaterThan(60);
    expect(after.psnr).toBeGreaterThan(before.psnr - 0.2);
    expect(after.lrPsnr).toBeGreaterThan(38);
  }, 60_000);

  it('resumes from a checkpoint after a kill with identical weights', async () => {
    const cfg = config(10);
    const data = { train: images, valCrops, valCrop: 32 };
    const full = await train(cfg, data, initialState(cfg), { threads: 1 });
    const ckpt = join(dir, 'ck.json');
    // "killed" after step 6: the last checkpoint is the one of step 4, two steps are lost
    await train(cfg, data, initialState(cfg), { threads: 1, checkpoint: ckpt, hooks: { stopAfter: 6 } });
    const { state } = await loadCheckpoint(ckpt);
    expect(state.step).toBe(4);
    const resumed = await train(cfg, data, state, { threads: 1, checkpoint: ckpt });
    expect(resumed.step).toBe(10);
    for (const [name, p] of full.params) expect(Array.from(resumed.params.get(name)?.data ?? []), name).toEqual(Array.from(p.data));
    for (const [name, s] of full.slots) expect(Array.from(resumed.slots.get(name)?.v ?? []), name).toEqual(Array.from(s.v));
    expect(resumed.rng).toEqual(full.rng);
  }, 60_000);

  it('--freeze-down trains U alone from an earlier run: D stays bit-identical, U improves', async () => {
    const data = { train: images, valCrops, valCrop: 32 };
    const joint = await train({ ...config(30), losslessProb: 1 }, data, initialState(config(30)), { threads: 1 });
    const cfg: TrainConfig = { ...config(40), losslessProb: 1, seed: 9, freezeDown: true, arch: { ...TINY, upHidden: TINY.upHidden + 1 } };
    const state = initialState(cfg);
    const copied = initFrom(state, joint);
    // the extra hidden conv has no counterpart in the earlier run; everything else is copied
    expect(copied.length).toBe(state.params.size - 3);
    expect(copied.some((n) => n.startsWith('up.')) && copied.some((n) => n.startsWith('down.'))).toBe(true);
    const before = await validate(state.params, cfg.arch, valCrops, 32, 1);
    const down0 = new Map([...state.params].filter(([n]) => n.startsWith('down.')).map(([n, p]) => [n, Float32Array.from(p.data)]));
    const up0 = Float32Array.from(state.params.get('up.c0.w')?.data ?? []);
    await train(cfg, data, state, { threads: 1 });
    for (const [n, d] of down0) expect(state.params.get(n)?.data, n).toEqual(d);
    expect(state.params.get('up.c0.w')?.data).not.toEqual(up0);
    const after = await validate(state.params, cfg.arch, valCrops, 32, 1);
    expect(after.lrPsnr).toBeCloseTo(before.lrPsnr, 6);
    expect(after.psnr).toBeGreaterThan(before.psnr);
  }, 60_000);

  it('training through 4:2:0 makes a pair better at what the viewer gets than training on RGB', async () => {
    const data = { train: images, valCrops, valCrop: 32 };
    const run = async (chroma: '420' | '444' | 'mix') => {
      const cfg: TrainConfig = { ...config(40), losslessProb: 1, chroma };
      const state = await train(cfg, data, initialState(cfg), { threads: 1 });
      return validate(state.params, TINY, valCrops, 32, 1, true);
    };
    const via420 = await run('420');
    const viaRgb = await run('444');
    expect(via420.psnr420).toBeDefined();
    // each is best at what it was trained for
    expect(via420.psnr420!).toBeGreaterThan(viaRgb.psnr420! + 0.05);
    expect(viaRgb.psnr).toBeGreaterThan(via420.psnr);
    // chroma mix at a share of 1 or 0 is the 420 or the 444 run (same batches, float rounding
    // apart); at 0.5 it is neither
    const mix = async (mix420: number) => {
      const cfg: TrainConfig = { ...config(40), losslessProb: 1, chroma: 'mix', mix420 };
      return validate((await train(cfg, data, initialState(cfg), { threads: 1 })).params, TINY, valCrops, 32, 1, true);
    };
    const all420 = await mix(1);
    const none420 = await mix(0);
    expect(Math.abs(all420.psnr420! - via420.psnr420!)).toBeLessThan(0.01);
    expect(Math.abs(none420.psnr - viaRgb.psnr)).toBeLessThan(0.01);
    const half = await mix(0.5);
    expect(Math.abs(half.psnr420! - via420.psnr420!)).toBeGreaterThan(0.02);
    expect(Math.abs(half.psnr420! - viaRgb.psnr420!)).toBeGreaterThan(0.005);
  }, 90_000);

  it('a still head learns from the RGB samples of a mix only, U from the 4:2:0 ones', async () => {
    const data = { train: images, valCrops, valCrop: 32 };
    const arch = { ...TINY, stillHead: true };
    const run = async (mix420: number) => {
      const cfg: TrainConfig = { ...config(6), arch, losslessProb: 1, chroma: 'mix', mix420 };
      const state = initialState(cfg);
      const before = new Map([...state.params].map(([n, p]) => [n, Float32Array.from(p.data)]));
      await train(cfg, data, state, { threads: 1 });
      const moved = (prefix: string) => [...state.params].filter(([n]) => n.startsWith(prefix)).some(([n, p]) => p.data.some((v, i) => v !== before.get(n)?.[i]));
      return { up: moved('up.'), still: moved('still.'), down: moved('down.'), state };
    };
    expect(await run(1)).toMatchObject({ up: true, still: false, down: true });
    expect(await run(0)).toMatchObject({ up: false, still: true, down: true });
    const both = await run(0.5);
    expect(both).toMatchObject({ up: true, still: true });
    // lossless validation scores the RGB LR with the still head, the 4:2:0 one with U
    const v = await validate(both.state.params, arch, valCrops, 32, 1, true);
    const asStill = new Map([...both.state.params].filter(([n]) => !n.startsWith('up.')).map(([n, p]) => [n.replace(/^still\./, 'up.'), p]));
    const viaStill = await validate(asStill, TINY, valCrops, 32, 1, true);
    const viaU = await validate(both.state.params, TINY, valCrops, 32, 1, true);
    expect(v.psnr).toBeCloseTo(viaStill.psnr, 6);
    expect(v.psnr420!).toBeCloseTo(viaU.psnr420!, 6);
    expect(Math.abs(v.psnr - viaU.psnr)).toBeGreaterThan(1e-4);
  }, 60_000);

  it('--init from an exported pair folder takes its weights and lineage; a new still head starts as its U', async () => {
    const cfg = { ...config(4), losslessProb: 1 };
    const first = await train(cfg, { train: images, valCrops, valCrop: 32 }, initialState(cfg), { threads: 1 });
    const folder = join(dir, 'pair-x2');
    await savePair(exportPair(first.params, TINY, 'pair-x2', { steps: 4, lineage: lineage(cfg, 4) }), folder);
    const src = await loadInitSource(folder, true);
    expect(src.step).toBe(4);
    expect(src.lineage?.length).toBe(1);
    const next: TrainConfig = { ...config(4), arch: { ...TINY, stillHead: true }, chroma: 'mix' };
    const state = initialState(next);
    const copied = initFrom(state, src);
    expect(copied.length).toBe(state.params.size);
    for (const [n, p] of first.params) {
      expect(state.params.get(n)?.data, n).toEqual(p.data);
      if (n.startsWith('up.')) expect(state.params.get(`still.${n.slice(3)}`)?.data, n).toEqual(p.data);
    }
    next.init = { checkpoint: folder, step: src.step, lineage: src.lineage };
    expect(lineage(next, 4).map((s) => s.stillHead ?? false)).toEqual([false, true]);
    // a still head exported with the pair comes back through the folder
    await savePair(exportPair(state.params, next.arch, 'pair-x2', {}), folder);
    const again = await loadInitSource(folder, true);
    expect([...again.params.keys()].filter((n) => n.startsWith('still.')).length).toBe([...first.params.keys()].filter((n) => n.startsWith('up.')).length);
    await expect(loadInitSource(join(dir, 'nope'), true)).rejects.toThrow(/not a folder/);
  }, 60_000);

  it('chroma mix draws its 4:2:0 share per sample, and --mix-rgb-lossless takes the RGB ones past the codec', () => {
    const cfg: TrainConfig = { ...config(1), batch: 2000, chroma: 'mix', mix420: 0.3, losslessProb: 0, mixRgbLossless: true };
    const rng = new Rng(9);
    const steps = sampleSteps(cfg, rng);
    const coded = steps.slice();
    const mask = sampleChromaMask(cfg, rng, steps);
    const share = mask.reduce((a, m) => a + m, 0) / cfg.batch;
    expect(share).toBeGreaterThan(0.26);
    expect(share).toBeLessThan(0.34);
    for (let b = 0; b < cfg.batch; b++) {
      const st = steps.subarray(b * 192, (b + 1) * 192);
      if (mask[b] === 0) expect(Math.max(...st)).toBeLessThan(1e-5);
      else expect(st).toEqual(coded.subarray(b * 192, (b + 1) * 192));
    }
    // without the flag every sample keeps its codec
    const kept = coded.slice();
    sampleChromaMask({ ...cfg, mixRgbLossless: false }, rng, kept);
    expect(kept).toEqual(coded);
    // a share of 1 draws nothing, so the batches are those of a 420 run
    const before = rng.state();
    expect([...sampleChromaMask({ ...cfg, mix420: 1 }, rng)].every((m) => m === 1)).toBe(true);
    expect(rng.state()).toEqual(before);
  });
});
