import { fileArg, runFfmpeg } from './ffmpeg.js';
import { fragmentedMp4Args, type FragmentPlace } from './x264.js';

/**
 * The audio is encoded once for the whole video and cut into segments by AAC frame. Encoding
 * each chunk's audio on its own would restart the encoder at every segment: each would bring its
 * own priming frame and end on a partial frame, so consecutive segments overlap by a fraction of
 * a frame and players see timestamps go backwards. Cut from one stream, the segments join into
 * exactly the stream the encoder made.
 */
export interface AacTrack {
  data: Buffer;
  /** Byte offset and length of every ADTS frame. */
  frames: { offset: number; length: number }[];
  sampleRate: number;
}

/** Samples of encoder delay before the first real sample; ffmpeg's AAC encoder writes one frame. */
export const AAC_PRIMING = 1024;
const SAMPLES_PER_FRAME = 1024;
const ADTS_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

export function parseAdts(data: Buffer): AacTrack {
  const frames: { offset: number; length: number }[] = [];
  let sampleRate = 0;
  for (let p = 0; p + 7 <= data.length; ) {
    if (data[p] !== 0xff || (data[p + 1] & 0xf0) !== 0xf0) throw new Error(`ADTS sync lost at byte ${p}`);
    const length = ((data[p + 3] & 0x03) << 11) | (data[p + 4] << 3) | (data[p + 5] >> 5);
    if (length < 7 || p + length > data.length) throw new Error(`bad ADTS frame length ${length} at byte ${p}`);
    sampleRate ||= ADTS_RATES[(data[p + 2] >> 2) & 0x0f] ?? 0;
    frames.push({ offset: p, length });
    p += length;
  }
  return { data, frames, sampleRate };
}

/** The source's first audio track, `duration` seconds long (padded with silence), as AAC-LC stereo. */
export async function encodeAudioTrack(input: string, o: { duration: number; bitrate: number; signal?: AbortSignal }): Promise<AacTrack> {
  const { stdout } = await runFfmpeg(
    [
      '-i', fileArg(input), '-map', '0:a:0', '-vn', '-af', 'apad', '-t', o.duration.toFixed(6),
      '-c:a', 'aac', '-b:a', String(o.bitrate), '-ac', '2',
      '-fflags', '+bitexact', '-flags:a', '+bitexact', '-f', 'adts', 'pipe:1',
    ],
    { signal: o.signal },
  );
  return parseAdts(stdout);
}

/**
 * The frames whose first real sample lies in [start, end) seconds, and where the first of them
 * starts relative to `start` (negative for the priming frame at the very beginning).
 */
export function audioSlice(track: AacTrack, start: number, end: number): { bytes: Buffer; offset: number; frames: number } | undefined {
  const t = (j: number) => (j * SAMPLES_PER_FRAME - AAC_PRIMING) / track.sampleRate;
  const picked: number[] = [];
  for (let j = 0; j < track.frames.length; j++) {
    const tj = t(j);
    // the priming frame (tj < 0) belongs to the first chunk
    if ((tj >= start || (start === 0 && tj < 0)) && tj < end) picked.push(j);
  }
  if (picked.length === 0) return undefined;
  const first = track.frames[picked[0]];
  const last = track.frames[picked[picked.length - 1]];
  return { bytes: track.data.subarray(first.offset, last.offset + last.length), offset: t(picked[0]) - start, frames: picked.length };
}

/** The duration in seconds of `frames` AAC frames at `sampleRate`. */
export function aacDuration(frames: number, sampleRate: number): number {
  return (frames * SAMPLES_PER_FRAME) / sampleRate;
}

/**
 * ffmpeg arguments that put one chunk's ADTS slice into fragmented MP4 on the video's timeline:
 * ADTS has no timestamps, so the slice's first frame is placed by its offset from the chunk start.
 * The nominal bitrate goes into the init segment's esds; left to itself ffmpeg writes its estimate
 * from the slice, and every chunk's init segment would differ.
 */
export function aacFragmentArgs(o: { audio: string; offset: number; bitrate: number; place: FragmentPlace; out: string }): string[] {
  return [
    '-itsoffset', o.offset.toFixed(6), '-f', 'aac', '-i', fileArg(o.audio),
    '-map', '0:a:0', '-c', 'copy', '-b:a', String(o.bitrate), '-bsf:a', 'aac_adtstoasc', ...fragmentedMp4Args(o.place), fileArg(o.out),
  ];
}
