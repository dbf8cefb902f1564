import { HcdError } from '../../shared/errors.js';
import type { AacTrack } from '../media/audio.js';
import { encodeAudioTrack } from '../media/audio.js';
import { ChunkEncoder } from './chunk.js';
import { interrupted } from './interrupted.js';
import type { JobPlan, OpenJob } from './open.js';
import type { RenditionInfo } from '../media/measure.js';
import { recordChunk } from './record.js';
import { loopFile, x264Roundtrip } from './roundtrip.js';
import type { ChunkRecord } from './state.js';
import type { StageTimers } from './timers.js';

/** Codec-aware mode, per rendition and chunk: RGB PSNR after each roundtrip ([0] before the loop), bytes, and the pass kept. */
export interface LoopStat {
  rendition: string;
  chunk: number;
  psnr: number[];
  bytes: number[];
  kept: number;
}

/**
 * The source's audio, encoded once per audio group for the whole run alongside the first chunk's
 * video; chunks wait for it when they are finished. Empty for a silent source.
 */
export function startAudio(j: JobPlan, signal?: AbortSignal): Promise<Map<string, AacTrack>> {
  const fps = j.src.fpsNum / j.src.fpsDen;
  const duration = Number.isFinite(j.expected) ? j.expected / fps : j.src.duration;
  const encode = async (bitrate: number) => encodeAudioTrack(j.cfg.input, { duration, bitrate, signal });
  // one after the other: the video encoders have the cores
  const task = (async () => {
    const tracks = new Map<string, AacTrack>();
    for (const a of j.audio) tracks.set(a.name, await encode(a.bitrate));
    return tracks;
  })().catch((e: Error) => {
    if (signal?.aborted) throw interrupted();
    throw new HcdError(`cannot encode the audio of ${j.cfg.input}: ${e.message.split('\n')[0]}`);
  });
  task.catch(() => undefined); // observed here, thrown where it is awaited
  return task;
}

/** What happens to a finished chunk whose segments are in place. */
export type ChunkDone = (record: ChunkRecord, info: Record<string, RenditionInfo>) => void;

export interface ChunkRunnerOptions {
  /** The audio tracks by audio rendition name, when the caller has them (else encoded here). */
  audio?: Promise<Map<string, AacTrack>>;
  /** By default the chunk is recorded in state.json and the playlists (record.ts). */
  onChunk?: ChunkDone;
}

/**
 * The segment-long chunks of a run: opens each chunk's encoders at its first frame, feeds them,
 * and when a chunk is full finishes it (codec loop first in codec-aware mode), records it in
 * state.json and rewrites the playlists. Chunks already recorded are skipped by the caller.
 */
export class ChunkRunner {
  private chunk?: ChunkEncoder;
  /** Codec-aware mode holds a chunk's frames until it is complete. */
  private held: { hr: Uint8Array; lr: Uint8Array }[] = [];
  private readonly audio: Promise<Map<string, AacTrack>>;
  private readonly onChunk: ChunkDone;
  readonly loopStats: LoopStat[] = [];

  constructor(
    private readonly j: OpenJob,
    private readonly timers: StageTimers,
    private readonly signal?: AbortSignal,
    opts: ChunkRunnerOptions = {},
  ) {
    this.audio = opts.audio ?? startAudio(j, signal);
    this.onChunk = opts.onChunk ?? ((record, info) => recordChunk(j, record, info));
  }

  /** True when the chunk holding frame `n` was finished by an earlier run. */
  isDone(n: number): boolean {
    const index = Math.floor(n / this.j.chunk);
    return this.j.state.chunks.some((c) => c.index === index);
  }

  /** Adds frame `n` (its HR pixels and its LR frame); finishes the chunk when it is full. */
  async add(n: number, hr: Uint8Array, lr: Uint8Array): Promise<void> {
    const c = this.open(n);
    if (this.j.loop) this.held.push({ hr, lr });
    else await this.timers.time('encode', () => c.write(hr, () => lr));
    if ((this.j.loop ? this.held.length : c.frameCount) === this.j.chunk) await this.flush();
  }

  /** True at the first frame of a chunk: frame-to-frame state must not cross it. */
  startsChunk(): boolean {
    return !this.chunk;
  }

  /** Finishes a partly filled last chunk. */
  async flush(): Promise<void> {
    const c = this.chunk;
    this.chunk = undefined;
    if (c) await this.complete(c);
  }

  async abort(): Promise<void> {
    await this.chunk?.abort();
  }

  private open(n: number): ChunkEncoder {
    const { src, gop, chunk, cfg, geo, lr, renditions, audio, out, work, tag } = this.j;
    this.chunk ??= new ChunkEncoder(
      { index: Math.floor(n / chunk), startFrame: n, fpsNum: src.fpsNum, fpsDen: src.fpsDen, gop, gops: chunk / gop, preset: cfg.preset, hr: geo, lr, tag },
      renditions,
      audio,
      out,
      work,
      this.signal,
    );
    return this.chunk;
  }

  private async complete(c: ChunkEncoder): Promise<void> {
    if (this.j.loop) await this.runLoop(c);
    await this.timers.time('encode', () => this.finish(c));
  }

  /** Each LR rendition's frames through the closed loop with that rendition's own x264 settings. */
  private async runLoop(c: ChunkEncoder): Promise<void> {
    const { loop, lr, src, cfg, work } = this.j;
    const byName = new Map<string, Uint8Array[]>();
    await this.timers.time('codecLoop', async () => {
      const hrs = this.held.map((h) => h.hr);
      const base = this.held.map((h) => h.lr);
      for (const r of this.j.renditions.filter((x) => x.kind === 'lr')) {
        const roundtrip = x264Roundtrip({ lr, fpsNum: src.fpsNum, fpsDen: src.fpsDen, bitrate: r.bitrate, gop: c.spec.gop, preset: cfg.preset, file: loopFile(work, r.name), signal: this.signal });
        const res = await loop!.run(hrs, base, lr, roundtrip, cfg.codecLoop);
        byName.set(r.name, res.frames);
        this.loopStats.push({ rendition: r.name, chunk: c.spec.index, psnr: res.losses.map((m) => -10 * Math.log10(m)), bytes: res.bytes, kept: res.best });
      }
    });
    await this.timers.time('encode', async () => {
      for (let i = 0; i < this.held.length; i++) await c.write(this.held[i].hr, (name) => byName.get(name)![i]);
    });
    this.held = [];
  }

  private async finish(c: ChunkEncoder): Promise<void> {
    const done = await c.finish(await this.audio, (name) => !this.j.state.info[name]);
    const audio = done.audio === undefined ? {} : { audio: done.audio };
    const record: ChunkRecord = { index: c.spec.index, startFrame: c.spec.startFrame, frames: c.frameCount, bytes: done.bytes, iframes: done.iframes, ...audio };
    this.onChunk(record, done.info);
  }
}
