import type { QualityScores } from '../encoder/media/quality.js';
import type { VmafReport } from '../encoder/media/vmaf.js';

export type { VmafReport };
/**
 * The pipelines `hcd compare` measures. Each one turns source frames into a low-resolution
 * video that is x264-encoded at every CRF, then turns the decoded video back into frames at the
 * source size the way the viewer's player would. Quality is always measured there, against the
 * source, and bitrate is always the size of the encoded stream.
 *
 * Two kinds, so that the learned pipelines plug in without touching the runner:
 * - 'ffmpeg': both resampling steps are ffmpeg filters on YUV (conventional scaling, pipelines A,
 *   B, B34, B2, B4).
 * - 'frames': both steps are functions on packed RGB frames (the learned downscaler / HCD on the
 *   server, the ONNX upscaler in the browser; pipelines C/D/E/C4).
 */
export interface Size {
  width: number;
  height: number;
}

export interface PipelineBase {
  /** The key in the report ('A', 'B', 'B34', 'C4', ...). */
  id: string;
  /** What it is, for the report and the chart legend. */
  label: string;
  /**
   * Downscale factor: the encoded video is source/scale (1 = source resolution, 4/3 = 3/4 size).
   * A fraction with a small denominator (scales.ts keeps the sizes exact).
   */
  scale: number;
}

export interface FfmpegPipeline extends PipelineBase {
  kind: 'ffmpeg';
  /** Filter from the source (yuv420p) to the video to encode; undefined = encode the source as is. */
  downFilter(source: Size, lr: Size): string | undefined;
  /** Filter from the decoded video to the display size; undefined = show as decoded. */
  upFilter(source: Size, lr: Size): string | undefined;
}

export interface FramePipeline extends PipelineBase {
  kind: 'frames';
  /**
   * Source frames (packed RGB24, source size, BT.709 decoded) to low-resolution frames (packed
   * RGB24, source/scale). Runs once per compare; its output is encoded at every CRF.
   */
  downscale(frames: AsyncIterable<Uint8Array>, source: Size, lr: Size): AsyncIterable<Uint8Array>;
  /** Decoded low-resolution frames (packed RGB24) to display frames at the source size. */
  upscale(frames: AsyncIterable<Uint8Array>, lr: Size, source: Size): AsyncIterable<Uint8Array>;
  /** A pipeline whose `downscale` output equals this one's (E starts from D's frames): made once when both run. */
  sameLrAs?: string;
  /**
   * Per rate point (codec-aware HCD): the LR frames of one keyframe interval, their source frames
   * and a roundtrip through exactly this point's encoder and decoder; returns the LR frames to
   * encode at this point instead.
   */
  refine?(chunk: RefineChunk): Promise<Uint8Array[]>;
  /** Frees what the pipeline holds (sessions); called once the compare is done. */
  close?(): Promise<void>;
}

/** What `refine` gets: packed RGB24 frames, in order. */
export interface RefineChunk {
  source: Uint8Array[];
  lr: Uint8Array[];
  size: Size;
  /** Encodes these LR frames as the rate point does and decodes them as the player would. */
  roundtrip(frames: Uint8Array[]): Promise<{ frames: Uint8Array[]; bytes: number }>;
  /** The rate point, for logs. */
  crf: number;
}

export type Pipeline = FfmpegPipeline | FramePipeline;


/** One encoded rendition, measured. */
export interface RdRow extends Omit<QualityScores, 'frames'> {
  pipeline: string;
  crf: number;
  /** H.264 payload in bytes: the sum of the video packets in the MP4. */
  bytes: number;
  /** The MP4 file's size, container included. */
  file_bytes: number;
  /** bytes * 8 / duration, kbit/s. */
  bitrate_kbps: number;
  width: number;
  height: number;
  /** The encoded file, relative to the report folder. */
  file: string;
}

export interface CompareReport {
  tool: string;
  created: string;
  input: { path: string; start: number; width: number; height: number; original_width: number; original_height: number; fps: string; frames: number; seconds: number };
  x264: Record<string, string | number>;
  metrics: Record<string, string>;
  vmaf: VmafReport;
  bd: {
    metric: 'psnr_y';
    method: 'pchip';
    source_anchor: string;
    /** The hull's pipelines: those of the hull set (--hull) that ran. */
    hull_anchor: string[];
    /** Pipelines of the hull set that did not run, so the hull lacks them. */
    hull_missing: string[];
    hull: string;
    hull_crfs: number[];
    low_range: string;
  };
  pipelines: { id: string; label: string; kind: string; scale: number; lr_width: number; lr_height: number }[];
  points: RdRow[];
  /** BD-rate (%) of each pipeline against A (source resolution); null where the curves do not overlap. */
  bd_rate_vs_source: Record<string, number | null>;
  /**
   * BD-rate (%) of each pipeline against the best conventional pipeline at each quality: the
   * lower envelope of the hull pipelines' interpolated rate curves (bdRateVsBest). >= 0 for them.
   */
  bd_rate_vs_hull: Record<string, number | null>;
  /**
   * The same over each pipeline's low-bitrate range: the qualities between its lowest-rate point
   * and the highest of its lower-rate half of points (CRF 30-38 of the default five), where a
   * downscaled rendition is meant to be used. `bd_low_range` gives that range.
   */
  bd_rate_vs_hull_low: Record<string, number | null>;
  bd_low_range: Record<string, { kbps: [number, number]; psnr_y: [number, number] }>;
  /**
   * The share of each hull BD-rate's quality interval that no hull pipeline's measured points
   * cover (there the hull is extrapolated, not measured): full range and low range.
   */
  hull_gap_share: Record<string, { full: number | null; low: number | null }>;
  /**
   * Direct BD-rate (%) between neighbours in the method's ladder, over each pair's common range:
   * "C vs B", "D vs C", "E vs D", "E vs C", "C4 vs B4", "C4 vs C" (whichever both ran). The hull
   * figures above clip each pipeline to its overlap with the hull, so two pipelines are best
   * compared here.
   */
  bd_rate_between: Record<string, number | null>;
  /** BD-PSNR (dB) against A. */
  bd_psnr_vs_source: Record<string, number | null>;
  /** The same BD-rates with PSNR-YUV, SSIM-Y or (when measured) VMAF as the quality axis. */
  bd_rate_other_metrics: Record<'psnr_yuv' | 'ssim_y', OtherMetricBd> & { vmaf?: OtherMetricBd };
  crops: CropReport | null;
}


/** BD-rates (%) on one quality axis. */
export interface OtherMetricBd {
  vs_source: Record<string, number | null>;
  vs_hull: Record<string, number | null>;
  /** Against the hull over each pipeline's low-bitrate range, on this axis. */
  vs_hull_low: Record<string, number | null>;
  /** That range on this axis: the qualities of the pipeline's lower-rate half of points. */
  low_range: Record<string, [number, number]>;
}

export interface CropReport {
  /** The bitrate the crops compare at: each pipeline shows its rendition nearest to it. */
  target_kbps: number;
  /** The rendition each pipeline's crop comes from. */
  renditions: Record<string, { crf: number; bitrate_kbps: number }>;
  /** 0-based frame index the crops come from. */
  frame: number;
  x: number;
  y: number;
  width: number;
  height: number;
  /** PNG paths relative to the report folder: 'source' and one per pipeline. */
  files: Record<string, string>;
  /** Our own BT.601-Y PSNR / SSIM (SR-paper convention) of each pipeline's crop against the source crop. */
  psnr_y: Record<string, number>;
  ssim_y: Record<string, number>;
}
