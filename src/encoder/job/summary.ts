import type { FlickerSummary } from './flicker.js';
import type { LoopStat } from './chunks.js';
import type { ClaimedJob } from './open.js';
import { MASTER, MASTER_PLAIN, MEDIA_PLAYLIST } from './names.js';
import { audioSegments } from './segments.js';
import { bandwidths } from './playlist.js';
import { rungOf } from './variants.js';
import type { StageTimers } from './timers.js';
import type { MeasuredRung } from '../ladder/report.js';
import { LADDER_FILE } from './ladder.js';
import { LADDER_CHART } from './measured.js';

/** A variant as the master lists it: its numbers include its audio group's segments. */
export interface RenditionSummary {
  name: string;
  bandwidth: number;
  averageBandwidth: number;
  resolution: string;
  codecs: string;
  playlist: string;
  /** Its audio group's rendition; absent for a silent input. */
  audio?: string;
}

export interface AudioSummary {
  name: string;
  bitrate: number;
  /** Measured from its segments. */
  averageBandwidth: number;
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
  audio: AudioSummary[];
  master: string;
  /** The master without LR rungs, for players without the upscaler; absent without conventional rungs. */
  masterPlain?: string;
  /** Each rung's quality measured on the whole encode (with `measure`), beside the auto ladder's prediction. */
  quality?: MeasuredRung[];
  /** The auto ladder's decision and its picture. */
  ladder?: { report: string; chart: string };
}

export interface RunResult {
  encodedFrames: number;
  quality?: MeasuredRung[];
  loopStats: LoopStat[];
  flicker?: FlickerSummary;
}

export function summarize(j: ClaimedJob, run: RunResult, timers: StageTimers, totalS: number): EncodeSummary {
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
      const v = rungOf(j, r)!.variant;
      return { name: r.name, bandwidth: v.bandwidth, averageBandwidth: v.averageBandwidth, resolution: `${v.width}x${v.height}`, codecs: v.codecs, playlist: v.uri, ...(r.audio ? { audio: r.audio } : {}) };
    }),
    audio: j.audio.map((a) => ({ name: a.name, bitrate: a.bitrate, averageBandwidth: bandwidths(audioSegments(j, a.name)).average, playlist: `${a.name}/${MEDIA_PLAYLIST}` })),
    master: MASTER,
    ...(j.renditions.some((r) => r.kind !== 'lr') ? { masterPlain: MASTER_PLAIN } : {}),
    ...(run.quality ? { quality: run.quality } : {}),
    ...(j.ladderReport ? { ladder: { report: LADDER_FILE, chart: LADDER_CHART } } : {}),
  };
}
