import { fileArg, runFfmpeg } from './ffmpeg.js';

/** profile_idc, constraint flags and level_idc of the first SPS in an Annex B stream. */
export function parseSps(annexB: Uint8Array): { profile: number; constraints: number; level: number } | undefined {
  for (let i = 0; i + 6 < annexB.length; i++) {
    if (annexB[i] === 0 && annexB[i + 1] === 0 && annexB[i + 2] === 1 && (annexB[i + 3] & 0x1f) === 7) {
      return { profile: annexB[i + 4], constraints: annexB[i + 5], level: annexB[i + 6] };
    }
  }
  return undefined;
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0');

/** RFC 6381 'avc1.PPCCLL' from the stream's own SPS, as players match it against their decoders. */
export async function avcCodecString(segment: string): Promise<string> {
  const { stdout } = await runFfmpeg(['-v', 'error', '-i', fileArg(segment), '-map', '0:v:0', '-c:v', 'copy', '-frames:v', '1', '-f', 'h264', 'pipe:1']);
  const sps = parseSps(stdout);
  if (!sps) throw new Error(`no H.264 SPS found in ${segment}`);
  return `avc1.${hex2(sps.profile)}${hex2(sps.constraints)}${hex2(sps.level)}`;
}

/** AAC-LC, the only audio the encoder writes. */
export const AAC_LC = 'mp4a.40.2';
