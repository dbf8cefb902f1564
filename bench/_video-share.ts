/**
 * How much of each variant's bits are video, from the files of an `hcd encode` output folder:
 * H.264 payload (ffprobe's packet sizes) over the bytes a player fetches for it, its segments
 * plus those of its audio group (or, with audio muxed in, its segments alone). Init segments are
 * fetched once and left out. Works on MPEG-TS and fMP4 outputs alike.
 *
 *   node --import tsx bench/_video-share.ts OUTDIR
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileArg, runFfprobe } from '../src/encoder/media/ffmpeg.js';
import { parseAttributes } from '../src/encoder/job/playlist.js';

/** The segment files of a media playlist and its total duration. */
function segments(playlist: string): { files: string[]; seconds: number } {
  const lines = readFileSync(playlist, 'utf8').split('\n');
  const files: string[] = [];
  let seconds = 0;
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].startsWith('#EXTINF:')) continue;
    seconds += Number(lines[i].slice(8).split(',')[0]);
    files.push(join(dirname(playlist), lines[++i]));
  }
  return { files, seconds };
}

async function videoPayload(playlist: string): Promise<number> {
  const { stdout } = await runFfprobe(['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=size', '-of', 'csv=p=0', fileArg(playlist)]);
  // MPEG-TS packets print a trailing comma and a blank line
  return stdout.toString().split('\n').map((l) => parseInt(l, 10)).filter(Number.isFinite).reduce((n, b) => n + b, 0);
}

const bytes = (files: string[]): number => files.reduce((n, f) => n + statSync(f).size, 0);

async function main(out: string): Promise<void> {
  const master = readFileSync(join(out, 'master.m3u8'), 'utf8').split('\n');
  const audioUri = new Map(master.filter((l) => l.startsWith('#EXT-X-MEDIA:')).map((l) => parseAttributes(l)).map((a) => [a['GROUP-ID'], a.URI]));
  for (let i = 0; i < master.length; i++) {
    if (!master[i].startsWith('#EXT-X-STREAM-INF:')) continue;
    const group = parseAttributes(master[i]).AUDIO;
    const playlist = join(out, master[i + 1]);
    const video = segments(playlist);
    const audio = group ? segments(join(out, audioUri.get(group)!)) : { files: [], seconds: 0 };
    const payload = await videoPayload(playlist);
    const total = bytes(video.files) + bytes(audio.files);
    const kbps = (b: number) => ((b * 8) / video.seconds / 1000).toFixed(1);
    process.stdout.write(`${master[i + 1]}: video ${kbps(payload)} kb/s of ${kbps(total)} kb/s fetched${group ? ` (with ${group})` : ''}: ${((100 * payload) / total).toFixed(1)} % video\n`);
  }
}

await main(process.argv[2] ?? '.');
