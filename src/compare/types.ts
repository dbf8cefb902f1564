/**
 * The pipelines `hcd compare` measures. Each one turns source frames into a low-resolution
 * video that is x264-encoded at every CRF, then turns the decoded video back into frames at the
 * source size the way the viewer's player would. Quality is always measured there, against the
 * source, and bitrate is always the size of the encoded stream.
 *
 * Two kinds, so that the learned pipelines plug in without touching the runner:
 * - 'ffmpeg': both resampling steps are ffmpeg filters on YUV (conventional scaling, pipelines A/B).
 * - 'frames': both steps are functions on packed RGB frames (the learned downscaler / HCD on the
 *   server, the ONNX upscaler in the browser; pipelines C/D/E).
 */
export interface Size {
  width: number;
  height: number;
}

export interface PipelineBase {
  /** One letter, the key in the report ('A', 'B', ...). */
  id: string;
  /** What it is, for the report and the chart legend. */
  label: string;
  /** Integer downscale factor: the encoded video is source/scale (1 = source resolution). */
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

/**
 * Quality at source size after the display upscaler. PSNRs are means over frames of per-frame
 * PSNR (dB, capped at 100 for identical frames); psnr_yuv is (6 Y + U + V) / 8, the JCT-VC
 * weighting; SSIM is ffmpeg's filter on Y and on all planes; VMAF is null when no model was
 * available (never estimated).
 */
export interface QualityScores {
  frames: number;
  psnr_y: number;
  psnr_u: number;
  psnr_v: number;
  psnr_yuv: number;
  ssim_y: number;
  ssim_all: number;
  vmaf: number | null;
}

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
