import { RGB_TO_YUV709 } from './colour.js';
import { fileArg, rawRgbInput } from './ffmpeg.js';

/**
 * ffmpeg arguments for one chunk of one rendition. A chunk is one segment of whole closed GOPs,
 * so chunks encode independently: a chunk's bytes do not depend on what came before, which is
 * what lets --resume give the same files as an uninterrupted run.
 */
export interface X264Options {
  width: number;
  height: number;
  fpsNum: number;
  fpsDen: number;
  /** Target video bitrate in bits/s (with VBV), or a constant rate factor where the ladder's probe maps a curve. */
  rate: { bitrate: number } | { crf: number };
  /**
   * The size of the RGB frames piped in, where it differs from the encoded size: a conventional
   * downscaled rung, scaled by ffmpeg with bicubic (CONVENTIONAL_DOWN) before the colour conversion.
   */
  input?: { width: number; height: number };
  /** A file of the raw RGB frames to read instead of stdin (the ladder probe encodes one window many times). */
  from?: string;
  /** Frames per GOP: every one of them starts with an IDR frame. */
  gop: number;
  preset: string;
  /** Where the chunk's first frame lies in the video, in seconds, and the number of its first fragment. */
  place: FragmentPlace;
  out: string;
}

/** Peak rate and VBV buffer relative to the target: enough headroom for an I-frame every GOP. */
export const MAXRATE_FACTOR = 1.5;
export const BUFSIZE_FACTOR = 2;

/**
 * Without it ffmpeg exits 0 when writing its output fails (a full disk: "Error writing trailer"),
 * leaving a cut-short file that would pass for a finished segment. Only for inputs we made
 * ourselves: on a user's file it would also make every concealable decoding error fatal.
 */
const EXIT_ON_ERROR = ['-xerror'];

/**
 * Every chunk's timestamps are shifted by this much more than its start time. x264's B-frames
 * decode up to two frames before they are shown; the margin keeps the first chunk's decode
 * times positive down to 0.2 fps, so every chunk is shifted alike and video and audio, shifted
 * by the same, stay in sync.
 */
export const TIMELINE_BASE = 10;

export interface FragmentPlace {
  /** Seconds of video before the chunk. */
  start: number;
  /** The moof sequence number of the chunk's first fragment (from 1, rising through the track). */
  fragmentIndex: number;
}

/**
 * Fragmented MP4 as HLS wants it (init segment, then one moof + mdat per GOP, no index or
 * trailer): one timeline for every chunk. `frag_discont` makes the first fragment's decode time
 * the real one instead of zero; without an edit list a frame is shown at its own presentation
 * time, which is then its place in the video plus TIMELINE_BASE exactly. `delay_moov` writes the
 * init segment once the first packet is in: AAC taken from ADTS has its decoder configuration
 * only then, and an esds without it is one no player can set up a decoder from.
 */
export function fragmentedMp4Args(place: FragmentPlace): string[] {
  return [
    '-output_ts_offset', (place.start + TIMELINE_BASE).toFixed(6), '-avoid_negative_ts', 'disabled',
    '-use_editlist', '0', '-fragment_index', String(place.fragmentIndex),
    '-movflags', '+frag_keyframe+empty_moov+delay_moov+default_base_moof+skip_trailer+frag_discont',
    '-fflags', '+bitexact', '-map_metadata', '-1', ...EXIT_ON_ERROR, '-f', 'mp4',
  ];
}

/** The standard downscale of a conventional rung, and the upscale its measurement displays it with. */
export const conventionalScale = (width: number, height: number): string => `scale=${width}:${height}:flags=bicubic`;

function rateArgs(rate: X264Options['rate']): string[] {
  if ('crf' in rate) return ['-crf', String(rate.crf)];
  const b = Math.round(rate.bitrate);
  return ['-b:v', String(b), '-maxrate', String(Math.round(b * MAXRATE_FACTOR)), '-bufsize', String(Math.round(b * BUFSIZE_FACTOR))];
}

export function x264Args(o: X264Options): string[] {
  const input = o.input ?? o;
  const scaled = input.width !== o.width || input.height !== o.height;
  return [
    ...rawRgbInput(input.width, input.height, `${o.fpsNum}/${o.fpsDen}`, o.from),
    // RGB -> YUV exactly as the player (and decode.ts) converts back: BT.709, limited range
    '-vf', scaled ? `${conventionalScale(o.width, o.height)},${RGB_TO_YUV709}` : RGB_TO_YUV709,
    '-c:v', 'libx264', '-preset', o.preset, '-profile:v', 'high',
    // one thread and bitexact flags: the same frames always give the same bytes
    '-threads', '1',
    ...rateArgs(o.rate),
    // an IDR frame exactly every GOP (forced, as x264 may move its own), closed GOPs, no scene cuts
    '-g', String(o.gop), '-keyint_min', String(o.gop), '-sc_threshold', '0',
    '-force_key_frames', `expr:eq(mod(n,${o.gop}),0)`, '-x264-params', 'open-gop=0',
    '-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709', '-color_range', 'tv',
    '-an', '-flags:v', '+bitexact', ...fragmentedMp4Args(o.place), fileArg(o.out),
  ];
}
