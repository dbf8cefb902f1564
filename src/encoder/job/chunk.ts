import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aacDuration, aacFragmentArgs, audioSlice, type AacTrack } from '../media/audio.js';
import { FfmpegSink, runFfmpeg } from '../media/ffmpeg.js';
import { writeFilesAtomic } from '../media/files.js';
import { measureVideo, type RenditionInfo } from '../media/measure.js';
import { splitFragmented, type FragmentedMp4 } from '../media/mp4.js';
import { x264Args, type FragmentPlace } from '../media/x264.js';
import { initName, segmentName } from './names.js';
import type { AudioRendition, IFrameRecord, Rendition } from './state.js';

export interface ChunkSpec {
  index: number;
  startFrame: number;
  fpsNum: number;
  fpsDen: number;
  /** Frames per GOP, and GOPs per chunk (each GOP is one fragment). */
  gop: number;
  gops: number;
  preset: string;
  hr: { width: number; height: number };
  lr: { width: number; height: number };
  /** The job's tag in segment and init names. */
  tag: string;
}

/** What a finished chunk recorded, and what was measured of the renditions asked for. */
export interface ChunkResult {
  bytes: Record<string, number>;
  iframes: Record<string, IFrameRecord[]>;
  /** Seconds of AAC in the audio segments; undefined when the chunk has none. */
  audio?: number;
  info: Record<string, RenditionInfo>;
}

/** A rendition's chunk, packaged: where its segment goes and its fMP4 parts. */
interface Packaged {
  dir: string;
  mp4: FragmentedMp4;
}

/**
 * One chunk (one segment) of every rendition at once: an x264 process per video rendition fed
 * by pipe, writing fragmented MP4 on the video's timeline; once the chunk's length is known,
 * each audio group's slice of its track. Until finish() returns, nothing under the rendition
 * folders has changed except complete, renamed segments (and init segments on first use).
 */
export class ChunkEncoder {
  private readonly sinks = new Map<string, FfmpegSink>();
  private frames = 0;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    readonly spec: ChunkSpec,
    private readonly renditions: Rendition[],
    private readonly audio: AudioRendition[],
    private readonly outdir: string,
    private readonly workdir: string,
    private readonly signal?: AbortSignal,
  ) {
    const place = this.place(spec.index * spec.gops + 1);
    for (const r of renditions) {
      const size = r.kind === 'lr' ? spec.lr : (r.size ?? spec.hr);
      const input = r.kind === 'down' ? spec.hr : undefined;
      const args = x264Args({ ...size, input, fpsNum: spec.fpsNum, fpsDen: spec.fpsDen, rate: { bitrate: r.bitrate }, gop: spec.gop, preset: spec.preset, place, out: this.workFile(r.name) });
      this.sinks.set(r.name, new FfmpegSink(args, signal));
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
   * Finishes the encoders, packages each audio group's part of its track (`tracks` by audio
   * rendition name; none for a silent video), and puts every segment in place together.
   * `measure` names the video renditions whose RenditionInfo is wanted.
   */
  async finish(tracks: Map<string, AacTrack>, measure: (name: string) => boolean): Promise<ChunkResult> {
    await this.inFlight;
    await Promise.all([...this.sinks.values()].map((s) => s.end()));
    const result: ChunkResult = { bytes: {}, iframes: {}, info: {} };
    const parts = new Map<string, Packaged>();
    for (const r of this.renditions) {
      const mp4 = splitFragmented(readFileSync(this.workFile(r.name)));
      parts.set(r.name, { dir: join(this.outdir, r.name), mp4 });
      result.iframes[r.name] = mp4.fragments.map((f): IFrameRecord => [f.offset, f.keyLength, f.samples]);
      if (measure(r.name)) result.info[r.name] = await measureVideo(this.workFile(r.name));
    }
    for (const a of this.audio) {
      const packaged = await this.packageAudio(a, tracks.get(a.name));
      if (!packaged) continue;
      parts.set(a.name, { dir: join(this.outdir, a.name), mp4: packaged.mp4 });
      result.audio = packaged.seconds;
    }
    await this.commit(parts);
    for (const [name, p] of parts) result.bytes[name] = p.mp4.media.length;
    for (const name of parts.keys()) rmSync(this.workFile(name), { force: true });
    return result;
  }

  async abort(): Promise<void> {
    await Promise.all([...this.sinks.values()].map((s) => s.kill()));
  }

  private get start(): number {
    return (this.spec.startFrame * this.spec.fpsDen) / this.spec.fpsNum;
  }

  private place(fragmentIndex: number): FragmentPlace {
    return { start: this.start, fragmentIndex };
  }

  private workFile(name: string): string {
    mkdirSync(join(this.workdir, name), { recursive: true });
    return join(this.workdir, name, `${this.spec.index}.mp4`);
  }

  /** The AAC frames that start in this chunk, in fMP4; undefined when none does. */
  private async packageAudio(a: AudioRendition, track: AacTrack | undefined): Promise<{ mp4: FragmentedMp4; seconds: number } | undefined> {
    const duration = (this.frames * this.spec.fpsDen) / this.spec.fpsNum;
    const slice = track && audioSlice(track, this.start, this.start + duration);
    if (!track || !slice) return undefined;
    const adts = join(this.workdir, `${a.name}-${this.spec.index}.aac`);
    writeFileSync(adts, slice.bytes);
    // one fragment per audio segment: the index after the previous chunk's
    await runFfmpeg(aacFragmentArgs({ audio: adts, offset: slice.offset, bitrate: a.bitrate, place: this.place(this.spec.index + 1), out: this.workFile(a.name) }), { signal: this.signal });
    rmSync(adts, { force: true });
    return { mp4: splitFragmented(readFileSync(this.workFile(a.name))), seconds: aacDuration(slice.frames, track.sampleRate) };
  }

  /**
   * Writes every media segment of the chunk, and each init segment not yet on disk, as one
   * atomic group. An init segment already there must be the same bytes: every chunk of a
   * rendition is encoded with the same settings, and its segments are played after that one.
   */
  private async commit(parts: Map<string, Packaged>): Promise<void> {
    const files: [string, Uint8Array][] = [];
    for (const [name, p] of parts) {
      mkdirSync(p.dir, { recursive: true });
      const init = join(p.dir, initName(this.spec.tag));
      const old = readIfThere(init);
      if (!old) files.push([init, p.mp4.init]);
      else if (!old.equals(p.mp4.init)) throw new Error(`the init segment of ${name} differs from the one on disk (${init})`);
      files.push([join(p.dir, segmentName(this.spec.tag, this.spec.index)), p.mp4.media]);
    }
    await writeFilesAtomic(files);
  }
}

function readIfThere(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}
