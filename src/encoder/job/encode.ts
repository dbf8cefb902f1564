import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { HcdError } from '../../shared/errors.js';
import type { RgbImage } from '../../shared/image.js';
import type { ExecutionProvider } from '../graph/session.js';
import { encodeAudioTrack } from '../media/audio.js';
import { FfmpegSink } from '../media/sink.js';
import { x264Args } from '../media/x264.js';
import { CODEC_LOOP_DEFAULTS, CodecLoop, type CodecLoopOptions } from '../hcd/codec-loop.js';
import { ChunkEncoder, segmentName } from './chunk.js';
import { readFrames } from '../media/decode.js';
import { SceneCutDetector } from './scenecut.js';
import { fitToScale, probeSource } from '../media/probe.js';
import { bandwidths, masterPlaylist, mediaPlaylist, type SegmentEntry, type VariantEntry } from './playlist.js';
import { measureSegment } from '../media/measure.js';
import { writeAtomic } from '../media/files.js';
import { describeInput, prepareOutdir, writeState, type EncodeState, type Job, type Rendition } from './state.js';
import { checkPairScale, loadPair, type RescalingPair } from '../pairs/load.js';
import { createRescaler, type FrameRescaler } from '../pairs/runtime.js';
import { FlickerMeter, type FlickerSummary } from './flicker.js';
import { UPSCALER_MANIFEST, writeUpscaler } from './upscaler.js';

export interface EncodeOptions {
  input: string;
  outdir: string;
  model: string;
  seconds?: number;
  /** Segment length in seconds; every segment is one closed GOP and one resumable chunk. */
  segment: number;
  /** LR rendition bitrates (bits/s). */
  renditions: number[];
  /** Source-resolution rendition bitrates (bits/s), for players without the upscaler. */
  sourceRenditions: number[];
  codecAware: boolean;
  /** The closed loop of codec-aware HCD; CODEC_LOOP_DEFAULTS where absent. */
  codecLoop?: Partial<CodecLoopOptions>;
  hcdIters?: [number, number];
  ep?: ExecutionProvider;
  preset?: string;
  audioBitrate?: number;
  resume: boolean;
  force: boolean;
  signal?: AbortSignal;
}

export interface FrameProgress {
  frame: number;
  of: number;
  fps: number;
  eta_s: number;
}

export interface EncodeHooks {
  onFrame?(p: FrameProgress): void;
  onWarning?(message: string): void;
}

export interface RenditionSummary {
  name: string;
  bandwidth: number;
  averageBandwidth: number;
  resolution: string;
  codecs: string;
  playlist: string;
}

export interface EncodeSummary {
  done: true;
  frames: number;
  /** Frames encoded by this run (fewer than `frames` after --resume). */
  encodedFrames: number;
  fps: number;
  stages: { decode_s: number; rescale_s: number; codec_loop_s: number; flicker_s: number; encode_s: number; total_s: number };
  /**
   * Temporal change (8-bit Y levels per frame) of the source and of U(LR) before the codec, over
   * the frames this run encoded; `added` > 0 would mean the LR frames make the picture busier.
   */
  flicker?: FlickerSummary;
  /**
   * Codec-aware mode, per rendition and chunk: RGB PSNR of U(decoded LR) against the source
   * after each roundtrip ([0] = before the loop), its video bytes, and which one was kept.
   * Chunks done by an earlier run (--resume) are not listed.
   */
  codecLoop?: { rendition: string; chunk: number; psnr: number[]; bytes: number[]; kept: number }[];
  renditions: RenditionSummary[];
  master: string;
}

/**
 * HCD iterations (HR, LR stage) `hcd encode` and `hcd demo` use unless told otherwise. With the
 * video step (VIDEO_HCD_OPTIONS: 40/255, one lane) they keep about 90 % of the per-frame gain of
 * full 15+15 HCD at about a sixth of its cost (bench/encode-settings.ts, docs/encoder.md). The HR
 * stage runs both networks and costs most; LR iterations only run the small upscaler.
 */
