import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFfmpeg } from '../../src/encoder/media/ffmpeg.js';
import { readFrames } from '../../src/encoder/media/decode.js';
import { parseAttributes } from '../../src/encoder/job/playlist.js';
import { createSession, ort } from '../../src/encoder/graph/session.js';
import { resolvePair } from '../../src/encoder/pairs/index.js';
import { PairRescaler } from '../../src/encoder/pairs/runtime.js';
import { SESSION_DATA_ID } from '../../src/shared/hls.js';
import { parseManifest, UpscalerManifest } from '../../src/shared/manifest.js';
import { joinSegments, luma, makeClip, probeSegment, psnr, readMediaPlaylist, runCli } from './helpers.js';

const AVC_PROFILE: Record<string, number> = { High: 0x64, Main: 0x4d, Baseline: 0x42, 'Constrained Baseline': 0x42 };

describe('hcd encode, end to end', () => {
  let dir: string;
  let input: string;
  let out: string;
  let stdout: string;
  let stderr: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hcd-encode-'));
    // 94 rows: not a multiple of 2*scale, so the crop policy is exercised (-> 168x92, LR 84x46)
    input = await makeClip(join(dir, 'in.mp4'), { seconds: 2, width: 168, height: 94 });
    out = join(dir, 'out');
    const r = await runCli(['encode', input, '-o', out, '--model', 'bicubic-x2', '--segment', '1', '--renditions', '100k,400k', '--source-renditions', '500k', '--json']);
    stdout = r.stdout;
    stderr = r.stderr;
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports progress as JSON lines and a summary last', () => {
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const last = lines.at(-1)!;
    expect(last.done).toBe(true);
    expect(last.frames).toBe(48);
    expect(Number(last.fps)).toBeGreaterThan(0);
    const names = (last.renditions as { name: string }[]).map((r) => r.name);
    expect(names).toEqual(['lr-100k', 'lr-400k', 'src-500k']);
    const progress = lines.slice(0, -1);
    expect(progress.length).toBeGreaterThan(0);
    for (const p of progress) expect(Object.keys(p).sort()).toEqual(['eta_s', 'fps', 'frame', 'of']);
    expect(progress.at(-1)!.frame).toBe(48);
    expect(stderr).toMatch(/decode [\d.]+ s, rescale [\d.]+ s, encode [\d.]+ s/);
    // nothing temporary is left behind
    expect(existsSync(join(out, '.work'))).toBe(false);
  });

  it('writes a master playlist whose attributes match what ffprobe measures', async () => {
    const master = readFileSync(join(out, 'master.m3u8'), 'utf8').split('\n');
    expect(master[0]).toBe('#EXTM3U');
    const session = master.find((l) => l.startsWith('#EXT-X-SESSION-DATA:'));
    expect(parseAttributes(session!)).toEqual({ 'DATA-ID': SESSION_DATA_ID, URI: 'upscaler/manifest.json' });
    const variants = master.flatMap((l, i) => (l.startsWith('#EXT-X-STREAM-INF:') ? [{ attrs: parseAttributes(l), uri: master[i + 1] }] : []));
    // the first variant is where a player without its own choice starts: the source-size rung
    expect(variants.map((v) => v.uri)).toEqual(['src-500k/index.m3u8', 'lr-100k/index.m3u8', 'lr-400k/index.m3u8']);
    for (const v of variants) {
      const pl = readMediaPlaylist(join(out, v.uri));
      expect(pl.ended).toBe(true);
      expect(pl.type).toBe('VOD');
      expect(pl.segments.map((s) => s.duration)).toEqual([1, 1]);
      const vdir = join(out, v.uri, '..');
      // the variant's audio is its group's rendition, fetched alongside each segment
      const adir = join(out, v.attrs.AUDIO);
      const audio = readMediaPlaylist(join(adir, 'index.m3u8'));
      let frames = 0;
      let peak = 0;
      let bits = 0;
      for (const [k, s] of pl.segments.entries()) {
        const seg = join(vdir, s.uri);
        const p = await probeSegment(joinSegments(vdir, join(dir, 'probe.mp4'), [s.uri]));
        expect(p.video?.codec_name).toBe('h264');
        expect(p.audio).toBeUndefined();
        const a = await probeSegment(joinSegments(adir, join(dir, 'probe-audio.mp4'), [audio.segments[k].uri]));
        expect(a.audio?.codec_name).toBe('aac');
        expect(a.audio?.profile).toBe('LC');
        expect(v.attrs.RESOLUTION).toBe(`${p.video!.width}x${p.video!.height}`);
        const [profile, level] = [AVC_PROFILE[p.video!.profile!], p.video!.level!];
        expect(v.attrs.CODECS).toMatch(new RegExp(`^avc1\\.${profile.toString(16)}[0-9a-f]{2}${level.toString(16).padStart(2, '0')},mp4a\\.40\\.2$`));
        expect(p.video!.color_space).toBe('bt709');
        expect(p.video!.color_range).toBe('tv');
        frames += p.frames;
        const size = (statSync(seg).size + statSync(join(adir, audio.segments[k].uri)).size) * 8;
        peak = Math.max(peak, size / s.duration);
        bits += size;
      }
      expect(frames).toBe(48);
      expect(Number(v.attrs.BANDWIDTH)).toBe(Math.ceil(peak));
      expect(Number(v.attrs['AVERAGE-BANDWIDTH'])).toBe(Math.ceil(bits / 2));
      expect(Number(v.attrs['FRAME-RATE'])).toBe(24);
      // the whole variant decodes without a single error
      const { stderr: errs } = await runFfmpeg(['-v', 'error', '-i', join(out, v.uri), '-f', 'null', '-']);
      expect(errs.trim()).toBe('');
    }
    const lr = variants.filter((v) => v.attrs['X-UPSCALE']);
    expect(lr.map((v) => v.attrs.RESOLUTION)).toEqual(['84x46', '84x46']);
    for (const v of lr) expect([v.attrs['X-UPSCALE'], v.attrs['X-HCD-MODEL']]).toEqual(['2', 'bicubic-x2']);
    expect(variants[0].attrs.RESOLUTION).toBe('168x92');
    expect(variants[0].attrs['X-UPSCALE']).toBeUndefined();
    // a higher requested bitrate gives a higher measured one
    expect(Number(lr[1].attrs['AVERAGE-BANDWIDTH'])).toBeGreaterThan(Number(lr[0].attrs['AVERAGE-BANDWIDTH']));
  });

  it('carries the LR frames the rescaler produced, through x264, to within a PSNR bound', async () => {
    const pair = await resolvePair('bicubic-x2');
    const rescaler = await PairRescaler.create(pair, { threads: 1 });
    const expected: Uint8Array[] = [];
    let i = 0;
    for await (const f of readFrames(input, { width: 168, height: 92, filter: 'crop=168:92:0:0' })) {
      expected.push((await rescaler.process({ width: 168, height: 92, data: f }, { index: i++, sceneCut: i === 1 })).data);
    }
    await rescaler.close();
    const got: Uint8Array[] = [];
    for await (const f of readFrames(join(out, 'lr-400k', 'index.m3u8'), { width: 84, height: 46, passthrough: true })) got.push(f);
    expect(got.length).toBe(48);
    expect(expected.length).toBe(48);
    // luma: 4:2:0 chroma alone costs a colourful test pattern ~10 dB of RGB PSNR at this size
    const scores = got.map((g, k) => psnr(luma(g), luma(expected[k])));
    const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
    expect(Math.min(...scores)).toBeGreaterThan(32);
    // frames in the wrong order score far lower: the bound is about getting the right frames
    const shifted = psnr(luma(got[10]), luma(expected[20]));
    expect(shifted).toBeLessThan(mean - 5);
  });

  it('ships the upscaler and its manifest so the folder is self-contained', async () => {
    const m = parseManifest(UpscalerManifest, JSON.parse(readFileSync(join(out, 'upscaler', 'manifest.json'), 'utf8')), 'upscaler manifest');
    expect([m.id, m.scale, m.range, m.colour]).toEqual(['bicubic-x2', 2, '0-1', 'bt709-limited']);
    const session = await createSession(readFileSync(join(out, 'upscaler', m.model)), { threads: 1 });
    const x = new ort.Tensor('float32', new Float32Array(3 * 8 * 10).fill(0.5), [1, 3, 8, 10]);
    const y = (await session.run({ [m.input]: x }))[m.output];
    expect(y.dims).toEqual([1, 3, 16, 20]);
    // bicubic weights sum to 1: a flat image stays flat
    for (const v of y.data as Float32Array) expect(v).toBeCloseTo(0.5, 5);
    await session.release();
  });

  it('records the job: input identity, options and model', () => {
    const job = JSON.parse(readFileSync(join(out, 'job.json'), 'utf8'));
    expect(job.input.path).toBe(input);
    expect(job.input.size).toBe(statSync(input).size);
    expect(job.model).toBe('bicubic-x2');
    expect(job.options.segment).toBe(1);
    expect(job.options.renditions.map((r: { bitrate: number }) => r.bitrate)).toEqual([100000, 400000, 500000]);
  });
});
