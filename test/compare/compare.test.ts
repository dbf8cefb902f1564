import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSample } from '../../samples/make-sample.js';
import { bicubicPipeline, resolvePipelines, sourcePipeline } from '../../src/compare/pipelines.js';
import { runCompare, type CompareReport } from '../../src/compare/run.js';
import type { FramePipeline } from '../../src/compare/types.js';
import { measureSize } from '../../src/encoder/media/measure.js';
import { runTool, ffprobePath } from '../../src/encoder/media/ffmpeg.js';
import { readImage } from '../../src/encoder/media/png.js';
import { HcdError } from '../../src/shared/errors.js';
import { rgbToYuv709 } from '../../src/shared/colour.js';
import { psnrPlane, psnrY } from '../../src/shared/metrics.js';
import { cropTarget } from '../../src/compare/crops.js';
import { readFrames } from '../../src/encoder/media/decode.js';
import { runCli } from '../helpers/cli.js';

let dir: string;
let clip: string;
let report: CompareReport;
const CRFS = [18, 28, 38];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hcd-compare-'));
  clip = await makeSample(join(dir, 'clip.mp4'), { seconds: 1, width: 160, height: 96, fps: 12 });
  report = await runCompare({ input: clip, outDir: join(dir, 'out'), crfs: CRFS, pipelines: [sourcePipeline, bicubicPipeline(2)], threads: 1 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('hcd compare, conventional pipelines', () => {
  it('writes report.json/csv/html, streams and crops, and no work folder', async () => {
    const out = join(dir, 'out');
    const names = readdirSync(out).sort();
    expect(names).toEqual(['crops', 'rd.svg', 'report.csv', 'report.html', 'report.json', 'streams']);
    const json = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as CompareReport;
    expect(json.points).toHaveLength(6);
    expect(Object.keys(json.bd_rate_vs_source)).toEqual(['B']);
    expect(Object.keys(json.bd_rate_vs_hull).sort()).toEqual(['A', 'B']);
    expect(json.input).toMatchObject({ width: 160, height: 96, frames: 12, fps: '12/1' });
    expect(json.vmaf.available).toBe(false);
    expect(json.points.every((p) => p.vmaf === null)).toBe(true);
    const csv = (await readFile(join(out, 'report.csv'), 'utf8')).trim().split('\n');
    expect(csv).toHaveLength(7);
    expect(csv[0].split(',')).toContain('psnr_yuv');
    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect((html.match(/<svg/g) ?? []).length).toBe(2);
    // the chart the demo page embeds, on its own
    const svg = await readFile(join(out, 'rd.svg'), 'utf8');
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('PSNR-Y');
    expect(html).toContain('crops/B.png');
    for (const id of ['source', 'A', 'B']) {
      const img = await readImage(join(out, 'crops', `${id}.png`));
      expect([img.width, img.height]).toEqual([report.crops!.width, report.crops!.height]);
    }
  });

  it('measures bitrate from the encoded files', async () => {
    for (const p of report.points) {
      const file = join(dir, 'out', p.file);
      expect(p.file_bytes).toBe((await stat(file)).size);
      // an independent count of the video payload: ffprobe's packet sizes via a different route
      const { stdout } = await runTool(ffprobePath(), ['-v', 'error', '-count_packets', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', file]);
      expect(Number(stdout.toString().trim().replace(/,$/, ''))).toBe(12);
      expect(p.bytes).toBe((await measureSize(file)).payloadBytes);
      expect(p.bytes).toBeLessThan(p.file_bytes);
      expect(p.bytes).toBeGreaterThan(p.file_bytes - 4096);
      expect(p.bitrate_kbps).toBeCloseTo((p.bytes * 8) / 1.0 / 1000, 9);
    }
  });

  it('PSNR-Y/U from ffmpeg agrees with our own colour conversion and PSNR on the decoded pixels', async () => {
    for (const id of ['A', 'B']) {
      const row = report.points.find((p) => p.pipeline === id && p.crf === 28)!;
      const up = id === 'B' ? 'scale=160:96:flags=bicubic' : undefined;
      const src = readFrames(clip, { width: 160, height: 96 });
      const dist = readFrames(join(dir, 'out', row.file), { width: 160, height: 96, filter: up });
      const ys: number[] = [];
      const us: number[] = [];
      const q = (a: Float32Array): Float32Array => a.map(Math.round);
      for await (const s of src) {
        const d = (await dist.next()).value as Uint8Array;
        const ps = rgbToYuv709(s, 160, 96);
        const pd = rgbToYuv709(d, 160, 96);
        ys.push(Math.min(100, psnrPlane(q(ps.y), q(pd.y), 160, 96)));
        us.push(Math.min(100, psnrPlane(q(ps.cb), q(pd.cb), 160, 96)));
      }
      expect(ys).toHaveLength(12);
      const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
      expect(Math.abs(mean(ys) - row.psnr_y)).toBeLessThan(0.1);
      expect(Math.abs(mean(us) - row.psnr_u)).toBeLessThan(0.2);
    }
  });

  it('lower CRF gives higher bitrate and higher quality, and B is encoded at half size', () => {
    for (const id of ['A', 'B']) {
      const pts = report.points.filter((p) => p.pipeline === id).sort((a, b) => a.crf - b.crf);
      expect(pts.map((p) => p.crf)).toEqual(CRFS);
      for (let i = 1; i < pts.length; i++) {
        expect(pts[i].bitrate_kbps).toBeLessThan(pts[i - 1].bitrate_kbps);
        expect(pts[i].psnr_y).toBeLessThan(pts[i - 1].psnr_y);
        expect(pts[i].ssim_y).toBeLessThan(pts[i - 1].ssim_y);
      }
      for (const p of pts) {
        expect(p.psnr_y).toBeGreaterThan(14);
        expect(p.psnr_y).toBeLessThan(60);
        expect(p.psnr_yuv).toBeCloseTo((6 * p.psnr_y + p.psnr_u + p.psnr_v) / 8, 9);
      }
    }
    const a18 = report.points.find((p) => p.pipeline === 'A' && p.crf === 18)!;
    const b18 = report.points.find((p) => p.pipeline === 'B' && p.crf === 18)!;
    expect([b18.width, b18.height]).toEqual([80, 48]);
    // a quarter of the pixels: far fewer bits, and the lost detail costs PSNR
    expect(b18.bitrate_kbps).toBeLessThan(a18.bitrate_kbps / 2);
    expect(b18.psnr_y).toBeLessThan(a18.psnr_y);
  });

  it('crops compare each pipeline at the rendition nearest one bitrate, and their PSNR matches the PNGs', async () => {
    const c = report.crops!;
    for (const id of ['A', 'B']) {
      const mine = report.points.filter((p) => p.pipeline === id);
      const chosen = c.renditions[id];
      const dist = (kbps: number): number => Math.abs(Math.log(kbps / c.target_kbps));
      expect(Math.min(...mine.map((p) => dist(p.bitrate_kbps)))).toBe(dist(chosen.bitrate_kbps));
      const src = await readImage(join(dir, 'out', c.files.source));
      const img = await readImage(join(dir, 'out', c.files[id]));
      expect(psnrY(src.data, img.data, c.width, c.height)).toBeCloseTo(c.psnr_y[id], 9);
      expect(c.psnr_y[id]).toBeGreaterThan(12);
      expect(c.psnr_y[id]).toBeLessThan(60);
    }
    // the target lies inside both pipelines' bitrate ranges when they overlap
    expect(cropTarget([
      { pipeline: 'A', bitrate_kbps: 100 }, { pipeline: 'A', bitrate_kbps: 400 },
      { pipeline: 'B', bitrate_kbps: 25 }, { pipeline: 'B', bitrate_kbps: 200 },
    ])).toBeCloseTo(Math.sqrt(100 * 200), 9);
  });
});

/** A 'frames' pipeline that changes nothing: the plug-in path for learned pairs, end to end. */
const identityFrames: FramePipeline = {
  kind: 'frames',
  id: 'T',
  label: 'identity through the RGB frame path',
  scale: 1,
  downscale: (frames) => frames,
  upscale: (frames) => frames,
};

describe('frame-function pipelines (the learned-pair plug-in)', () => {
  it('an identity frame pipeline measures like A: same colour handling both ways', async () => {
    const r = await runCompare({ input: clip, outDir: join(dir, 'out-t'), crfs: [18, 28], pipelines: [sourcePipeline, identityFrames], threads: 1 });
    for (const crf of [18, 28]) {
      const a = r.points.find((p) => p.pipeline === 'A' && p.crf === crf)!;
      const t = r.points.find((p) => p.pipeline === 'T' && p.crf === crf)!;
      // the RGB round trips (source to RGB to YUV, decoded to RGB to YUV) cost a little, not a lot
      expect(Math.abs(t.psnr_y - a.psnr_y)).toBeLessThan(0.5);
      expect(Math.abs(t.bitrate_kbps / a.bitrate_kbps - 1)).toBeLessThan(0.1);
    }
    expect(Math.abs(r.bd_rate_vs_source.T!)).toBeLessThan(10);
  });

  it('C with the built-in ONNX bicubic pair lands on B (same kernel, through the pair and upscaler code)', async () => {
    const pipelines = await resolvePipelines(['B', 'C'], { scale: 2, model: 'bicubic-x2', threads: 1 });
    const r = await runCompare({ input: clip, outDir: join(dir, 'out-c'), crfs: [20, 32], pipelines, threads: 1 });
    for (const crf of [20, 32]) {
      const b = r.points.find((p) => p.pipeline === 'B' && p.crf === crf)!;
      const c = r.points.find((p) => p.pipeline === 'C' && p.crf === crf)!;
      expect([c.width, c.height]).toEqual([80, 48]);
      expect(Math.abs(c.psnr_y - b.psnr_y)).toBeLessThan(0.5);
      expect(Math.abs(c.bitrate_kbps / b.bitrate_kbps - 1)).toBeLessThan(0.15);
    }
    await expect(resolvePipelines(['C'], { scale: 4, model: 'bicubic-x2' })).rejects.toThrow(/x2, the comparison runs at --scale 4/);
  });

  it('E re-optimizes the LR per rate point through the real codec and beats C at every CRF', async () => {
    const lines: string[] = [];
    const pipelines = await resolvePipelines(['C', 'E'], { scale: 2, model: 'bicubic-x2', hcdIters: [0, 0], codecLoop: { passes: 1, step: 2, radius: 4 }, threads: 1, log: (l) => lines.push(l) });
    expect((pipelines[1] as FramePipeline).sameLrAs).toBe('C');
    const r = await runCompare({ input: clip, outDir: join(dir, 'out-e'), crfs: [24, 34], pipelines, threads: 1 });
    for (const crf of [24, 34]) {
      const c = r.points.find((p) => p.pipeline === 'C' && p.crf === crf)!;
      const e = r.points.find((p) => p.pipeline === 'E' && p.crf === crf)!;
      // strictly better; the size of the gain depends on the machine's float kernels (onnxruntime's
      // MLAS picks them by CPU): +0.049 and +0.030 dB on an AMD EPYC (AVX2), more on others
      expect(e.psnr_y, `crf ${crf}`).toBeGreaterThan(c.psnr_y);
    }
    // one loop line per keyframe interval and rate point (12 frames at 12 fps: one interval)
    expect(lines.filter((l) => /E crf \d+: PSNR after the codec/.test(l))).toHaveLength(2);
    expect(r.bd_rate_vs_source.E).toBeUndefined();
    expect(r.pipelines.map((p) => p.id)).toEqual(['C', 'E']);
  });

  it('hull CRFs extend A and B only; the low-bitrate range and the hull gaps are reported', async () => {
    const [C] = await resolvePipelines(['C'], { scale: 2, model: 'bicubic-x2', threads: 1 });
    const r = await runCompare({ input: clip, outDir: join(dir, 'out-h'), crfs: [18, 26, 34], hullCrfs: [42, 51], pipelines: [sourcePipeline, bicubicPipeline(2), C], threads: 1 });
    const crfs = (id: string) => r.points.filter((p) => p.pipeline === id).map((p) => p.crf);
    expect(crfs('A')).toEqual([18, 26, 34, 42, 51]);
    expect(crfs('B')).toEqual([18, 26, 34, 42, 51]);
    expect(crfs('C')).toEqual([18, 26, 34]);
    expect(r.bd.hull_crfs).toEqual([42, 51]);
    // the low range is C's two cheapest points (ceil(3/2) = 2): CRF 26 and 34
    const c = (crf: number) => r.points.find((p) => p.pipeline === 'C' && p.crf === crf)!;
    expect(r.bd_low_range.C.kbps).toEqual([c(34).bitrate_kbps, c(26).bitrate_kbps]);
    expect(r.bd_low_range.C.psnr_y).toEqual([c(34).psnr_y, c(26).psnr_y]);
    expect(Number.isFinite(r.bd_rate_vs_hull_low.C)).toBe(true);
    // the hull is A and B: each is >= 0 against it on the low range too
    expect(r.bd_rate_vs_hull_low.A!).toBeGreaterThanOrEqual(-1e-6);
    expect(r.bd_rate_vs_hull_low.B!).toBeGreaterThanOrEqual(-1e-6);
    // A down to CRF 51 covers every quality C reaches: nothing is extrapolated
    expect(r.hull_gap_share.C).toEqual({ full: 0, low: 0 });
    const html = await readFile(join(dir, 'out-h', 'report.html'), 'utf8');
    expect(html).toContain('low-bitrate range');
  });

  it('unknown pipelines are a clear error', async () => {
    await expect(resolvePipelines(['Z'], { scale: 2 })).rejects.toThrow(HcdError);
  });
});

describe('hcd compare CLI', () => {
  const cli = (args: string[]) => runCli(['compare', ...args]);

  it('fails with one line and a non-zero exit on bad input, writing nothing', async () => {
    const out = join(dir, 'cli-missing');
    const r = await cli([join(dir, 'missing.mp4'), '-o', out]);
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/no such input/);
    expect(existsSync(out)).toBe(false);
    const bad = await cli([clip, '-o', out, '--crf', '22']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/at least two/);
  });

  it('--json prints the report on stdout, progress on stderr', async () => {
    const r = await cli([clip, '-o', join(dir, 'cli-out'), '--crf', '24,36', '--pipelines', 'A', '--threads', '1', '--json']);
    expect(r.status).toBe(0);
    const json = JSON.parse(r.stdout) as CompareReport;
    // A also at the default hull CRFs
    expect(json.points.map((p) => p.crf)).toEqual([24, 36, 42, 46, 51]);
    const none = await cli([clip, '-o', join(dir, 'cli-out2'), '--crf', '24,36', '--hull-crf', 'none', '--pipelines', 'A', '--threads', '1', '--json']);
    expect((JSON.parse(none.stdout) as CompareReport).points.map((p) => p.crf)).toEqual([24, 36]);
    const bad = await cli([clip, '-o', join(dir, 'cli-out3'), '--hull-crf', '60']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--hull-crf wants integers 0-51/);
    expect(r.stderr).toContain('[compare]');
  });
});
