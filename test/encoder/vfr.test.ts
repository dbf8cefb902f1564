import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareSource } from '../../src/compare/source.js';
import { readFrames } from '../../src/encoder/media/decode.js';
import { framesWithin, parseRate, readingRate } from '../../src/encoder/media/rate.js';
import { probe, runFfmpeg, runFfprobe } from '../../src/encoder/media/ffmpeg.js';
import { parseAttributes } from '../../src/encoder/job/playlist.js';
import { joinSegments, psnr, readMediaPlaylist, runCliInProcess } from './helpers.js';

const W = 96;
const H = 64;
/** The LR rendition's frame (bicubic-x2). */
const LR = { width: W / 2, height: H / 2 };

interface ClipOptions {
  /** The clock: frames are `pts` ticks of 1/tick s. */
  tick: number;
  /** The tick of frame N (an ffmpeg expression). */
  pts: string;
  frames: number;
  /** This frame is all white. */
  flash: number;
  /** Length of the tone (the video ends with its last frame). */
  seconds: number;
}

/** A phone-like variable-rate clip, with a tone. */
async function makeVfr(out: string, o: ClipOptions): Promise<string> {
  await runFfmpeg([
    '-f', 'lavfi', '-i', `testsrc2=s=${W}x${H}:r=${o.tick}`,
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-filter:v', `trim=end_frame=${o.frames},drawbox=enable='eq(n,${o.flash})':color=white:t=fill,setpts='${o.pts}'`,
    '-vsync', 'vfr', '-t', String(o.seconds),
    '-c:v', 'libx264', '-crf', '10', '-bf', '0', '-pix_fmt', 'yuv420p', '-threads', '1',
    '-c:a', 'aac', '-b:a', '64k',
    out,
  ]);
  return out;
}

/** The payload offset and size of the first box at `path` in an MP4 (the first trak is the video's). */
function box(b: Buffer, path: string[], start = 0, end = b.length): { at: number; size: number } {
  for (let at = start; at + 8 <= end; ) {
    const size = b.readUInt32BE(at);
    if (b.toString('latin1', at + 4, at + 8) === path[0]) return path.length === 1 ? { at, size } : box(b, path.slice(1), at + 8, at + size);
    at += size;
  }
  throw new Error(`no ${path.join('/')} box`);
}

const TRAK = ['moov', 'trak'];
const add = (b: Buffer, at: number, n: number) => b.writeUInt32BE(b.readUInt32BE(at) + n, at);

/**
 * Shows the last frame of an ffmpeg-made MP4 `extra` seconds longer, as a phone's file does when
 * the picture stood still at the end: ffmpeg itself gives a last frame one nominal frame.
 */
function lengthenLastFrame(file: string, extra: number): void {
  const b = readFileSync(file);
  const mdhd = box(b, [...TRAK, 'mdia', 'mdhd']).at;
  const ticks = Math.round(extra * b.readUInt32BE(mdhd + 20));
  add(b, mdhd + 24, ticks);
  const stts = box(b, [...TRAK, 'mdia', 'minf', 'stbl', 'stts']).at;
  const last = stts + 16 + (b.readUInt32BE(stts + 12) - 1) * 8;
  expect(b.readUInt32BE(last)).toBe(1); // the last sample has an entry of its own
  add(b, last + 4, ticks);
  const mvhd = box(b, ['moov', 'mvhd']).at;
  const movieTicks = Math.round(extra * b.readUInt32BE(mvhd + 20));
  const tkhd = box(b, [...TRAK, 'tkhd']).at;
  add(b, tkhd + 28, movieTicks);
  add(b, box(b, [...TRAK, 'edts', 'elst']).at + 16, movieTicks);
  b.writeUInt32BE(Math.max(b.readUInt32BE(mvhd + 24), b.readUInt32BE(tkhd + 28)), mvhd + 24);
  writeFileSync(file, b);
}

/**
 * Empties the video's frames from the `k`-th on: the index still promises them, but they decode
 * cleanly to nothing, as a file does that lost its end without ffmpeg noticing.
 */