export const DEFAULT_HCD_ITERS: [number, number] = [1, 2];

export function renditionName(kind: 'lr' | 'src', bitrate: number): string {
  return `${kind}-${bitrate % 1000 === 0 ? `${bitrate / 1000}k` : bitrate}`;
}

/** Work files and half-renamed segments of a chunk that was never recorded (it will be redone). */
function removeLeftovers(out: string, work: string, renditions: Rendition[]): void {
  rmSync(work, { recursive: true, force: true });
  for (const r of renditions) {
    const dir = join(out, r.name);
    if (existsSync(dir)) for (const f of readdirSync(dir)) if (f.endsWith('.tmp')) rmSync(join(dir, f), { force: true });
  }
}

/**
 * The whole encode: decode once, rescale each frame, feed every rendition's x264 by pipe, one
 * segment-long chunk at a time, recording each finished chunk so an interrupted run resumes
 * where it stopped. `deps` lets tests hand in a pair or a rescaler directly.
 */
export async function encodeVideo(
  opts: EncodeOptions,
  hooks: EncodeHooks = {},
  deps: { pair?: RescalingPair; rescaler?: FrameRescaler } = {},
): Promise<EncodeSummary> {
  const t0 = performance.now();
  const src = await probeSource(opts.input);
  if (!(opts.segment > 0)) throw new HcdError(`segment length must be positive, got ${opts.segment}`);
  if (opts.seconds !== undefined && !(opts.seconds > 0)) throw new HcdError(`--seconds must be positive, got ${opts.seconds}`);
  if (opts.renditions.length === 0) throw new HcdError('at least one LR rendition is needed');
  for (const b of [...opts.renditions, ...opts.sourceRenditions]) if (!(b > 0)) throw new HcdError(`bad bitrate ${b}`);

  const pair = deps.pair ?? (await loadPair(opts.model));
  const scale = pair.manifest.scale;
  await checkPairScale(pair);
  const geo = fitToScale(src.width, src.height, scale);
  const lr = { width: geo.width / scale, height: geo.height / scale };
  if (lr.width < pair.manifest.minLrSize || lr.height < pair.manifest.minLrSize) {
    throw new HcdError(
      `frame ${src.width}x${src.height} is too small for model '${pair.manifest.id}': the LR frame would be ${lr.width}x${lr.height}, the model needs at least ${pair.manifest.minLrSize} per side`,
    );
  }

  const renditions: Rendition[] = [
    ...[...new Set(opts.renditions)].sort((a, b) => a - b).map((b) => ({ name: renditionName('lr', b), kind: 'lr' as const, bitrate: b })),
    ...[...new Set(opts.sourceRenditions)].sort((a, b) => a - b).map((b) => ({ name: renditionName('src', b), kind: 'src' as const, bitrate: b })),
  ];
  const preset = opts.preset ?? 'medium';
  const audioBitrate = opts.audioBitrate ?? 64_000;
  const hcd = opts.hcdIters && (opts.hcdIters[0] > 0 || opts.hcdIters[1] > 0) ? opts.hcdIters : null;
  const loopOpts: CodecLoopOptions | undefined = opts.codecAware ? { ...CODEC_LOOP_DEFAULTS, ...opts.codecLoop } : undefined;
  const job: Job = {
    version: 1,
    input: describeInput(opts.input),
    model: pair.manifest.id,
    options: { seconds: opts.seconds ?? null, segment: opts.segment, renditions, codecAware: opts.codecAware, ...(loopOpts ? { codecLoop: loopOpts } : {}), hcdIters: hcd, preset, audioBitrate },
  };
  // everything that can be refused is checked before OUTDIR is touched
  const rescaler = deps.rescaler ?? (await createRescaler(pair, { ep: opts.ep, onWarning: hooks.onWarning, hcd: hcd ? { hrIters: hcd[0], lrIters: hcd[1] } : undefined }));
  if (rescaler.scale !== scale) {
    await rescaler.close();
    throw new HcdError(`rescaler scale ${rescaler.scale} does not match model scale ${scale} (mismatched scale)`);
  }
  let loop: CodecLoop | undefined;
  let flicker: FlickerMeter | undefined;
  const out = opts.outdir;
  let state: EncodeState;
  try {
    if (loopOpts) loop = await CodecLoop.create(pair, { ep: opts.ep });
    flicker = await FlickerMeter.create(pair, { ep: opts.ep });
    state = prepareOutdir(out, job, { resume: opts.resume, force: opts.force });
  } catch (e) {
    await rescaler.close();
    await loop?.close();
    await flicker?.close();
    throw e;
  }
  const work = join(out, '.work');
  removeLeftovers(out, work, renditions);
  mkdirSync(work, { recursive: true });
  writeUpscaler(out, pair);

  const fps = src.fpsNum / src.fpsDen;
  const gop = Math.max(1, Math.round(opts.segment * fps));
  const maxFrames = opts.seconds !== undefined ? Math.max(1, Math.round(opts.seconds * fps)) : Infinity;
  const expected = Math.min(src.frames || Infinity, maxFrames);
  const done = new Set(state.chunks.map((c) => c.index));
  const times = { decode: 0, rescale: 0, encode: 0, codecLoop: 0, flicker: 0 };
  let flickerSummary: FlickerSummary | undefined;
  const loopStats: NonNullable<EncodeSummary['codecLoop']> = [];
  let encodedFrames = 0;
  let total = state.complete ? state.totalFrames : 0;

  const writePlaylists = async (complete: boolean) => {
    const chunks = [...state.chunks].sort((a, b) => a.index - b.index);
    const variants: VariantEntry[] = [];
    for (const r of renditions) {
      const segs: SegmentEntry[] = chunks.map((c) => ({ uri: segmentName(c.index), duration: (c.frames * src.fpsDen) / src.fpsNum, bytes: c.bytes[r.name] }));
      writeAtomic(join(out, r.name, 'index.m3u8'), mediaPlaylist(segs, complete));
      const info = state.info[r.name];
      if (!info || segs.length === 0) continue;
      const bw = bandwidths(segs);
      variants.push({
        uri: `${r.name}/index.m3u8`,
        bandwidth: bw.peak,
        averageBandwidth: bw.average,
        width: info.width,
        height: info.height,
        codecs: info.codecs,
        frameRate: info.frameRate,
        upscale: r.kind === 'lr' ? { scale, model: pair.manifest.id } : undefined,
      });
    }
    if (variants.length) writeAtomic(join(out, 'master.m3u8'), masterPlaylist(variants, UPSCALER_MANIFEST));
  };

  if (state.complete) {
    await rescaler.close();
    await loop?.close();
    await flicker?.close();
  } else {
    const scenes = new SceneCutDetector();
    const lrRenditions = renditions.filter((r) => r.kind === 'lr');
    let chunk: ChunkEncoder | undefined;
    const runStart = performance.now();
    // the whole-track audio encode runs alongside the first chunk's video; chunks wait for it at the end
    const audioTask = src.hasAudio
      ? encodeAudioTrack(opts.input, { duration: Number.isFinite(expected) ? expected / fps : src.duration, bitrate: audioBitrate, signal: opts.signal }).catch((e: Error) => {
          if (opts.signal?.aborted) throw new HcdError('interrupted; finished segments are kept, run again with --resume', 130);
          throw new HcdError(`cannot encode the audio of ${opts.input}: ${e.message.split('\n')[0]}`);
        })
      : Promise.resolve(undefined);
    audioTask.catch(() => undefined); // observed here, thrown where it is awaited

    const finishChunk = async (c: ChunkEncoder) => {
      const t = performance.now();
      const bytes = await c.finish(await audioTask);
      const index = Math.floor(c.spec.startFrame / gop);
      for (const r of renditions) if (!state.info[r.name]) state.info[r.name] = await measureSegment(join(out, r.name, segmentName(index)));
      state.chunks.push({ index, startFrame: c.spec.startFrame, frames: c.frameCount, bytes });
      // playlists first: killed in between, they list a segment that is complete but unrecorded,
      // which --resume redoes to the same bytes; the other order could leave no playlist at all
      await writePlaylists(false);
      writeState(out, state);
      times.encode += performance.now() - t;
    };

    /**
     * Codec-aware mode: a chunk's frames are held until the chunk is complete, then each LR
     * rendition's frames go through the closed loop with that rendition's own x264 settings
     * (the roundtrip is the very encode the segment gets: same args, same closed GOP).
     */
    let held: { hr: Uint8Array; lr: Uint8Array }[] = [];
    const roundtripFor = (c: ChunkEncoder, r: Rendition) => async (frames: Uint8Array[]): Promise<{ frames: Uint8Array[]; bytes: number }> => {
      const file = join(work, `loop-${r.name}.ts`);
      const sink = new FfmpegSink(x264Args({ ...lr, fpsNum: src.fpsNum, fpsDen: src.fpsDen, bitrate: r.bitrate, gop: c.spec.gop, preset, out: file }), opts.signal);
      try {
        for (const f of frames) await sink.write(f);
        await sink.end();
      } catch (e) {
        await sink.kill();
        throw e;
      }
      const back: Uint8Array[] = [];
      for await (const f of readFrames(file, { width: lr.width, height: lr.height, passthrough: true })) back.push(f);
      const bytes = statSync(file).size;
      rmSync(file, { force: true });
      return { frames: back, bytes };
    };
    const completeChunk = async (c: ChunkEncoder) => {
      if (loop && loopOpts) {
        const t = performance.now();
        const byName = new Map<string, Uint8Array[]>();
        const hrs = held.map((h) => h.hr);
        const base = held.map((h) => h.lr);
        for (const r of lrRenditions) {
          const res = await loop.run(hrs, base, lr, roundtripFor(c, r), loopOpts);
          byName.set(r.name, res.frames);
          loopStats.push({ rendition: r.name, chunk: c.spec.index, psnr: res.losses.map((m) => -10 * Math.log10(m)), bytes: res.bytes, kept: res.best });
        }
        times.codecLoop += performance.now() - t;
        const tw = performance.now();
        for (let i = 0; i < held.length; i++) await c.write(held[i].hr, (name) => byName.get(name)![i]);
        times.encode += performance.now() - tw;
        held = [];
      }
      await finishChunk(c);
    };

    let n = 0;
    const frames = readFrames(opts.input, { width: geo.width, height: geo.height, seconds: opts.seconds, matrix: src.matrix, range: src.range, filter: geo.crop, strict: true });
    // the next frame is requested before this one is processed, so ffmpeg decodes it meanwhile
    let ahead = frames.next();
    ahead.catch(() => undefined); // observed here, thrown where it is awaited
    try {
      for (;;) {
        if (opts.signal?.aborted) throw new HcdError('interrupted; finished segments are kept, run again with --resume', 130);
        let t = performance.now();
        let next: IteratorResult<Uint8Array>;
        try {
          next = await ahead;
          if (!next.done) {
            ahead = frames.next();
            ahead.catch(() => undefined);
          }
        } catch (e) {
          throw new HcdError(`cannot decode ${opts.input} at frame ${n}: corrupt or truncated data (${(e as Error).message.split('\n')[0].slice(0, 160)})`);
        }
        times.decode += performance.now() - t;
        if (next.done) break;
        const index = Math.floor(n / gop);
        const frameNo = n++;
        if (done.has(index)) continue;
        if (!chunk) {
          chunk = new ChunkEncoder(
            { index, startFrame: frameNo, fpsNum: src.fpsNum, fpsDen: src.fpsDen, gop, preset, hr: geo, lr },
            renditions,
            out,
            work,
            opts.signal,
          );
          scenes.reset();
        }
        const hr: RgbImage = { width: geo.width, height: geo.height, data: next.value };
        t = performance.now();
        const sceneCut = scenes.next(hr);
        const y = (await rescaler.process(hr, { index: frameNo, sceneCut })).data;
        times.rescale += performance.now() - t;
        t = performance.now();
        await flicker?.add(hr, y, sceneCut);
        times.flicker += performance.now() - t;
        if (loop) held.push({ hr: hr.data, lr: y });
        else {
          t = performance.now();
          await chunk.write(hr.data, () => y);
          times.encode += performance.now() - t;
        }
        encodedFrames++;
        if (hooks.onFrame) {
          const el = (performance.now() - runStart) / 1000;
          const rate = encodedFrames / Math.max(el, 1e-3);
          const of = Number.isFinite(expected) ? expected : n;
          hooks.onFrame({ frame: n, of, fps: rate, eta_s: Math.max(0, (of - n) / rate) });
        }
        if ((loop ? held.length : chunk.frameCount) === gop) {
          const c = chunk;
          chunk = undefined;
          await completeChunk(c);
        }
      }
      // a Ctrl-C reaches the decoder too, which then ends its output early: not the end of the video
      if (opts.signal?.aborted) throw new HcdError('interrupted; finished segments are kept, run again with --resume', 130);
      if (chunk) {
        const c = chunk;
        chunk = undefined;
        await completeChunk(c);
      }
    } catch (e) {
      await chunk?.abort();
      removeLeftovers(out, work, renditions);
      if (opts.signal?.aborted) throw new HcdError('interrupted; finished segments are kept, run again with --resume', 130);
      if (e instanceof HcdError) throw e;
      throw new HcdError(`encoding failed: ${(e as Error).message.split('\n')[0]}`);
    } finally {
      await frames.return(undefined); // stops the decoder if we left early
      await rescaler.close();
      await loop?.close();
      flickerSummary = flicker?.summary();
      await flicker?.close();
    }
    // a file cut short can also decode "cleanly" to fewer frames than its index promises
    if (src.framesExact && n < expected - 1) throw new HcdError(`${opts.input} ends after ${n} of ${expected} frames: the file is truncated or corrupt`);
    if (n === 0) throw new HcdError(`no frames could be decoded from ${opts.input}`);
    total = n;
    state.complete = true;
    state.totalFrames = n;
    writeState(out, state);
  }
  await writePlaylists(true);
  rmSync(work, { recursive: true, force: true });

  const totalS = (performance.now() - t0) / 1000;
  const chunks = [...state.chunks].sort((a, b) => a.index - b.index);
  return {
    done: true,
    frames: total,
    encodedFrames,
    fps: encodedFrames / Math.max(totalS, 1e-3),
    stages: { decode_s: times.decode / 1000, rescale_s: times.rescale / 1000, codec_loop_s: times.codecLoop / 1000, flicker_s: times.flicker / 1000, encode_s: times.encode / 1000, total_s: totalS },
    ...(loopStats.length ? { codecLoop: loopStats } : {}),
    ...(flickerSummary ? { flicker: flickerSummary } : {}),
    renditions: renditions.map((r) => {
      const bw = bandwidths(chunks.map((c) => ({ uri: '', duration: (c.frames * src.fpsDen) / src.fpsNum, bytes: c.bytes[r.name] })));
      const info = state.info[r.name];
      return { name: r.name, bandwidth: bw.peak, averageBandwidth: bw.average, resolution: `${info.width}x${info.height}`, codecs: info.codecs, playlist: `${r.name}/index.m3u8` };
    }),
    master: 'master.m3u8',
  };
}
