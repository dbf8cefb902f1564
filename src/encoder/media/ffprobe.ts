/**
 * ffprobe through fluent-ffmpeg, which runs it and parses its sections into objects.
 *
 * fluent-ffmpeg is archived upstream (no releases since 2.1.3) and pinned at that version; it is
 * used for this and nothing else, so replacing it means replacing this file.
 */
import ffmpeg from 'fluent-ffmpeg';
import { HcdError } from '../../shared/errors.js';
import { cannotRun, fileArg, toolBinary, ToolError } from './tools.js';

export interface ProbeStream {
  index: number;
  codec_type: string;
  codec_name?: string;
  profile?: string;
  level?: number;
  width?: number;
  height?: number;
  pix_fmt?: string;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  nb_frames?: string;
  nb_read_frames?: string;
  duration?: string;
  start_time?: string;
  color_space?: string;
  color_transfer?: string;
  color_primaries?: string;
  color_range?: string;
}

export interface ProbeResult {
  streams: ProbeStream[];
  format: { duration?: string; start_time?: string; size?: string; bit_rate?: string; format_name?: string };
}

type Fields = Record<string, unknown>;

/**
 * fluent-ffmpeg reads ffprobe's text output, which prints what the JSON output leaves out as
 * 'N/A' or 'unknown', and turns every value that looks like a number into one: back to the JSON
 * view (values that are absent are undefined, numbers as strings where JSON has strings).
 */
const absent = (v: unknown): boolean => v === undefined || v === null || v === '' || v === 'N/A' || v === 'unknown';
const str = (v: unknown): string | undefined => (absent(v) ? undefined : String(v));
function num(v: unknown): number | undefined {
  const n = Number(v);
  return absent(v) || !Number.isFinite(n) ? undefined : n;
}

function stream(s: Fields): ProbeStream {
  return {
    index: num(s.index) ?? 0,
    codec_type: typeof s.codec_type === 'string' ? s.codec_type : '',
    codec_name: str(s.codec_name),
    profile: str(s.profile),
    level: num(s.level),
    width: num(s.width),
    height: num(s.height),
    pix_fmt: str(s.pix_fmt),
    r_frame_rate: str(s.r_frame_rate),
    avg_frame_rate: str(s.avg_frame_rate),
    nb_frames: str(s.nb_frames),
    nb_read_frames: str(s.nb_read_frames),
    duration: str(s.duration),
    start_time: str(s.start_time),
    color_space: str(s.color_space),
    color_transfer: str(s.color_transfer),
    color_primaries: str(s.color_primaries),
    color_range: str(s.color_range),
  };
}

function ffprobe(path: string, options: string[]): Promise<ffmpeg.FfprobeData> {
  return new Promise((resolve, reject) => {
    ffmpeg.ffprobe(path, options, (err: Error | null, data: ffmpeg.FfprobeData) => (err ? reject(err) : resolve(data)));
  });
}

/** ffprobe's view of a file. `countFrames` decodes the whole file to count frames exactly. */
export async function probe(file: string, opts: { countFrames?: boolean } = {}): Promise<ProbeResult> {
  const bin = toolBinary('ffprobe');
  // set on every call: FFPROBE_PATH may change between calls, fluent-ffmpeg would keep the first
  ffmpeg.setFfprobePath(bin.path);
  let data: ffmpeg.FfprobeData;
  try {
    data = await ffprobe(fileArg(file), ['-v', 'error', ...(opts.countFrames ? ['-count_frames'] : [])]);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err instanceof ToolError) throw err;
    if (err.syscall?.startsWith('spawn')) throw cannotRun(bin, err);
    throw new HcdError(`cannot read ${file} as media: ${err.message.trim().split('\n').join(': ')}`);
  }
  const f = data.format as Fields;
  return {
    streams: data.streams.map((s) => stream(s as unknown as Fields)),
    format: { duration: str(f.duration), start_time: str(f.start_time), size: str(f.size), bit_rate: str(f.bit_rate), format_name: str(f.format_name) },
  };
}