function emptyFramesFrom(file: string, out: string, k: number): void {
  const b = readFileSync(file);
  const stsz = box(b, [...TRAK, 'mdia', 'minf', 'stbl', 'stsz']).at;
  expect(b.readUInt32BE(stsz + 12)).toBe(0); // a size per frame
  for (let i = k; i < b.readUInt32BE(stsz + 16); i++) b.writeUInt32BE(0, stsz + 20 + 4 * i);
  writeFileSync(out, b);
}

/** Where a stream's packets start and end (pts + duration), in seconds. */
async function span(file: string, stream: 'v' | 'a'): Promise<{ start: number; end: number }> {
  const { stdout } = await runFfprobe(['-v', 'error', '-select_streams', stream, '-show_entries', 'packet=pts_time,duration_time', '-of', 'csv=p=0', file]);
  // one "pts,duration," line per packet, among empty lines for other sections
  const rows = stdout.toString().split('\n').filter((l) => /^[\d.]+,[\d.]+/.test(l)).map((l) => l.split(',').map(Number));
  return { start: Math.min(...rows.map(([p]) => p)), end: Math.max(...rows.map(([p, d]) => p + d)) };
}

async function sourceInfo(file: string): Promise<{ duration: number; frames: number }> {
  const v = (await probe(file)).streams.find((s) => s.codec_type === 'video')!;
  return { duration: Number(v.duration), frames: Number(v.nb_frames) };
}

interface Output {
  /** Sum of EXTINF. */
  listed: number;
  video: { start: number; end: number };
  audio: { start: number; end: number };
  /** Presentation times of the video frames, from the first. */
  times: number[];
  /** Every frame (RGB), in order. */
  frames: Uint8Array[];
}

/** The folder of the audio group the master gives rendition `name`. */
function audioOf(out: string, name: string): string {
  const master = readFileSync(join(out, 'master.m3u8'), 'utf8').split('\n');
  return join(out, parseAttributes(master[master.indexOf(`${name}/index.m3u8`) - 1]).AUDIO);
}

