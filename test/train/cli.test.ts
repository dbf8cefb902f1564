import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writePng } from '../../src/encoder/media/png.js';
import { resolvePair } from '../../src/encoder/pairs/index.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { genImage } from './helpers.js';
import { runCli } from '../helpers/cli.js';

const dir = await mkdtemp(join(tmpdir(), 'hcd-train-cli-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const cli = (args: string[]) => runCli(['train', ...args]);

describe('hcd train CLI', () => {
  it('trains, checkpoints, refuses to clobber, resumes and writes a loadable pair', async () => {
    const data = join(dir, 'data');
    await mkdir(data, { recursive: true });
    for (let i = 0; i < 3; i++) {
      const img = genImage(72, 64, i);
      const n = img.width * img.height;
      const rgb = new Uint8Array(3 * n);
      for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) rgb[3 * p + c] = Math.round(img.data[c * n + p] * 255);
      await writePng(join(data, `img${i}.png`), { width: img.width, height: img.height, data: rgb });
    }
    const out = join(dir, 'models', 'tiny-x2');
    const ck = join(dir, 'ck.json');
    const args = ['--scale', '2', '--data', data, '-o', out, '--checkpoint', ck, '--batch', '2', '--crop', '32', '--up-channels', '4', '--up-layers', '1', '--down-channels', '8', '--down-layers', '1', '--threads', '1'];
    const r = await cli([...args, '--steps', '4', '--val-every', '2', '--checkpoint-every', '2', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; step?: number; psnr?: number; psnr420?: number });
    expect(lines[0].event).toBe('start');
    expect(lines.filter((l) => l.event === 'val').map((l) => l.step)).toEqual([2, 4]);
    // the default trains and validates through 4:2:0, and says so
    expect(lines.filter((l) => l.event === 'val').every((l) => Number.isFinite(l.psnr420))).toBe(true);
    expect(lines.at(-1)?.event).toBe('done');
    const pair = await resolvePair(out);
    expect(pair.manifest.scale).toBe(2);
    expect(pair.manifest.provenance).toMatchObject({ steps: 4, chroma: '420' });
    expect(String(pair.manifest.provenance.recipe)).toMatch(/4:2:0/);
    expect(pair.manifest.upscaler.params).toBeLessThan(2000);

    const again = await cli([...args, '--steps', '4']);
    expect(again.status).not.toBe(0);
    expect(again.stderr).toMatch(/^hcd: checkpoint .* exists: pass --resume/);
    const resumed = await cli([...args, '--resume', '--json']);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('"from_step":4');

    // a second stage: U alone from the first run's weights, stopped early on a longer schedule
    const out2 = join(dir, 'models', 'tiny2-x2');
    const ck2 = join(dir, 'ck2.json');
    const stage2 = await cli([...args.map((a) => (a === out ? out2 : a === ck ? ck2 : a)), '--init', ck, '--freeze-down', '--chroma', '444', '--steps', '8', '--stop-after', '3', '--val-every', '0', '--checkpoint-every', '5', '--json']);
    expect(stage2.status, stage2.stderr).toBe(0);
    expect(stage2.stderr).toMatch(/--init: \d+ of \d+ tensors/);
    const p2 = await resolvePair(out2);
    expect(p2.manifest.provenance).toMatchObject({ steps: 3, scheduledSteps: 8, freezeDown: true });
    expect(p2.manifest.provenance.lineage).toMatchObject([
      { steps: 4, scheduledSteps: 4, freezeDown: false, upHidden: 1, chroma: '420' },
      { steps: 3, scheduledSteps: 8, freezeDown: true, upHidden: 1, chroma: '444' },
    ]);
    expect((await loadCheckpoint(ck2)).state.step).toBe(3);
    // D was frozen: the second pair's downscaler is byte-identical to the first's
    expect(Buffer.from(await readFile(join(out2, 'downscaler.onnx'))).equals(await readFile(join(out, 'downscaler.onnx')))).toBe(true);

    // a third: jointly through the real x264, validated through it too
    const out3 = join(dir, 'models', 'tiny3-x2');
    const ck3 = join(dir, 'ck3.json');
    const stage3 = await cli([...args.map((a) => (a === out ? out3 : a === ck ? ck3 : a)), '--init', ck, '--codec', 'x264', '--crf', '30,35', '--rate', '0.02', '--steps', '2', '--val-every', '2', '--json']);
    expect(stage3.status, stage3.stderr).toBe(0);
    const val3 = stage3.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; psnr420?: number; psnrX264?: number; x264Crf?: number }).filter((l) => l.event === 'val');
    expect(val3).toHaveLength(1);
    const step3 = stage3.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; rate?: number }).filter((l) => l.event === 'step');
    expect(step3.every((l) => (l.rate ?? 0) > 0)).toBe(true);
    expect(val3[0].x264Crf).toBe(33);
    // x264 at CRF 33 loses more than 4:2:0 alone
    expect(val3[0].psnrX264).toBeLessThan(val3[0].psnr420 ?? 0);
    expect(val3[0].psnrX264).toBeGreaterThan(10);
    const p3 = await resolvePair(out3);
    expect(p3.manifest.provenance).toMatchObject({ codec: { x264Crf: [30, 35] }, rate: 0.02 });
    expect(String(p3.manifest.provenance.recipe)).toMatch(/real x264 intra at a random CRF 30-35/);
    expect(p3.manifest.provenance.lineage).toMatchObject([{ codec: 'proxy' }, { codec: 'x264', crf: [30, 35], rate: 0.02 }]);
    expect(String(p3.manifest.provenance.recipe)).toMatch(/0\.02\*R\(LR\)/);

    // a fourth from the exported pair folder itself (no checkpoint), with a still head for RGB stills
    const out4 = join(dir, 'models', 'tiny4-x2');
    const stage4 = await cli([...args.map((a) => (a === out ? out4 : a === ck ? join(dir, 'ck4.json') : a)), '--init', out2, '--chroma', 'mix', '--still-head', '--mix-rgb-lossless', '--steps', '2', '--val-every', '2', '--json']);
    expect(stage4.status, stage4.stderr).toBe(0);
    expect(stage4.stderr).toMatch(/--init: (\d+) of \1 tensors .*tiny2-x2 \(step 3\)/);
    const p4 = await resolvePair(out4);
    expect(p4.stillUpscaler).toBeDefined();
    expect(p4.manifest.stillUpscaler).toMatchObject({ file: 'upscaler-still.onnx', params: p4.manifest.upscaler.params });
    expect(existsSync(join(out4, 'upscaler-still.onnx'))).toBe(true);
    expect(p4.manifest.provenance.lineage).toMatchObject([{ steps: 4, freezeDown: false }, { steps: 3, freezeDown: true }, { steps: 2, chroma: 'mix', stillHead: true, mixRgbLossless: true }]);
    expect(String(p4.manifest.description)).toMatch(/still upscaler \(lossless RGB LR\)/);

    // a fifth: a still stage on the second pair; its U is frozen, so upscaler.onnx stays byte for byte
    const out5 = join(dir, 'models', 'tiny5-x2');
    const stage5 = await cli([...args.map((a) => (a === out ? out5 : a === ck ? join(dir, 'ck5.json') : a)), '--init', out2, '--still-stage', '--hide-channels', '4', '--steps', '2', '--val-every', '2', '--json']);
    expect(stage5.status, stage5.stderr).toBe(0);
    const val5 = stage5.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; psnr420?: number }).filter((l) => l.event === 'val');
    expect(Number.isFinite(val5[0].psnr420)).toBe(true);
    const p5 = await resolvePair(out5);
    expect(p5.manifest.lrMultiple).toBe(2);
    expect(p5.stillUpscaler).toBeDefined();
    expect(p5.manifest.downscaler.params).toBeGreaterThan(p2.manifest.downscaler.params);
    expect(Buffer.from(await readFile(join(out5, 'upscaler.onnx'))).equals(await readFile(join(out2, 'upscaler.onnx')))).toBe(true);
    expect(p5.manifest.provenance.lineage).toMatchObject([{ steps: 4 }, { steps: 3 }, { steps: 2, stillStage: true, hideChannels: 4, stillHead: true }]);
    expect(String(p5.manifest.provenance.recipe)).toMatch(/--still-stage/);
  }, 90_000);

  it('rejects bad input with one line and writes nothing', async () => {
    const out = join(dir, 'bad');
    const cases = [
      [['--scale', '3'], /--scale must be 2 or 4/],
      [['--scale', '2', '--crop', '40'], /--crop must be a multiple of 16/],
      [['--scale', '2', '--data', join(dir, 'missing')], /training data .* no such file/],
      [['--scale', '2', '--resume'], /--resume: no checkpoint/],
      [['--scale', '2', '--init', join(dir, 'nope.json')], /--init: no checkpoint or pair folder/],
      [['--scale', '2', '--lossless-prob', '1.5'], /--lossless-prob must be between 0 and 1/],
      [['--scale', '2', '--jpeg-quality', '90,20'], /--jpeg-quality must be MIN,MAX/],
      [['--scale', '2', '--chroma', '422'], /--chroma must be 420, 444 or mix, got '422'/],
      [['--scale', '2', '--mix-420', '0.5'], /--mix-420 sets the share of --chroma mix/],
      [['--scale', '2', '--chroma', 'mix', '--mix-420', '1.2'], /--mix-420 must be between 0 and 1, got 1.2/],
      [['--scale', '2', '--mix-rgb-lossless'], /--mix-rgb-lossless applies to --chroma mix/],
      [['--scale', '2', '--still-head'], /--still-head trains a second upscaler on the RGB samples of --chroma mix/],
      [['--scale', '2', '--still-stage'], /--still-stage adds to a trained pair: give it with --init/],
      [['--scale', '2', '--still-stage', '--chroma', 'mix'], /--still-stage trains on lossless RGB stills with D and U frozen; --chroma does not apply/],
      [['--scale', '2', '--still-stage', '--freeze-down'], /--freeze-down does not apply/],
      [['--scale', '2', '--hide-channels', '8'], /--hide-channels and --hide-layers shape the hiding branch of --still-stage/],
      [['--scale', '2', '--init', dir], /no manifest.json \(a pair is a folder/],
      [['--scale', '2', '--codec', 'x264', '--chroma', 'mix'], /--codec x264 codes 4:2:0 frames and needs --chroma 420, got 'mix'/],
      [['--scale', '2', '--rate', '-1'], /--rate must be a non-negative number/],
      [['--scale', '2', '--codec', 'av1'], /--codec must be proxy or x264, got 'av1'/],
      [['--scale', '2', '--codec', 'x264', '--crf', '35,30'], /--crf must be MIN,MAX integers/],
      [['--scale', '2', '--codec', 'x264', '--crf', '30,60'], /--crf must be MIN,MAX integers with 0 ≤ MIN ≤ MAX ≤ 51/],
      [['--scale', '2', '--crf', '30,34'], /--crf needs --codec x264/],
      [['--scale', '2', '--codec', 'x264', '--crop', '48'], /--codec x264 needs --crop to be a multiple of 32/],
      [['--scale', '2', '--codec', 'x264', '--jpeg-quality', '30,90'], /--jpeg-quality sets the proxy/],
      [['--scale', '2', '--init', join(dir, 'ck.json'), '--resume'], /--init starts a new run and cannot be combined with --resume/],
      [['--scale', '2', '--init', join(dir, 'ck.json'), '--export-only'], /--init starts a new run and cannot be combined with --export-only/],
    ] as const;
    // two commands at a time: each is a tsx start-up, and 27 in a row outlast a loaded machine
    for (let i = 0; i < cases.length; i += 2) {
      const batch = cases.slice(i, i + 2);
      const results = await Promise.all(batch.map(([args]) => cli(['--data', join(dir, 'data'), '-o', out, '--checkpoint', join(dir, 'none.json'), ...args])));
      results.forEach((r, k) => {
        expect(r.status).not.toBe(0);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr).toMatch(batch[k][1]);
      });
    }
    expect(existsSync(out)).toBe(false);
  }, 300_000);
});
