import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ffmpegWithFrames, fileArg, runFfmpeg } from './ffmpeg.js';
import { RGB_TO_MEASURED, YUV709_TO_RGB } from './colour.js';

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

/** Per-frame PSNR is capped here so one identical frame cannot make the mean infinite. */
export const PSNR_CAP = 100;

function fields(line: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of line.matchAll(/(\w+):(-?[\d.]+|inf)/g)) out[m[1]] = m[2] === 'inf' ? Infinity : Number(m[2]);
  return out;
}

const mseToPsnr = (mse: number): number => (mse <= 0 ? PSNR_CAP : Math.min(PSNR_CAP, 10 * Math.log10((255 * 255) / mse)));

/** Parses ffmpeg's psnr and ssim stats files into means over frames. */
export function parseStats(psnrLog: string, ssimLog: string): Omit<QualityScores, 'vmaf'> {
  const p = psnrLog.split('\n').filter((l) => l.startsWith('n:')).map(fields);
  const s = ssimLog.split('\n').filter((l) => l.startsWith('n:')).map(fields);
  if (p.length === 0 || s.length === 0) throw new Error('quality measurement produced no frames');
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const y = mean(p.map((f) => mseToPsnr(f.mse_y)));
  const u = mean(p.map((f) => mseToPsnr(f.mse_u)));
  const v = mean(p.map((f) => mseToPsnr(f.mse_v)));
  return {
    frames: p.length,
    psnr_y: y,
    psnr_u: u,
    psnr_v: v,
    psnr_yuv: (6 * y + u + v) / 8,
    ssim_y: mean(s.map((f) => f.Y)),
    ssim_all: mean(s.map((f) => f.All)),
  };
}

export interface MeasureOptions {
  /** The reference video (the source, yuv420p). */
  reference: string;
  /** Input args for the distorted video (a file, or raw frames on stdin). */
  distortedInput: string[];
  /** Filter that turns the distorted input into displayed RGB (rgb24) at the reference size; none for RGB on stdin. */
  distortedFilter?: string;
  /** Frames for stdin when distortedInput reads pipe:0. */
  frames?: AsyncIterable<Uint8Array>;
  /** libvmaf model (.pkl with its .model beside it); no model, no VMAF. */
  vmafModel?: string;
  threads?: number;
}

/**
 * Runs ffmpeg's psnr and ssim filters (and libvmaf when a model is given) on the distorted video
 * against the reference, both as displayed RGB taken to BT.709 YCbCr 4:4:4 at the reference size.
 */
export async function measure(o: MeasureOptions): Promise<QualityScores> {
  const dir = await mkdtemp(join(tmpdir(), 'hcd-q-'));
  try {
    const psnrFile = join(dir, 'psnr.log');
    const ssimFile = join(dir, 'ssim.log');
    const vmafFile = join(dir, 'vmaf.json');
    const n = o.vmafModel ? 3 : 2;
    const dist = [o.distortedFilter, RGB_TO_MEASURED, 'setpts=PTS-STARTPTS', `split=${n}`].filter(Boolean).join(',');
    // the filter graph parser wants ':' and '\' escaped inside option values
    const esc = (p: string): string => p.replace(/\\/g, '\\\\').replace(/:/g, '\\:').replace(/'/g, "\\'");
    const graph = [
      `[0:v]${dist}[d0][d1]${n === 3 ? '[d2]' : ''}`,
      `[1:v]${YUV709_TO_RGB},${RGB_TO_MEASURED},setpts=PTS-STARTPTS,split=${n}[r0][r1]${n === 3 ? '[r2]' : ''}`,
      `[d0][r0]psnr=stats_file=${esc(psnrFile)}`,
      `[d1][r1]ssim=stats_file=${esc(ssimFile)}`,
      ...(o.vmafModel ? [`[d2][r2]libvmaf=model_path=${esc(o.vmafModel)}:log_fmt=json:log_path=${esc(vmafFile)}`] : []),
    ].join(';');
    const args = ['-threads', String(o.threads ?? 2), ...o.distortedInput, '-i', fileArg(o.reference), '-filter_complex', graph, '-an', '-f', 'null', '-'];
    if (o.frames) await ffmpegWithFrames(args, o.frames);
    else await runFfmpeg(args);
    const scores = parseStats(await readFile(psnrFile, 'utf8'), await readFile(ssimFile, 'utf8'));
    let vmaf: number | null = null;
    if (o.vmafModel) {
      const log = JSON.parse(await readFile(vmafFile, 'utf8')) as { VMAF_score?: number; pooled_metrics?: { vmaf?: { mean?: number } } };
      vmaf = log.VMAF_score ?? log.pooled_metrics?.vmaf?.mean ?? null;
    }
    return { ...scores, vmaf };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
