import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, setOptions, types } from 'hls-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFfmpeg, runFfprobe } from '../../src/encoder/media/ffmpeg.js';
import { splitFragmented } from '../../src/encoder/media/mp4.js';
import { bandwidths } from '../../src/encoder/job/playlist.js';
import { MAX_AUDIO_SHARE } from '../../src/encoder/job/renditions.js';
import { makeSample } from '../../samples/make-sample.js';
import { joinSegments, makeClip, runCliInProcess } from './helpers.js';

/**
 * The whole output of one encode, read by an independent HLS parser (hls-parser, strict: it
 * throws on what the HLS spec forbids, versions included) and by ffprobe: 1 s segments of two
 * 0.5 s GOPs and a 0.25 s last one, two audio groups, LR and source-size rungs.
 */
setOptions({ strictMode: true });

const FPS = 24;
const SECONDS = 2.25;
const AAC_FRAME = 1024 / 48000;

type Master = InstanceType<typeof types.MasterPlaylist>;
type Media = InstanceType<typeof types.MediaPlaylist>;

function read<T>(path: string): T {
  return parse(readFileSync(path, 'utf8')) as T;
}

async function probeCsv(file: string, args: string[]): Promise<string[][]> {
  const { stdout } = await runFfprobe(['-v', 'error', ...args, '-of', 'csv=p=0', file]);
  return stdout.toString().split('\n').map((l) => l.replace(/,$/, '')).filter(Boolean).map((l) => l.split(','));
}

/** Per decoded video frame: key frame?, presentation time. */
async function videoFrames(file: string): Promise<{ key: boolean; t: number }[]> {
  const rows = await probeCsv(file, ['-select_streams', 'v', '-show_entries', 'frame=key_frame,pts_time']);
  return rows.map(([k, t]) => ({ key: k === '1', t: Number(t) }));
}

/** First presentation time and summed duration of a file's audio packets. */
async function audioSpan(file: string): Promise<{ start: number; duration: number }> {
  const rows = await probeCsv(file, ['-select_streams', 'a', '-show_entries', 'packet=pts_time']);
  return { start: Number(rows[0][0]), duration: rows.length * AAC_FRAME };
}

