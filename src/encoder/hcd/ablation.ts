import type { RgbImage } from '../../shared/image.js';
import type { PlainPair } from '../pairs/plain.js';
import { imageToPlanar, planarToImage, quality, type Quality } from './quality.js';
import type { Hcd, HcdResult, Planar } from './hcd.js';

export interface ImageOutcome {
  /** 8-bit images: the collaborative LR and its SR, and the pair's own LR and SR. */
  lr: RgbImage;
  sr: RgbImage;
  lrBase: RgbImage;
  srBase: RgbImage;
  hcd: Quality;
  pair: Quality;
  result: HcdResult;
}

/** HCD on one HR image (size a multiple of the scale), with the pair's own result beside it. */
export async function hcdImage(hcd: Hcd, hr: RgbImage): Promise<ImageOutcome> {
  const x = imageToPlanar(hr);
  const result = await hcd.run(x);
  const sr = planarToImage(await hcd.upscale(result.lr));
  const srBase = planarToImage(await hcd.upscale(result.lrBase!));
  const crop = hcd.scale;
  return {
    lr: planarToImage(result.lr),
    sr,
    lrBase: planarToImage(result.lrBase!),
    srBase,
    hcd: quality(sr, hr, crop),
    pair: quality(srBase, hr, crop),
    result,
  };
}

export interface AblationRow {
  bicubic: Quality;
  pair: Quality;
  hr_only: Quality;
  lr_only: Quality;
  hcd: Quality;
  /** PSNR of the collaborative LR against the pair's LR, dB. */
  lr_psnr: number;
  seconds: number;
}

/**
 * The paper's ablation on one image: bicubic down+up, the pair, the HR stage alone, the LR
 * stage alone, and both. The HR stage runs once and feeds both 'hr_only' and 'hcd'.
 */
export async function ablation(hcd: Hcd, bicubic: PlainPair, hr: RgbImage): Promise<AblationRow> {
  const t0 = performance.now();
  const x = imageToPlanar(hr);
  const r = await hcd.run(x, { stages: 'both', lrOnlyToo: true });
  const crop = hcd.scale;
  const q = async (lr: Planar | undefined) => quality(planarToImage(await hcd.upscale(lr ?? r.lrBase!)), hr, crop);
  const bic = planarToImage(await bicubic.upscale(await bicubic.downscale(x)));
  return {
    bicubic: quality(bic, hr, crop),
    pair: await q(r.lrBase!),
    hr_only: await q(r.lrHr),
    lr_only: await q(r.lrLrOnly),
    hcd: await q(r.lr),
    lr_psnr: r.lrPsnr,
    seconds: (performance.now() - t0) / 1000,
  };
}
