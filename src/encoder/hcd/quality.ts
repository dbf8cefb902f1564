import { HcdError } from '../../shared/errors.js';
import { imageToTensor, tensorToImage, type Planar, type RgbImage } from '../../shared/image.js';
import { psnr, psnrY, ssimY } from '../../shared/metrics.js';

/** Quality of an SR image against the HR original, as the SR literature reports it. */
export interface Quality {
  psnr_rgb: number;
  psnr_y: number;
  ssim_y: number;
}

/** Metrics on 8-bit images (the SR output rounded as a client would show it), border `crop` dropped. */
export function quality(sr: RgbImage, hr: RgbImage, crop: number): Quality {
  const { width, height } = hr;
  if (sr.width !== width || sr.height !== height) throw new Error(`SR is ${sr.width}x${sr.height}, HR is ${width}x${height}`);
  return {
    psnr_rgb: psnr(sr.data, hr.data, { width, height, crop }),
    psnr_y: psnrY(sr.data, hr.data, width, height, { crop }),
    ssim_y: ssimY(sr.data, hr.data, width, height, { crop }),
  };
}

export function meanQuality(qs: Quality[]): Quality {
  const m = (k: keyof Quality) => qs.reduce((a, q) => a + q[k], 0) / Math.max(1, qs.length);
  return { psnr_rgb: m('psnr_rgb'), psnr_y: m('psnr_y'), ssim_y: m('ssim_y') };
}

export function planarToImage(p: Planar): RgbImage {
  return tensorToImage(p.data, p.width, p.height);
}

export function imageToPlanar(img: RgbImage): Planar {
  return { data: imageToTensor(img), width: img.width, height: img.height };
}

/**
 * Crops an HR image to a multiple of the scale (as SR papers do), or of scale * lrMultiple for a
 * pair whose LR sides must be a multiple of that, and checks that its LR is at least `minLr`
 * pixels on each side.
 */
export function fitToScale(img: RgbImage, scale: number, minLr: number, name: string, lrMultiple = 1): RgbImage {
  const m = scale * lrMultiple;
  const w = img.width - (img.width % m);
  const h = img.height - (img.height % m);
  if (w / scale < minLr || h / scale < minLr) {
    throw new HcdError(`${name}: ${img.width}x${img.height} is too small for x${scale} (the LR must be at least ${minLr}x${minLr}, so the image at least ${minLr * scale}x${minLr * scale})`);
  }
  if (w === img.width && h === img.height) return img;
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) data.set(img.data.subarray(y * img.width * 3, (y * img.width + w) * 3), y * w * 3);
  return { width: w, height: h, data };
}
