import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runFfmpeg } from '../media/ffmpeg.js';
import { allSettled, commitAtomic } from '../media/files.js';
import type { Rendition } from './state.js';
import { FfmpegSink } from '../media/ffmpeg.js';
import { audioSlice, type AacTrack } from '../media/audio.js';
import { muxArgs, x264Args } from '../media/x264.js';

export interface ChunkSpec {
  index: number;
  startFrame: number;
  fpsNum: number;
  fpsDen: number;
  gop: number;
  preset: string;
  hr: { width: number; height: number };
  lr: { width: number; height: number };
}

export const segmentName = (index: number) => `seg_${String(index).padStart(5, '0')}.ts`;

/**
 * One chunk (one segment) of every rendition at once: an x264 process per rendition fed by pipe,
 * then, once the chunk's length is known, its audio and the final mux. Until finish() returns,
 * nothing under the rendition folders has changed except complete, renamed segments.
 */
export class ChunkEncoder {
  private readonly sinks = new Map<string, FfmpegSink>();
  private frames = 0;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    readonly spec: ChunkSpec,
    private readonly renditions: Rendition[],
    private readonly outdir: string,
    private readonly workdir: string,
    private readonly signal?: AbortSignal,
  ) {
    for (const r of renditions) {
      const size = r.kind === 'lr' ? spec.lr : spec.hr;
      mkdirSync(join(workdir, r.name), { recursive: true });
      const out = join(workdir, r.name, `${spec.index}.ts`);
      this.sinks.set(r.name, new FfmpegSink(x264Args({ ...size, fpsNum: spec.fpsNum, fpsDen: spec.fpsDen, bitrate: r.bitrate, gop: spec.gop, preset: spec.preset, out }), signal));
    }
  }

  get frameCount(): number {
    return this.frames;
  }

  /**
   * One frame for every rendition: `lr(name)` gives the LR frame for an LR rendition. Returns once
   * the previous frame has been taken, so the encoders work on frame k while the caller decodes
   * and rescales frame k+1 (one frame in flight, memory stays flat).
   */
  async write(hr: Uint8Array, lr: (name: string) => Uint8Array): Promise<void> {
    await this.inFlight;
    const p = Promise.all(this.renditions.map((r) => this.sinks.get(r.name)!.write(r.kind === 'lr' ? lr(r.name) : hr))).then(() => undefined);
    p.catch(() => undefined); // observed here, thrown by the next write() or finish()
    this.inFlight = p;
    this.frames++;
  }

  /**
   * Finishes the encoders, adds this chunk's part of `track` (the whole video's audio, absent for
   * a silent video), and renames the segments into place. Returns bytes per rendition.
   */
  async finish(track?: AacTrack): Promise<Record<string, number>> {
    await this.inFlight;
    await Promise.all([...this.sinks.values()].map((s) => s.end()));
    const { fpsNum, fpsDen, startFrame, index } = this.spec;
    const start = (startFrame * fpsDen) / fpsNum;
    const duration = (this.frames * fpsDen) / fpsNum;
    let audio: { file: string; offset: number } | undefined;
    const slice = track && audioSlice(track, start, start + duration);
    if (slice) {
      audio = { file: join(this.workdir, `audio-${index}.aac`), offset: slice.offset };
      writeFileSync(audio.file, slice.bytes);
    }
    const finals = this.renditions.map((r) => {
      mkdirSync(join(this.outdir, r.name), { recursive: true });
      return join(this.outdir, r.name, segmentName(index));
    });
    const mux = (r: Rendition, out: string) => runFfmpeg(muxArgs({ video: join(this.workdir, r.name, `${index}.ts`), audio, start, out }), { signal: this.signal });
    await commitAtomic(finals, (tmps) => allSettled(this.renditions.map((r, i) => mux(r, tmps[i]))));
    const bytes: Record<string, number> = {};
    for (const r of this.renditions) {
      bytes[r.name] = statSync(join(this.outdir, r.name, segmentName(index))).size;
      rmSync(join(this.workdir, r.name, `${index}.ts`), { force: true });
    }
    if (audio) rmSync(audio.file, { force: true });
    return bytes;
  }

  async abort(): Promise<void> {
    await Promise.all([...this.sinks.values()].map((s) => s.kill()));
  }
}
