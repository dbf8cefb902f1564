import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync, copyFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSample } from '../../samples/make-sample.js';
import { resolvePipelines } from '../../src/compare/pipelines.js';
import { runCompare } from '../../src/compare/run.js';
import { resolveVmaf } from '../../src/encoder/media/vmaf.js';
import { fileArg, runFfmpeg } from '../../src/encoder/media/ffmpeg.js';
import { libvmafApi, libvmafApiOf, parseVmafLog, percentile, vmafFilter } from '../../src/encoder/media/quality.js';
import { HcdError } from '../../src/shared/errors.js';

/** Netflix's model for tests and benches; never copied into the repo. */
const MODEL = '/work/shared/data/vmaf/vmaf_v0.6.1.pkl';
const HAVE_MODEL = existsSync(MODEL) && existsSync(`${MODEL}.model`);
if (!HAVE_MODEL) console.warn(`VMAF value tests skipped: no model at ${MODEL} (with .model beside it)`);

let dir: string;
let clip: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hcd-vmaf-'));
  clip = await makeSample(join(dir, 'clip.mp4'), { seconds: 1, width: 160, height: 96, fps: 12 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const frame = (n: number, vmaf: number) => ({ frameNum: n, metrics: { adm2: 0.9, motion2: 1, vmaf } });

describe('libvmaf logs: parsing and pooling', () => {
  it('libvmaf 1.3.x: per-frame scores only, pooled into the mean and the 5th percentile', () => {
    const scores = [100, 10, 90, 20, 80, 30, 70, 40, 60, 50];
    const log = { version: '1.3.7', params: { model: 'vmaf_v0.6.1.pkl' }, metrics: ['vmaf'], frames: scores.map((s, i) => frame(i, s)) };
    const r = parseVmafLog(JSON.stringify(log));
    expect(r.mean).toBeCloseTo(55, 12);
    // numpy's linear percentile: position 0.05 * 9 = 0.45 between 10 and 20
    expect(r.p5).toBeCloseTo(14.5, 12);
    expect(r).toMatchObject({ frames: 10, version: '1.3.7' });
    expect(percentile([3], 5)).toBe(3);
    expect(percentile([1, 2, 3, 4, 5], 50)).toBe(3);
  });

  it('libvmaf 2.x: per-frame scores win over pooled_metrics, which serve a log without them', () => {
    const frames = [frame(0, 90), frame(1, 94), frame(2, 98)];
    const pooled = { vmaf: { min: 90, max: 98, mean: 94.000001, harmonic_mean: 93.9 } };
    const r = parseVmafLog(JSON.stringify({ version: '2.3.1', fps: 50, frames, pooled_metrics: pooled, aggregate_metrics: {} }));
    expect(r.mean).toBeCloseTo(94, 12);
    expect(r.p5).toBeCloseTo(90.4, 12);
    expect(r.version).toBe('2.3.1');
    const noFrames = parseVmafLog(JSON.stringify({ version: '2.3.1', pooled_metrics: pooled }));
    expect(noFrames).toMatchObject({ mean: 94.000001, p5: null, frames: 0 });
    // the standalone 1.x tool's aggregate
    expect(parseVmafLog(JSON.stringify({ aggregate: { VMAF_score: 71.5 } })).mean).toBe(71.5);
  });

  it('a log without scores is an error, not a null', () => {
    expect(() => parseVmafLog('{"version":"1.3.7","frames":[]}')).toThrow(/neither per-frame nor pooled/);
    expect(() => parseVmafLog(JSON.stringify({ frames: [frame(0, 50), { frameNum: 1, metrics: {} }] }))).toThrow(/without a vmaf score/);
    expect(() => parseVmafLog('VMAF score = 50')).toThrow(/not JSON/);
  });

  it('reads the model option from the filter help: model (2.x, built-in models) or model_path (1.x)', async () => {
    const v1 = 'Filter libvmaf\nlibvmaf AVOptions:\n  model_path        <string>     ..FV..... Set the model\n  log_path          <string>\n';
    const v2 = 'Filter libvmaf\nlibvmaf AVOptions:\n   model_path        <string>     ..FV....... use model=\'path=...\'. (deprecated)\n   model             <string>     ..FV....... Set the model (default "version=vmaf_v0.6.1")\n';
    expect(libvmafApiOf(v1)).toBe('model_path');
    expect(libvmafApiOf(v2)).toBe('model');
    expect(libvmafApiOf("Unknown filter 'libvmaf'.")).toBeUndefined();
    // the bundled ffmpeg 4.1 has libvmaf 1.3.7 (FFMPEG_PATH may point elsewhere)
    if (!process.env.FFMPEG_PATH) expect(await libvmafApi()).toBe('model_path');
    expect(vmafFilter({ api: 'model', builtin: 'vmaf_v0.6.1' }, '/t/v.json', 2)).toBe('libvmaf=model=version=vmaf_v0.6.1:log_fmt=json:log_path=/t/v.json:n_threads=2');
    // a path inside the 2.x model value is parsed twice, so its ':' is escaped twice
    expect(vmafFilter({ api: 'model', file: '/m/a:b.json' }, '/t/v.json', 1)).toBe('libvmaf=model=path=/m/a\\\\\\:b.json:log_fmt=json:log_path=/t/v.json:n_threads=1');
    expect(vmafFilter({ api: 'model_path', file: '/m/v.pkl' }, '/t/v.json', 1)).toBe('libvmaf=model_path=/m/v.pkl:log_fmt=json:log_path=/t/v.json:n_threads=1');
  });
});

describe('VMAF model choice', () => {
  it('a model that fails to load is one line, before anything is written', async () => {
    const bad = join(dir, 'garbage.pkl');
    writeFileSync(bad, 'not a model\n');
    writeFileSync(`${bad}.model`, 'not an svm either\n');
    const err = await resolveVmaf(bad, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HcdError);
    expect((err as Error).message).toMatch(/^VMAF model .*garbage.pkl failed to load: /);
    expect((err as Error).message).not.toContain('\n');
    await expect(resolveVmaf(join(dir, 'absent.pkl'), {})).rejects.toThrow(/no such VMAF model: .*absent.pkl/);
    await expect(resolveVmaf(undefined, { HCD_VMAF_MODEL: join(dir, 'absent.pkl') })).rejects.toThrow(/absent.pkl \(from HCD_VMAF_MODEL\)/);
    const out = join(dir, 'cli-bad');
    const r = spawnSync(process.execPath, ['bin/hcd.js', 'compare', clip, '-o', out, '--vmaf-model', bad, '--crf', '24,36'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/failed to load/);
    expect(existsSync(out)).toBe(false);
  });

  it.skipIf(!HAVE_MODEL)('a .pkl without its .model beside it says so', async () => {
    const lone = join(dir, 'lone.pkl');
    copyFileSync(MODEL, lone);
    await expect(resolveVmaf(lone, {})).rejects.toThrow(/failed to load: .*lone.pkl.model beside it, which is missing\)$/);
  });

  it('no model given: unavailable with the reason (libvmaf 1.x has no built-in model)', async () => {
    if (process.env.FFMPEG_PATH) return;
    const r = await resolveVmaf(undefined, {});
    expect(r.model).toBeUndefined();
    expect(r.report.available).toBe(false);
    expect(r.report.reason).toMatch(/libvmaf 1.x.*--vmaf-model FILE.*HCD_VMAF_MODEL/);
  });

  it.skipIf(!HAVE_MODEL)('--vmaf-model wins over HCD_VMAF_MODEL, which is used without it', async () => {
    const fromEnv = await resolveVmaf(undefined, { HCD_VMAF_MODEL: MODEL });
    expect(fromEnv.report).toMatchObject({ available: true, model: MODEL, model_from: 'HCD_VMAF_MODEL', libvmaf: '1.3.7' });
    const fromFlag = await resolveVmaf(MODEL, { HCD_VMAF_MODEL: join(dir, 'garbage.pkl') });
    expect(fromFlag.report.model_from).toBe('--vmaf-model');
  });
});

describe.skipIf(!HAVE_MODEL)(`VMAF values with ${MODEL}`, () => {
  it('parses a real libvmaf log: per-frame scores pooled to what libvmaf prints', async () => {
    const dist = join(dir, 'blur.y4m');
    await runFfmpeg(['-i', fileArg(clip), '-vf', 'boxblur=1,format=yuv420p', fileArg(dist)]);
    const log = join(dir, 'vmaf.json');
    const { stdout, stderr } = await runFfmpeg(['-i', fileArg(dist), '-i', fileArg(clip), '-lavfi', `[0:v][1:v]${vmafFilter({ api: 'model_path', file: MODEL }, log, 1)}`, '-f', 'null', '-']);
    const printed = Number(/VMAF score[:=] *([\d.]+)/.exec(stdout.toString() + stderr)?.[1]);
    const r = parseVmafLog(await readFile(log, 'utf8'));
    expect(r.frames).toBe(12);
    expect(r.version).toBe('1.3.7');
    // the log rounds per-frame scores to 5 decimals; libvmaf's own mean is unrounded
    expect(Math.abs(r.mean - printed)).toBeLessThan(1e-3);
    expect(r.p5!).toBeLessThanOrEqual(r.mean);
    expect(r.mean).toBeGreaterThan(20);
    expect(r.mean).toBeLessThan(100);
  });

  it('hcd compare measures VMAF per rendition and reports VMAF BD-rates against A and the hull', async () => {
    const vmaf = await resolveVmaf(MODEL, {});
    const pipelines = await resolvePipelines(['A', 'B', 'B4'], { scale: 2 });
    const out = join(dir, 'out');
    const r = await runCompare({ input: clip, outDir: out, crfs: [18, 30, 42], pipelines, vmaf, threads: 1 });
    expect(r.vmaf).toMatchObject({ available: true, model: MODEL, model_from: '--vmaf-model', libvmaf: '1.3.7' });
    for (const p of r.points) {
      expect(p.vmaf).toBeGreaterThan(0);
      expect(p.vmaf).toBeLessThanOrEqual(100);
      expect(p.vmaf_p5!).toBeLessThanOrEqual(p.vmaf! + 1e-9);
    }
    const a = (crf: number) => r.points.find((p) => p.pipeline === 'A' && p.crf === crf)!;
    expect(a(18).vmaf!).toBeGreaterThan(a(42).vmaf!);
    const v = r.bd_rate_other_metrics.vmaf!;
    expect(Object.keys(v.vs_source).sort()).toEqual(['B', 'B4']);
    expect(Object.keys(v.vs_hull).sort()).toEqual(['A', 'B', 'B4']);
    for (const id of ['A', 'B', 'B4']) {
      expect(v.vs_hull[id]!).toBeGreaterThanOrEqual(-1e-6);
      expect(v.vs_hull_low[id]!).toBeGreaterThanOrEqual(-1e-6);
    }
    const csv = (await readFile(join(out, 'report.csv'), 'utf8')).trim().split('\n');
    const header = csv[0].split(',');
    for (const c of ['vmaf', 'vmaf_p5', 'bd_vs_source_vmaf', 'bd_vs_hull_vmaf', 'bd_vs_hull_low_vmaf']) expect(header).toContain(c);
    const b = csv.slice(1).map((l) => l.split(',')).find((cells) => cells[0] === 'B')!;
    expect(Number(b[header.indexOf('bd_vs_hull_vmaf')])).toBeCloseTo(v.vs_hull.B!, 4);
    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect(html).toContain('BD-rate (VMAF');
    expect(html).toContain(MODEL);
    expect((html.match(/<svg/g) ?? []).length).toBe(3);
  });
});
