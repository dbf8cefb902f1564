import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readFrames } from '../media/decode.js';
import { FfmpegSink } from '../media/ffmpeg.js';
import { x264Args } from '../media/x264.js';
import type { Roundtrip } from '../hcd/codec-loop.js';

export interface RoundtripSpec {
  lr: { width: number; height: number };
  fpsNum: number;
  fpsDen: number;
  bitrate: number;
  gop: number;
  preset: string;
  /** Where the one temporary stream goes (removed after). */
  file: string;
  signal?: AbortSignal;
}

/**
 * The codec loop's real encode and decode of one chunk of LR frames: the very x264 settings the
 * rendition's segment gets (same arguments, same closed GOP), decoded back as the player does.
 */
export function x264Roundtrip(o: RoundtripSpec): Roundtrip {
  return async (frames) => {
    // where the chunk lies on the timeline changes timestamps only, never the coded pictures
    const place = { start: 0, fragmentIndex: 1 };
    const sink = new FfmpegSink(x264Args({ ...o.lr, fpsNum: o.fpsNum, fpsDen: o.fpsDen, rate: { bitrate: o.bitrate }, gop: o.gop, preset: o.preset, place, out: o.file }), o.signal);
    try {
      for (const f of frames) await sink.write(f);
      await sink.end();
    } catch (e) {
      await sink.kill();
      throw e;
    }
    const back: Uint8Array[] = [];
    for await (const f of readFrames(o.file, { width: o.lr.width, height: o.lr.height, passthrough: true })) back.push(f);
    const bytes = statSync(o.file).size;
    rmSync(o.file, { force: true });
    return { frames: back, bytes };
  };
}

export const loopFile = (work: string, rendition: string): string => join(work, `loop-${rendition}.mp4`);
