import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, setOptions, types } from 'hls-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beatenAtTop } from '../../src/encoder/ladder/choose.js';
import { PROBE } from '../../src/encoder/ladder/options.js';
import type { LadderReport } from '../../src/encoder/ladder/report.js';
import type { EncodeSummary } from '../../src/encoder/job/summary.js';
import { runFfmpeg } from '../../src/encoder/media/ffmpeg.js';
import { joinSegments, listFiles, makeClip, probeSegment, runCli, runCliInProcess } from '../encoder/helpers.js';

/**
 * The per-title ladder end to end on a real encode: the probe through x264, the choice, the
 * rungs it ships (conventional downscales included), ladder.json with predicted and measured
 * quality, the refusals, and a resume after SIGKILL that gives the same bytes.
 */
setOptions({ strictMode: true });
type Master = InstanceType<typeof types.MasterPlaylist>;

const readLadder = (out: string) => JSON.parse(readFileSync(join(out, 'ladder.json'), 'utf8')) as LadderReport;

describe('hcd encode --ladder auto', () => {
  let dir: string;
  let input: string;
  let out: string;
  let summary: EncodeSummary;
  // 4.5 s at 256x144: two probe windows; 1.5 s segments, three chunks
  const args = (o: string) => ['encode', input, '-o', o, '--model', 'bicubic-x2', '--segment', '1.5', '--gop', '0.5', '--rungs', '4', '--min-kbps', '25', '--max-kbps', '400'];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hcd-ladder-'));
    input = await makeClip(join(dir, 'in.mp4'), { seconds: 4.5, width: 256, height: 144 });
    out = join(dir, 'auto');
    const r = await runCliInProcess([...args(out), '--json']);
    expect(r.code, r.stderr).toBe(0);
    summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as EncodeSummary;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('probes every candidate on windows of the title through x264, each curve rising', () => {
    const l = readLadder(out);
    expect(l.probe.windows).toHaveLength(2);
    expect(l.probe.windows.every((w) => w.frames === 48)).toBe(true);
    expect(l.candidates.map((c) => c.id)).toEqual(['source', '3/4', '1/2', '1/4', 'neural-x2']);
    const [lo, hi] = [Math.min(...l.targets.asked_kbps), Math.max(...l.targets.asked_kbps)];
    for (const c of l.candidates) {
      for (let i = 1; i < c.curve.length; i++) {
        expect(c.curve[i].kbps, c.id).toBeGreaterThan(c.curve[i - 1].kbps);
        expect(c.curve[i].psnr_y, c.id).toBeGreaterThan(c.curve[i - 1].psnr_y);
      }
      // the CRFs past the targets are spared, but every curve reaches past both ends, or ends at
      // the last CRF, or (at the top) where a larger conventional candidate is ahead of it
      const first = c.curve[0];
      const last = c.curve[c.curve.length - 1];
      const larger = l.candidates.filter((o) => o.kind !== 'lr' && o.width * o.height > c.width * c.height).map((o) => o.curve);
      expect(first.kbps <= lo || first.crf === PROBE.crfs.at(-1), c.id).toBe(true);
      expect(last.kbps >= hi || last.crf === PROBE.crfs[0] || beatenAtTop(c.curve, larger, 'psnr_y', 0), c.id).toBe(true);
    }
    expect(l.candidates.reduce((a, c) => a + c.curve.length, 0)).toBeLessThan(l.candidates.length * PROBE.crfs.length);
    // on real pixels: the source at CRF 18 is far better than a quarter-size rung at CRF 48
    expect(l.candidates[0].curve.at(-1)!.psnr_y).toBeGreaterThan(35);
    expect(l.candidates[3].curve[0].psnr_y).toBeLessThan(l.candidates[0].curve.at(-1)!.psnr_y - 10);
    // HCD's own frames are measured on one window against the plain pair the probe used, where a
    // neural rung would be chosen without them; where they are not, no neural advantage clears the sampling error
    if (l.rungs.some((r) => r.candidate.kind === 'lr')) expect(l.probe.proxy).toBeDefined();
    if (l.probe.proxy) expect(l.probe.proxy.hcd.map((p) => p.crf).sort()).toEqual(l.candidates[4].curve.map((p) => p.crf).sort());
    else for (const r of l.rungs) if (r.neural) expect(r.neural.advantage).toBeLessThanOrEqual(2 * r.neural.samplingSe);
  });

  it('ships one rung per target, named for what it is, each chosen with its reason', () => {
    const l = readLadder(out);
    // 25 to 400 kb/s in four steps of 16^(1/3); a default target above what the source reaches moves down to it
    expect(l.targets.asked_kbps).toEqual([25, 63, 159, 400]);
    expect(l.targets.used_kbps.slice(0, 3)).toEqual([25, 63, 159]);
    expect(l.rungs.map((r) => r.target / 1000)).toEqual(l.targets.used_kbps);
    const folders = readdirSync(out).filter((n) => /^(lr|src|down)-/.test(n)).sort();
    expect(l.rungs.map((r) => r.rendition).sort()).toEqual(folders);
    for (const r of l.rungs) {
      expect(r.why.length).toBeGreaterThan(10);
      // the chosen rung is at least as good as the best conventional one, by the metric
      expect(r.predicted.psnr_y).toBeGreaterThanOrEqual(r.bestConventional.psnr_y - 1e-9);
      if (r.candidate.kind === 'lr') expect(r.neural!.advantage).toBeGreaterThan(r.neural!.error);
    }
  });

  it('lists the rungs in both masters (LR only in the main one) at their encoded sizes', async () => {
    const l = readLadder(out);
    const master = parse(readFileSync(join(out, 'master.m3u8'), 'utf8')) as Master;
    const variants = master.variants.filter((v) => !v.isIFrameOnly);
    expect(variants.map((v) => v.uri.split('/')[0]).sort()).toEqual(l.rungs.map((r) => r.rendition).sort());
    for (const r of l.rungs) {
      const v = variants.find((x) => x.uri.startsWith(`${r.rendition}/`))!;
      expect(v.resolution).toEqual({ width: r.candidate.width, height: r.candidate.height });
      const file = joinSegments(join(out, r.rendition), join(dir, `${r.rendition}.mp4`));
      const s = await probeSegment(file);
      expect([s.video?.width, s.video?.height]).toEqual([r.candidate.width, r.candidate.height]);
      expect(s.frames).toBe(108);
    }
    if (existsSync(join(out, 'master-plain.m3u8'))) {
      const plain = parse(readFileSync(join(out, 'master-plain.m3u8'), 'utf8')) as Master;
      expect(plain.variants.every((v) => !v.uri.startsWith('lr-'))).toBe(true);
    }
  });

  it('measures every shipped rung on the whole encode, close to what the probe predicted at that rate', () => {
    const l = readLadder(out);
    expect(l.measured!.map((m) => m.rendition).sort()).toEqual(l.rungs.map((r) => r.rendition).sort());
    for (const m of l.measured!) {
      expect(m.psnr_y).toBeGreaterThan(15);
      expect(m.errorAtRate, m.rendition).not.toBeNull();
      // the probe encodes at constant quality, the encode at a target rate with VBV: close, not equal
      expect(Math.abs(m.errorAtRate!.psnr_y), m.rendition).toBeLessThan(2);
    }
    expect(summary.quality).toEqual(l.measured);
    expect(summary.ladder).toEqual({ report: 'ladder.json', chart: 'ladder.svg' });
    expect(readFileSync(join(out, 'ladder.svg'), 'utf8')).toMatch(/^<svg/);
  });

  it('with --no-neural, the conventional per-title ladder: no LR rung and nothing rescaled', async () => {
    const o = join(dir, 'conventional');
    const r = await runCliInProcess([...args(o), '--no-neural', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as EncodeSummary;
    expect(s.stages.rescale_s).toBe(0);
    const l = readLadder(o);
    expect(l.candidates.some((c) => c.kind === 'lr')).toBe(false);
    expect(l.rungs.every((x) => x.candidate.kind !== 'lr')).toBe(true);
    // the same probe for the conventional candidates: the same curves
    const withNeural = readLadder(out).candidates.filter((c) => c.kind !== 'lr');
    expect(l.candidates).toEqual(withNeural);
  });

  it('refuses bad ladder requests with one line, writing nothing', async () => {
    const cases: [string[], RegExp][] = [
      [['--rungs', '0'], /--rungs must be a whole number >= 1/],
      [['--min-kbps', '500', '--max-kbps', '100'], /--min-kbps \(500\) is above --max-kbps \(100\)/],
      [['--bitrates', '90M'], /target bitrate 90000 kb\/s is outside what the ladder probe reached/],
      [['--metric', 'vmaf', '--vmaf-model', join(dir, 'no-such-model.pkl')], /no such VMAF model/],
      [['--renditions', '100k', '--ladder', 'auto'], /make a fixed ladder; drop --ladder auto/],
    ];
    for (const [extra, message] of cases) {
      const o = join(dir, `bad-${extra[0].slice(2)}`);
      const base = ['encode', input, '-o', o, '--model', 'bicubic-x2', '--segment', '1.5', '--gop', '0.5'];
      const r = await runCliInProcess([...base, ...extra]);
      expect(r.code, extra.join(' ')).not.toBe(0);
      // one error line (a refusal after the probe follows its progress notes)
      expect(r.stderr.trim().split('\n').filter((x) => x.startsWith('hcd:')), extra.join(' ')).toHaveLength(1);
      expect(r.stderr.trim().split('\n').at(-1), extra.join(' ')).toMatch(/^hcd: /);
      expect(r.stderr, extra.join(' ')).toMatch(message);
      expect(existsSync(o) ? readdirSync(o) : [], extra.join(' ')).toEqual([]);
    }
  });

  it('takes a fixed ladder of conventional rungs at sizes of their own, measured with --measure', async () => {
    const o = join(dir, 'apple');
    const r = await runCliInProcess(['encode', input, '-o', o, '--model', 'bicubic-x2', '--segment', '1.5', '--gop', '0.5', '--renditions', '', '--source-renditions', '', '--conventional-renditions', '128x72@40k,256x144@200k', '--measure', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as EncodeSummary;
    expect(s.renditions.map((x) => [x.name, x.resolution])).toEqual([['down-128x72-40k', '128x72'], ['src-200k', '256x144']]);
    expect(s.stages.rescale_s).toBe(0);
    expect(existsSync(join(o, 'ladder.json'))).toBe(false);
    expect(s.quality!.map((q) => q.rendition)).toEqual(['down-128x72-40k', 'src-200k']);
    // a quarter of the pixels at a fifth of the rate: clearly worse, both far from garbage
    expect(s.quality![1].psnr_y - s.quality![0].psnr_y).toBeGreaterThan(2);
    expect(s.quality![0].psnr_y).toBeGreaterThan(20);
    expect(s.quality![0].predicted).toBeNull();
    const big = await runCliInProcess(['encode', input, '-o', join(dir, 'too-big'), '--model', 'bicubic-x2', '--conventional-renditions', '640x360@300k']);
    expect(big.code).not.toBe(0);
    expect(big.stderr).toMatch(/conventional rendition 640x360 is larger than the source \(256x144\)/);
  });

  it('measures a source whose video starts after 0 s frame for frame (as Sintel\'s does)', async () => {
    const late = join(dir, 'late.mp4');
    await runFfmpeg(['-v', 'error', '-i', input, '-itsoffset', '0.033', '-i', input, '-map', '1:v', '-map', '0:a', '-c', 'copy', '-y', late]);
    const o = join(dir, 'late');
    const r = await runCliInProcess(['encode', late, '-o', o, '--model', 'bicubic-x2', '--hcd-iters', '0,0', '--segment', '1.5', '--gop', '0.5', '--renditions', '', '--source-renditions', '2M', '--measure', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as EncodeSummary;
    // a frame of offset between reference and rung would cost far more than 10 dB on testsrc2's motion;
    // 2 Mb/s on 256x144 also gives fragments whose samples share tfhd's default size (mp4.ts)
    expect(s.quality![0].psnr_y).toBeGreaterThan(38);
  });

  it('refuses a VMAF model libvmaf cannot load before any work, with --metric vmaf', async () => {
    const bogus = join(dir, 'bogus.pkl');
    writeFileSync(bogus, 'not a model');
    const o = join(dir, 'bad-model');
    const r = await runCliInProcess(['encode', input, '-o', o, '--model', 'bicubic-x2', '--metric', 'vmaf', '--vmaf-model', bogus]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/VMAF model .*bogus\.pkl failed to load/);
    expect(existsSync(o) ? readdirSync(o) : []).toEqual([]);
  });

  it('refuses a title shorter than one probe window', async () => {
    const short = await makeClip(join(dir, 'short.mp4'), { seconds: 0.75, width: 256, height: 144 });
    const o = join(dir, 'short');
    const r = await runCliInProcess(['encode', short, '-o', o, '--model', 'bicubic-x2']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/shorter than one probe window \(1 s: two of 0.5 s at least\): give a fixed ladder with --renditions/);
    expect(existsSync(o) ? readdirSync(o) : []).toEqual([]);
  });

  it('resumes after SIGKILL to the same bytes, reusing the ladder it chose', async () => {
    const o = join(dir, 'killed');
    let sawChunk = false;
    const killed = await runCli(args(o), {
      onSpawn: (kill) => {
        const timer = setInterval(() => {
          try {
            const s = JSON.parse(readFileSync(join(o, 'state.json'), 'utf8')) as { chunks: unknown[] };
            if (s.chunks.length >= 1) {
              clearInterval(timer);
              sawChunk = true;
              kill('SIGKILL');
            }
          } catch {
            // not there yet
          }
        }, 5);
      },
    });
    expect(sawChunk, 'the encode finished before it could be killed').toBe(true);
    expect(killed.code).not.toBe(0);
    const chosen = statSync(join(o, 'ladder.json')).mtimeMs;
    const r = await runCliInProcess([...args(o), '--resume']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/ladder probe/);
    const files = listFiles(o);
    expect(files).toEqual(listFiles(out));
    for (const f of files) {
      // job.json names its own input path; ladder.json holds the probe's wall time and is rewritten with the measurements
      if (['job.json', 'ladder.json', 'ladder.svg'].includes(f)) continue;
      expect(readFileSync(join(o, f)).equals(readFileSync(join(out, f))), f).toBe(true);
    }
    const a = readLadder(o);
    const b = readLadder(out);
    expect(a.rungs).toEqual(b.rungs);
    expect(a.candidates).toEqual(b.candidates);
    expect(statSync(join(o, 'ladder.json')).mtimeMs).toBeGreaterThanOrEqual(chosen);
  });
});
