import { RGB_TO_YUV709 } from './colour.js';
import { fileArg, rawRgbInput } from './ffmpeg.js';

/**
 * ffmpeg arguments for one chunk of one rendition. A chunk is a whole number of segments and
 * each segment is one closed GOP, so chunks encode independently: a chunk's bytes do not depend
 * on what came before, which is what lets --resume give the same files as an uninterrupted run.
 */
export interface X264Options {
  width: number;
  height: number;
  fpsNum: number;
  fpsDen: number;
  /** Target video bitrate in bits/s. */
  bitrate: number;
  /** Frames per GOP (= per segment). */
  gop: number;
  preset: string;
  out: string;
}

/** Peak rate and VBV buffer relative to the target: enough headroom for a 4 s GOP's I-frame. */
export const MAXRATE_FACTOR = 1.5;
export const BUFSIZE_FACTOR = 2;

/**
 * SDT names with a leading 0x15 byte ("UTF-8 follows", ETSI EN 300 468 annex A). Without a
 * charset byte, readers convert the names from ISO 6937 with iconv, and the bundled static
 * ffprobe crashes there on every MPEG-TS file ffmpeg writes by default.
 */
const TS_NAMES = ['-metadata', 'service_provider=\x15hcd-stream', '-metadata', 'service_name=\x15hcd-stream'];

/**
 * Without it ffmpeg exits 0 when writing its output fails (a full disk: "Error writing trailer"),
 * leaving a cut-short file that would pass for a finished segment. Only for inputs we made
 * ourselves: on a user's file it would also make every concealable decoding error fatal.
 */
const EXIT_ON_ERROR = ['-xerror'];

export function x264Args(o: X264Options): string[] {
  const b = Math.round(o.bitrate);
  return [
    ...rawRgbInput(o.width, o.height, `${o.fpsNum}/${o.fpsDen}`),
    // RGB -> YUV exactly as the player (and decode.ts) converts back: BT.709, limited range
    '-vf', RGB_TO_YUV709,
    '-c:v', 'libx264', '-preset', o.preset, '-profile:v', 'high',
    // one thread and bitexact flags: the same frames always give the same bytes
    '-threads', '1',
    '-b:v', String(b), '-maxrate', String(Math.round(b * MAXRATE_FACTOR)), '-bufsize', String(Math.round(b * BUFSIZE_FACTOR)),
    '-g', String(o.gop), '-keyint_min', String(o.gop), '-sc_threshold', '0',
    '-force_key_frames', 'expr:eq(n,0)', '-x264-params', 'open-gop=0',
    '-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709', '-color_range', 'tv',
    '-an', '-fflags', '+bitexact', '-flags:v', '+bitexact', '-map_metadata', '-1', ...TS_NAMES,
    ...EXIT_ON_ERROR, '-f', 'mpegts', fileArg(o.out),
  ];
}

/**
 * Every segment's timestamps are shifted by this much more than its start time. x264's B-frames
 * give the first frame a negative DTS, and without the margin ffmpeg would shift the first
 * chunk (offset 0) but not the others, leaving a two-frame overlap between segments 0 and 1.
 */
export const TS_BASE = 1;

export function muxArgs(o: { video: string; audio?: { file: string; offset: number }; start: number; out: string }): string[] {
  const args = ['-f', 'mpegts', '-i', fileArg(o.video)];
  // ADTS has no timestamps: the slice's first frame is placed by its offset from the chunk start
  if (o.audio) args.push('-itsoffset', o.audio.offset.toFixed(6), '-f', 'aac', '-i', fileArg(o.audio.file));
  args.push('-map', '0:v:0');
  if (o.audio) args.push('-map', '1:a:0');
  args.push(
    '-c', 'copy', '-output_ts_offset', (o.start + TS_BASE).toFixed(6),
    '-fflags', '+bitexact', '-map_metadata', '-1', ...TS_NAMES,
    ...EXIT_ON_ERROR, '-f', 'mpegts', fileArg(o.out),
  );
  return args;
}
