import type { FlickerSummary } from './flicker.js';
import type { LoopStat } from './chunks.js';
import type { OpenJob } from './open.js';
import { bandwidths } from './playlist.js';
import { segmentsOf } from './publish.js';
import type { StageTimers } from './timers.js';

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
  /** Codec-aware mode, per rendition and chunk this run encoded (not those of an earlier run). */
  codecLoop?: LoopStat[];
  renditions: RenditionSummary[];
  master: string;
}

export interface RunResult {
  encodedFrames: number;
  loopStats: LoopStat[];
  flicker?: FlickerSummary;
}

export function summarize(j: OpenJob, run: RunResult, timers: StageTimers, totalS: number): EncodeSummary {
  return {
    done: true,
    frames: j.state.totalFrames,
    encodedFrames: run.encodedFrames,
    fps: run.encodedFrames / Math.max(totalS, 1e-3),
    stages: {
      decode_s: timers.seconds('decode'),
      rescale_s: timers.seconds('rescale'),
      codec_loop_s: timers.seconds('codecLoop'),
      flicker_s: timers.seconds('flicker'),
      encode_s: timers.seconds('encode'),
      total_s: totalS,
    },
    ...(run.loopStats.length ? { codecLoop: run.loopStats } : {}),
    ...(run.flicker ? { flicker: run.flicker } : {}),
    renditions: j.renditions.map((r) => {
      const bw = bandwidths(segmentsOf(j, r.name));
      const info = j.state.info[r.name];
      return { name: r.name, bandwidth: bw.peak, averageBandwidth: bw.average, resolution: `${info.width}x${info.height}`, codecs: info.codecs, playlist: `${r.name}/index.m3u8` };
    }),
    master: 'master.m3u8',
  };
}