describe('fMP4 packaging, checked by an independent parser and by ffprobe', () => {
  let dir: string;
  let out: string;
  let master: Master;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hcd-pack-'));
    const input = await makeClip(join(dir, 'in.mp4'), { seconds: SECONDS, width: 160, height: 96 });
    out = join(dir, 'out');
    const r = await runCliInProcess(['encode', input, '-o', out, '--model', 'bicubic-x2', '--hcd-iters', '0,0', '--segment', '1', '--gop', '0.5', '--renditions', '100k', '--source-renditions', '300k,800k', '--preset', 'ultrafast']);
    expect(r.code, r.stderr).toBe(0);
    master = read<Master>(join(out, 'master.m3u8'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const streams = () => master.variants.filter((v) => !v.isIFrameOnly);
  const iframeStreams = () => master.variants.filter((v) => v.isIFrameOnly);

  it('master: audio groups, CODECS with the audio codec, no captions, a plain player starts on a source-size rung', () => {
    expect(master.version).toBe(6);
    expect(master.independentSegments).toBe(true);
    expect(master.sessionDataList.map((d) => [d.id, d.uri])).toEqual([['org.hcd-stream.upscaler', 'upscaler/manifest.json']]);
    // the first variant is the start: the lowest source-size rung of at least 700 kb/s, then by bandwidth
    expect(streams().map((v) => v.uri)).toEqual(['src-800k/index.m3u8', 'lr-100k/index.m3u8', 'src-300k/index.m3u8']);
    const group = Object.fromEntries(streams().map((v) => [v.uri.split('/')[0], v.audio.map((a) => a.groupId)]));
    // 100k and 300k are below 85/15 of 64k: the normal group would be more than 15 % of their bits
    expect(64_000 * (1 - MAX_AUDIO_SHARE) > 300_000 * MAX_AUDIO_SHARE).toBe(true);
    expect(group).toEqual({ 'lr-100k': ['audio-20k'], 'src-300k': ['audio-20k'], 'src-800k': ['audio-64k'] });
    for (const v of streams()) {
      expect(v.codecs).toMatch(/^avc1\.[0-9a-f]{6},mp4a\.40\.2$/);
      expect(v.audio[0]).toMatchObject({ type: 'AUDIO', isDefault: true, autoselect: true, channels: '2', name: 'Main' });
      expect(v.audio[0].uri).toBe(`${v.audio[0].groupId}/index.m3u8`);
      expect(v.frameRate).toBe(FPS);
    }
    const text = readFileSync(join(out, 'master.m3u8'), 'utf8');
    expect(text.match(/^#EXT-X-STREAM-INF:.*CLOSED-CAPTIONS=NONE/gm)?.length).toBe(3);
    // one I-frame playlist per video rendition, video codec only
    expect(iframeStreams().map((v) => v.uri).sort()).toEqual(['lr-100k/iframes.m3u8', 'src-300k/iframes.m3u8', 'src-800k/iframes.m3u8']);
    for (const f of iframeStreams()) expect(f.codecs).toMatch(/^avc1\.[0-9a-f]{6}$/);
  });

  it('the plain master: no LR rung, no upscaler, the same start', () => {
    const plain = read<Master>(join(out, 'master-plain.m3u8'));
    expect(plain.sessionDataList).toEqual([]);
    expect(plain.variants.filter((v) => !v.isIFrameOnly).map((v) => v.uri)).toEqual(['src-800k/index.m3u8', 'src-300k/index.m3u8']);
    expect(plain.variants.filter((v) => v.isIFrameOnly).map((v) => v.uri)).toEqual(['src-300k/iframes.m3u8', 'src-800k/iframes.m3u8']);
    expect(readFileSync(join(out, 'master-plain.m3u8'), 'utf8')).not.toMatch(/X-UPSCALE|lr-/);
  });

  it('video segments: one init segment, whole GOPs with an IDR frame every 0.5 s, durations as listed', async () => {
    for (const v of streams()) {
      const folder = join(out, v.uri, '..');
      const pl = read<Media>(join(out, v.uri));
      expect([pl.version, pl.targetDuration, pl.playlistType, pl.endlist]).toEqual([6, 1, 'VOD', true]);
      expect(pl.segments.map((s) => s.duration)).toEqual([1, 1, 0.25]);
      expect(new Set(pl.segments.map((s) => s.map?.uri)).size).toBe(1);
      let start: number | undefined;
      for (const [k, s] of pl.segments.entries()) {
        const file = joinSegments(folder, join(dir, 'seg.mp4'), [s.uri]);
        // decodes without one error line
        const { stderr } = await runFfmpeg(['-v', 'error', '-xerror', '-i', file, '-f', 'null', '-']);
        expect(stderr.trim(), `${v.uri} ${s.uri}`).toBe('');
        const frames = await videoFrames(file);
        expect(frames.length).toBe(Math.round(s.duration * FPS));
        expect(frames.map((f, i) => f.key === (i % 12 === 0))).not.toContain(false);
        // on one timeline: segment k starts k seconds after segment 0
        start ??= frames[0].t;
        expect(frames[0].t - start).toBeCloseTo(k, 6);
      }
    }
  });

  it('audio: one group rendition per bitrate, in sync with the video segment by segment', async () => {
    for (const group of ['audio-20k', 'audio-64k']) {
      const folder = join(out, group);
      const pl = read<Media>(join(folder, 'index.m3u8'));
      expect([pl.version, pl.endlist]).toEqual([6, true]);
      const video = read<Media>(join(out, 'src-800k', 'index.m3u8'));
      expect(pl.segments.length).toBe(video.segments.length);
      const v0 = (await videoFrames(joinSegments(join(out, 'src-800k'), join(dir, 'v.mp4'), [video.segments[0].uri])))[0].t;
      let at = 0;
      for (const [k, s] of pl.segments.entries()) {
        const a = await audioSpan(joinSegments(folder, join(dir, 'a.mp4'), [s.uri]));
        // EXTINF is the segment's AAC frames; each starts within one frame of its video segment
        expect(a.duration).toBeCloseTo(s.duration, 6);
        expect(Math.abs(a.start - v0 - at)).toBeLessThan(AAC_FRAME + 1e-6);
        if (k === 0) expect(a.start).toBeCloseTo(v0 - AAC_FRAME, 4); // the priming frame, before the first picture
        at += video.segments[k].duration;
      }
      const { stdout } = await runFfprobe(['-v', 'error', '-show_entries', 'stream=codec_name,profile,channels,sample_rate', '-of', 'csv=p=0', joinSegments(folder, join(dir, 'a.mp4'))]);
      expect(stdout.toString().trim()).toBe('aac,LC,48000,2');
    }
  });

  it('I-frame playlists: each byte range is the moof and one IDR frame that decodes on its own', async () => {
    for (const f of iframeStreams()) {
      const folder = join(out, f.uri, '..');
      const pl = read<Media>(join(out, f.uri));
      expect([pl.version, pl.isIFrame, pl.targetDuration]).toEqual([5, true, 1]);
      expect(pl.segments.map((s) => s.duration)).toEqual([0.5, 0.5, 0.5, 0.5, 0.25]);
      const init = readFileSync(join(folder, pl.segments[0].map!.uri));
      for (const s of pl.segments) {
        const seg = readFileSync(join(folder, s.uri));
        const { offset, length } = s.byterange!;
        const file = join(dir, 'iframe.mp4');
        writeFileSync(file, Buffer.concat([init, seg.subarray(offset, offset + length)]));
        const frames = await videoFrames(file);
        expect(frames.map((x) => x.key)).toEqual([true]);
      }
    }
  });

  it('BANDWIDTH and AVERAGE-BANDWIDTH: video plus its audio group, measured; the short last segment counts only with the one before', () => {
    for (const v of streams()) {
      const pl = read<Media>(join(out, v.uri));
      const audioDir = join(out, v.audio[0].groupId);
      const audio = read<Media>(join(audioDir, 'index.m3u8'));
      const bytes = pl.segments.map((s, k) => statSync(join(out, v.uri, '..', s.uri)).size + statSync(join(audioDir, audio.segments[k].uri)).size);
      const rate = (ks: number[]) => (ks.reduce((n, k) => n + bytes[k], 0) * 8) / ks.reduce((n, k) => n + pl.segments[k].duration, 0);
      // target 1 s: runs of 0.5-1.5 s are each full segment, and the last two together (1.25 s)
      expect(v.bandwidth).toBe(Math.ceil(Math.max(rate([0]), rate([1]), rate([1, 2]))));
      expect(v.averageBandwidth).toBe(Math.ceil(rate([0, 1, 2])));
    }
  });

  it('the split of a fragmented MP4: init, fragments starting with a sync sample, bad files refused', () => {
    const seg = readFileSync(join(out, 'src-800k', read<Media>(join(out, 'src-800k', 'index.m3u8')).segments[0].uri));
    const init = readFileSync(join(out, 'src-800k', read<Media>(join(out, 'src-800k', 'index.m3u8')).segments[0].map!.uri));
    const whole = Buffer.concat([init, seg]);
    const split = splitFragmented(whole);
    expect(Buffer.from(split.init).equals(init)).toBe(true);
    expect(split.fragments.map((f) => f.samples)).toEqual([12, 12]);
    expect(split.fragments[0].offset).toBe(0);
    expect(() => splitFragmented(seg)).toThrow(/not a fragmented MP4/);
    expect(() => splitFragmented(whole.subarray(0, whole.length - 10))).toThrow(/bad MP4 box size/);
  });
});

describe('the lowest rung of the default ladder', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hcd-share-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('spends at least 85 % of its bits on video: H.264 payload over its segments and its audio group\'s', async () => {
    // the bundled sample's detail (a Mandelbrot zoom) takes the rung's whole bitrate, as real video does
    const input = await makeSample(join(dir, 'in.mp4'), { seconds: 2, width: 320, height: 180 });
    const out = join(dir, 'out');
    const r = await runCliInProcess(['encode', input, '-o', out, '--model', 'bicubic-x2', '--hcd-iters', '0,0', '--segment', '2', '--renditions', '150k', '--source-renditions', '']);
    expect(r.code, r.stderr).toBe(0);
    const v = read<Media>(join(out, 'lr-150k', 'index.m3u8'));
    const a = read<Media>(join(out, 'audio-20k', 'index.m3u8'));
    const sizes = await probeCsv(joinSegments(join(out, 'lr-150k'), join(dir, 'v.mp4')), ['-select_streams', 'v', '-show_entries', 'packet=size']);
    const payload = sizes.reduce((n, [b]) => n + Number(b), 0);
    const fetched = [...v.segments.map((s) => join(out, 'lr-150k', s.uri)), ...a.segments.map((s) => join(out, 'audio-20k', s.uri))].reduce((n, f) => n + statSync(f).size, 0);
    // and the video itself is at its bitrate, so the share is not bought by starving the audio of a tiny rung
    expect((payload * 8) / 2).toBeGreaterThan(140_000);
    expect(payload / fetched).toBeGreaterThanOrEqual(0.85);
  });
});

describe('peak bandwidth over segments', () => {
  it('a short last segment with a big I-frame does not set the peak on its own', () => {
    const segs = [
      { uri: 'a', duration: 6, bytes: 150_000 },
      { uri: 'b', duration: 6, bytes: 150_000 },
      { uri: 'c', duration: 0.5, bytes: 30_000 },
    ];
    // alone c would be 480 kb/s; with b it is (180 kB * 8) / 6.5 s
    expect(bandwidths(segs)).toEqual({ peak: Math.ceil((180_000 * 8) / 6.5), average: Math.ceil((330_000 * 8) / 12.5) });
    // a clip shorter than half the target duration: the whole is the only measure
    expect(bandwidths([{ uri: 'a', duration: 0.4, bytes: 1000 }])).toEqual({ peak: 20_000, average: 20_000 });
  });
});
