import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { bdPsnr, type RdPoint } from '../shared/bdrate.js';
import type { RgbImage } from '../shared/image.js';
import { cropTo, pairRunner, readPng, yPsnr, type PairRunner } from '../encoder/pairs/eval.js';
import { resolvePair } from '../encoder/pairs/index.js';
import { realX264, realYuv420, rgbPsnr } from './proxycheck.js';

/**
 * Acceptance measurements of a pair: lossless Y-PSNR (SR protocol: 8-bit LR, `scale` pixels
 * shaved), LR fidelity vs bicubic downscaling, and the LR rendition through real x264 (one intra
 * frame per image at each CRF) against bicubic+bicubic and bicubic+RDN at the same CRFs, with
 * bytes summed over the set so the curves can be compared at equal bytes.
 */
export interface CodecPoint {
  crf: number;
  bytes: number;
  psnrY: number;
}

export interface SetReport {
  set: string;
  images: number;
  losslessPsnrY: number;
  /** Which of the pair's upscalers the lossless RGB LR went to (the codec curves always use `upscaler`). */
  losslessUpscaler: 'stillUpscaler' | 'upscaler';
  /** RGB PSNR of the pair's 8-bit LR vs the bicubic LR. */
  lrPsnr: number;
  /** The same with both LRs through the encoder's 4:2:0 conversion: the LR a streaming viewer without the upscaler sees. */
  lrPsnr420: number;
  codec: Record<string, CodecPoint[]>;
  /** Mean Y-PSNR gain of the pair over each anchor at equal bytes (BD-PSNR over the CRFs). */
  bdPsnr: Record<string, number | null>;
}

export function listPngs(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.toLowerCase().endsWith('.png')).sort().map((f) => join(dir, f));
}

async function codecCurve(down: PairRunner, up: PairRunner, hrs: RgbImage[], s: number, crfs: number[]): Promise<CodecPoint[]> {
  const lrs = await Promise.all(hrs.map((hr) => down.down(hr)));
  const out: CodecPoint[] = [];
  for (const crf of crfs) {
    let bytes = 0;
    let psnr = 0;
    for (let i = 0; i < hrs.length; i++) {
      const coded = await realX264(lrs[i], crf);
      bytes += coded.bytes;
      psnr += yPsnr(hrs[i], await up.up420(coded.img), s);
    }
    out.push({ crf, bytes, psnrY: psnr / hrs.length });
  }
  return out;
}

export async function evaluatePairOnSet(pairId: string, dir: string, opts: { crfs?: number[]; threads?: number } = {}): Promise<SetReport> {
  const crfs = opts.crfs ?? [23, 28, 33];
  const pair = await resolvePair(pairId);
  const s = pair.manifest.scale;
  const run = await pairRunner(pair, opts.threads);
  const bic = await pairRunner(await resolvePair(`bicubic-x${s}`), opts.threads);
  const rdn = await pairRunner(await resolvePair(`rdn-x${s}`), opts.threads);
  // even LR sides for x264's 4:2:0
  const hrs = await Promise.all(listPngs(dir).map(async (f) => cropTo(await readPng(f), 2 * s)));
  let lossless = 0;
  let lr = 0;
  let lr420 = 0;
  for (const hr of hrs) {
    const l = await run.down(hr);
    const b = await bic.down(hr);
    lossless += yPsnr(hr, await run.up(l), s);
    lr += rgbPsnr(l, b);
    lr420 += rgbPsnr(await realYuv420(l), await realYuv420(b));
  }
  const codec: Record<string, CodecPoint[]> = {
    pair: await codecCurve(run, run, hrs, s, crfs),
    'bicubic+bicubic': await codecCurve(bic, bic, hrs, s, crfs),
    'bicubic+rdn': await codecCurve(rdn, rdn, hrs, s, crfs),
  };
  const rd = (c: CodecPoint[]): RdPoint[] => c.map((p) => ({ bitrate: p.bytes, psnr: p.psnrY }));
  const bd: Record<string, number | null> = {};
  for (const k of ['bicubic+bicubic', 'bicubic+rdn']) {
    try {
      bd[k] = Math.round(bdPsnr(rd(codec[k]), rd(codec.pair)) * 100) / 100;
    } catch {
      bd[k] = null; // rate ranges do not overlap
    }
  }
  const name = dir.split('/').filter(Boolean).at(-1) ?? dir;
  return { set: name, images: hrs.length, losslessPsnrY: lossless / hrs.length, losslessUpscaler: pair.stillUpscaler ? 'stillUpscaler' : 'upscaler', lrPsnr: lr / hrs.length, lrPsnr420: lr420 / hrs.length, codec, bdPsnr: bd };
}