/** One rendition's segments and its audio group's, each joined into one stream (their timestamps run on), measured. */
async function measure(out: string, name: string): Promise<Output> {
  const dir = join(out, name);
  const playlist = readMediaPlaylist(join(dir, 'index.m3u8'));
  const all = joinSegments(dir, join(out, 'video.mp4'));
  const [video, audio] = [await span(all, 'v'), await span(joinSegments(audioOf(out, name), join(out, 'audio.mp4')), 'a')];
  const { stdout } = await runFfprobe(['-v', 'error', '-select_streams', 'v', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', all]);
  const times = stdout.toString().split('\n').filter((l) => /^[\d.]+/.test(l)).map(parseFloat).sort((a, b) => a - b).map((t) => t - video.start);
  const frames: Uint8Array[] = [];
  for await (const f of readFrames(all, { ...LR, passthrough: true })) frames.push(f);
  return { listed: playlist.segments.reduce((s, x) => s + x.duration, 0), video, audio, times, frames };
}

/** The first all-white frame. */
const flashIndex = (frames: Uint8Array[]) => frames.findIndex((f) => f.reduce((s, x) => s + x, 0) / f.length > 250);

const encode = (input: string, out: string, ...extra: string[]) =>
  runCliInProcess(['encode', input, '-o', out, '--model', 'bicubic-x2', '--hcd-iters', '0,0', '--segment', '1', '--renditions', '100k', '--source-renditions', '', '--json', ...extra]);

describe('the reading rate', () => {
  const pick = (nominal: string, average: string, duration: number) => readingRate(parseRate(nominal), parseRate(average), duration);

  it('is the nominal rate when it is plausible, else the average', () => {
    expect(pick('24/1', '24/1', 5)).toEqual({ num: 24, den: 1 });
    expect(pick('30000/1001', '30000/1001', 5)).toEqual({ num: 30000, den: 1001 });
    // 30 fps, then 10 fps
    expect(pick('30/1', '150/11', 4.4)).toEqual({ num: 30, den: 1 });
    // a clock rather than a frame rate, and a rate that would drop frames all along
    expect(pick('150/1', '360/13', 2.2)).toEqual({ num: 360, den: 13 });
    expect(pick('90000/1', '30/1', 10)).toEqual({ num: 30, den: 1 });
    expect(pick('24/1', '30/1', 10)).toEqual({ num: 30, den: 1 });
    // 30 frames at 30 fps whose index gives the last no duration: 30 frames over 29/30 s
    expect(pick('30/1', '900/29', 29 / 30)).toEqual({ num: 30, den: 1 });
    // interlaced: the nominal rate counts fields
    expect(pick('60000/1001', '30000/1001', 10)).toEqual({ num: 30000, den: 1001 });
    expect(pick('50/1', '25/1', 10)).toEqual({ num: 25, den: 1 });
    expect(pick('30/1', '0/0', 1)).toEqual({ num: 30, den: 1 });
    expect(pick('0/0', '25/1', 1)).toEqual({ num: 25, den: 1 });
    expect(pick('0/0', '0/0', 1)).toBeUndefined();
  });

  it('--seconds counts the frames that start within them, as ffmpeg -t does', () => {
    expect(framesWithin(2, { num: 30, den: 1 })).toBe(60);
    expect(framesWithin(1, { num: 24000, den: 1001 })).toBe(24);
    expect(framesWithin(0.55, { num: 24, den: 1 })).toBe(14);
    expect(framesWithin(0.001, { num: 24, den: 1 })).toBe(1);
  });
});

describe('variable-frame-rate input keeps its timing', () => {
  let dir: string;
  /** 21 frames at 30 fps, then 39 at 10 fps: 4.53 s; frame 40 (shown at 2.6 s) is white. */
  let clip: string;
  /** Ticks of 1/150 s: 30 frames 5 ticks apart (30 fps), then 30 frames 6 apart (25 fps); frame 45 is white. */
  let mixed: string;
  const FLASH_AT = 2.6;
  const FRAME = 1 / 30;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hcd-vfr-'));
    clip = await makeVfr(join(dir, 'vfr.mp4'), { tick: 30, pts: 'if(lt(N,21),N,3*N-42)', frames: 60, flash: 40, seconds: 4.6 });
    mixed = await makeVfr(join(dir, 'mixed.mp4'), { tick: 150, pts: 'if(lt(N,30),5*N,150+6*(N-30))', frames: 60, flash: 45, seconds: 2.2 });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the whole clip: as long as the source, audio and video together, the flash on time', async () => {
    const src = await sourceInfo(clip);
    expect(src.frames).toBe(60);
    expect(src.duration).toBeCloseTo(4.5333, 3);
    const out = join(dir, 'whole');
    const r = await encode(clip, out);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { of?: number; frames?: number });
    const o = await measure(out, 'lr-100k');
    expect(Math.abs(o.listed - src.duration)).toBeLessThanOrEqual(FRAME + 1e-6);
    expect(Math.abs(o.video.end - o.video.start - src.duration)).toBeLessThanOrEqual(FRAME + 1e-6);
    // the audio ends with the video (AAC frames are 21 ms) and starts with it (one priming frame before)
    expect(Math.abs(o.audio.end - o.video.end)).toBeLessThanOrEqual(FRAME);
    expect(o.video.start - o.audio.start).toBeLessThanOrEqual(1024 / 48000 + 1e-3);
    expect(o.video.start - o.audio.start).toBeGreaterThanOrEqual(0);
    // progress expected the frames that came, and the summary counts them
    expect(new Set(lines.filter((l) => l.of !== undefined).map((l) => l.of))).toEqual(new Set([o.times.length]));
    expect(lines.at(-1)!.frames).toBe(o.times.length);
    const flash = flashIndex(o.frames);
    expect(flash).toBeGreaterThan(0);
    expect(Math.abs(o.times[flash] - FLASH_AT)).toBeLessThanOrEqual(FRAME + 1e-6);
  });

  it('--seconds 2 is two seconds of the source', async () => {
    const out = join(dir, 'two');
    const r = await encode(clip, out, '--seconds', '2');
    expect(r.code, r.stderr).toBe(0);
    const o = await measure(out, 'lr-100k');
    expect(Math.abs(o.listed - 2)).toBeLessThanOrEqual(FRAME + 1e-6);
    expect(Math.abs(o.video.end - o.video.start - 2)).toBeLessThanOrEqual(FRAME + 1e-6);
    expect(Math.abs(o.audio.end - o.video.end)).toBeLessThanOrEqual(FRAME);
  });

  it('a nominal rate that is no frame rate (150 fps for 30 and 25 fps parts) gives way to the average', async () => {
    const src = await sourceInfo(mixed);
    const v = (await probe(mixed)).streams.find((s) => s.codec_type === 'video')!;
    expect(v.r_frame_rate).toBe('150/1');
    const out = join(dir, 'mixed-out');
    const r = await encode(mixed, out);
    expect(r.code, r.stderr).toBe(0);
    const o = await measure(out, 'lr-100k');
    const frame = 1 / (60 / src.duration);
    expect(Math.abs(o.listed - src.duration)).toBeLessThanOrEqual(frame + 1e-6);
    expect(Math.abs(o.video.end - o.video.start - src.duration)).toBeLessThanOrEqual(frame + 1e-6);
    expect(Math.abs(o.audio.end - o.video.end)).toBeLessThanOrEqual(frame);
    // read at the average rate: about one frame per source frame, not five
    expect(Math.abs(o.times.length - 60)).toBeLessThanOrEqual(1);
    const flash = flashIndex(o.frames);
    expect(Math.abs(o.times[flash] - (150 + 6 * 15) / 150)).toBeLessThanOrEqual(frame + 1e-6);
  });

  it('a last frame that the source shows for a second is shown for that second', async () => {
    const long = await makeVfr(join(dir, 'long.mp4'), { tick: 30, pts: 'if(lt(N,21),N,3*N-42)', frames: 60, flash: 40, seconds: 5.6 });
    lengthenLastFrame(long, 1);
    const src = await sourceInfo(long);
    expect(src.duration).toBeCloseTo(5.5333, 3);
    const out = join(dir, 'long-out');
    const r = await encode(long, out);
    expect(r.code, r.stderr).toBe(0);
    const o = await measure(out, 'lr-100k');
    expect(Math.abs(o.listed - src.duration)).toBeLessThanOrEqual(FRAME + 1e-6);
    expect(Math.abs(o.video.end - o.video.start - src.duration)).toBeLessThanOrEqual(FRAME + 1e-6);
    expect(Math.abs(o.audio.end - o.video.end)).toBeLessThanOrEqual(FRAME);
    // the last second is the last frame, standing still
    const last = o.frames.at(-1)!;
    for (const f of o.frames.slice(-30)) expect(psnr(f, last)).toBeGreaterThan(30);
    expect(o.frames.length).toBe(Math.round(src.duration * 30));
  });

  it('a variable-rate file that decodes to fewer frames than it promises is refused, not held to its length', async () => {
    const short = join(dir, 'short.mp4');
    emptyFramesFrom(clip, short, 40);
    const r = await encode(short, join(dir, 'short-out'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/ends after \d+ of 136 frames: the file is truncated or corrupt/);
  });

  it('hcd compare reads the same frames over the same time', async () => {
    const src = await sourceInfo(clip);
    const s = await prepareSource(clip, join(dir, 'compare.y4m'), { multiple: 4 });
    expect(s.fps).toBe('30/1');
    expect(Math.abs(s.frames / s.fpsValue - src.duration)).toBeLessThanOrEqual(FRAME + 1e-6);
    const two = await prepareSource(clip, join(dir, 'compare-2.y4m'), { multiple: 4, seconds: 2 });
    expect(Math.abs(two.frames / two.fpsValue - 2)).toBeLessThanOrEqual(FRAME + 1e-6);
    const m = await prepareSource(mixed, join(dir, 'compare-mixed.y4m'), { multiple: 4 });
    expect(m.fpsValue).toBeLessThan(30);
    expect(Math.abs(m.frames - 60)).toBeLessThanOrEqual(1);
  });
});
