/**
 * Image quality metrics shared by the encoder (Node) and the player (browser): no Node imports.
 *
 * Conventions follow the super-resolution literature so that our numbers can be set beside the
 * HCD paper's: PSNR/SSIM on the BT.601 luma of 0-255 RGB ("Y channel"), with a border of `scale`
 * pixels cropped, and SSIM as in Wang et al.'s reference MATLAB code (11x11 Gaussian, sigma 1.5,
 * 'valid' filtering, mean of the SSIM map).
 */

export type Pixels = Uint8Array | Uint8ClampedArray;

export interface PsnrOptions {
  /** Largest possible value (255 for 8-bit). */
  peak?: number;
  /** Pixels dropped on every side before measuring. */
  crop?: number;
  width: number;
  height: number;
  /** Bytes per pixel of the packed input: 3 (RGB) or 4 (RGBA; alpha is ignored). */
  channels?: 3 | 4;
}

function checkSize(a: ArrayLike<number>, b: ArrayLike<number>, need: number, what: string): void {
  if (a.length !== b.length) throw new Error(`${what}: inputs differ in length (${a.length} vs ${b.length})`);
  if (a.length < need) throw new Error(`${what}: input holds ${a.length} values, needs ${need}`);
}

function cropBox(width: number, height: number, crop: number, what: string): [number, number, number, number] {
  const x1 = width - crop;
  const y1 = height - crop;
  if (crop < 0 || x1 <= crop || y1 <= crop) throw new Error(`${what}: crop ${crop} leaves nothing of ${width}x${height}`);
  return [crop, crop, x1, y1];
}

/** Mean squared error to PSNR in dB; identical inputs give Infinity. */
export function mseToPsnr(mse: number, peak = 255): number {
  return mse === 0 ? Infinity : 10 * Math.log10((peak * peak) / mse);
}

/** PSNR over all colour channels of packed 8-bit images. */
export function psnr(a: Pixels, b: Pixels, opts: PsnrOptions): number {
  const { width, height } = opts;
  const ch = opts.channels ?? 3;
  const crop = opts.crop ?? 0;
  checkSize(a, b, width * height * ch, 'psnr');
  const [x0, y0, x1, y1] = cropBox(width, height, crop, 'psnr');
  let sum = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const i = (y * width + x) * ch;
      for (let c = 0; c < 3; c++) {
        const d = a[i + c] - b[i + c];
        sum += d * d;
      }
    }
  }
  return mseToPsnr(sum / ((x1 - x0) * (y1 - y0) * 3), opts.peak ?? 255);
}

/**
 * BT.601 luma of packed 8-bit RGB(A) as floats on the 16-235 scale, as SR papers compute it
 * (MATLAB rgb2ycbcr): Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255. Not rounded, so that the
 * metric does not depend on a quantization step the papers' Python ports disagree about.
 */
export function rgbToY601(src: Pixels, width: number, height: number, channels: 3 | 4 = 3): Float64Array {
  const n = width * height;
  if (src.length < n * channels) throw new Error(`rgbToY601: input holds ${src.length} bytes, needs ${n * channels}`);
  const y = new Float64Array(n);
  for (let i = 0, j = 0; i < n; i++, j += channels) {
    y[i] = 16 + (65.481 * src[j] + 128.553 * src[j + 1] + 24.966 * src[j + 2]) / 255;
  }
  return y;
}

export interface YOptions {
  /** Border dropped on every side; SR papers crop `scale` pixels. */
  crop?: number;
  channels?: 3 | 4;
}

/** PSNR between two single-plane float images (same size), optional border crop. */
export function psnrPlane(a: ArrayLike<number>, b: ArrayLike<number>, width: number, height: number, opts: { crop?: number; peak?: number } = {}): number {
  checkSize(a, b, width * height, 'psnrPlane');
  const [x0, y0, x1, y1] = cropBox(width, height, opts.crop ?? 0, 'psnrPlane');
  let sum = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0, i = y * width + x0; x < x1; x++, i++) {
      const d = a[i] - b[i];
      sum += d * d;
    }
  }
  return mseToPsnr(sum / ((x1 - x0) * (y1 - y0)), opts.peak ?? 255);
}

/** PSNR on BT.601 Y of packed RGB images, peak 255 as in SR papers. */
export function psnrY(a: Pixels, b: Pixels, width: number, height: number, opts: YOptions = {}): number {
  const ch = opts.channels ?? 3;
  checkSize(a, b, width * height * ch, 'psnrY');
  return psnrPlane(rgbToY601(a, width, height, ch), rgbToY601(b, width, height, ch), width, height, { crop: opts.crop });
}

/** PSNR of planar float tensors on 0-1 (peak 1); both must hold the same number of values. */
export function psnrFloat(a: Float32Array | Float64Array, b: Float32Array | Float64Array): number {
  checkSize(a, b, 1, 'psnrFloat');
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    sum += d * d;
  }
  return mseToPsnr(sum / a.length, 1);
}

/** The normalized 1-D Gaussian; its outer product is the 2-D SSIM window. */
export function gaussianKernel(size = 11, sigma = 1.5): Float64Array {
  const k = new Float64Array(size);
  const c = (size - 1) / 2;
  let s = 0;
  for (let i = 0; i < size; i++) {
    k[i] = Math.exp(-((i - c) ** 2) / (2 * sigma * sigma));
    s += k[i];
  }
  for (let i = 0; i < size; i++) k[i] /= s;
  return k;
}

/** Separable 'valid' filtering: output is (w-k+1)x(h-k+1). */
function filterValid(src: Float64Array, w: number, h: number, k: Float64Array): Float64Array {
  const n = k.length;
  const ow = w - n + 1;
  const oh = h - n + 1;
  const tmp = new Float64Array(ow * h);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let t = 0; t < n; t++) s += k[t] * src[row + x + t];
      tmp[y * ow + x] = s;
    }
  }
  const out = new Float64Array(ow * oh);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let t = 0; t < n; t++) s += k[t] * tmp[(y + t) * ow + x];
      out[y * ow + x] = s;
    }
  }
  return out;
}

export interface SsimOptions {
  crop?: number;
  /** Dynamic range L in C1=(K1 L)^2, C2=(K2 L)^2. */
  peak?: number;
  windowSize?: number;
  sigma?: number;
}

/** Mean SSIM of two single-plane images (Wang et al. 2004, 'valid' Gaussian windows). */
export function ssimPlane(a: ArrayLike<number>, b: ArrayLike<number>, width: number, height: number, opts: SsimOptions = {}): number {
  checkSize(a, b, width * height, 'ssim');
  const crop = opts.crop ?? 0;
  const [x0, y0, x1, y1] = cropBox(width, height, crop, 'ssim');
  const w = x1 - x0;
  const h = y1 - y0;
  const k = gaussianKernel(opts.windowSize ?? 11, opts.sigma ?? 1.5);
  if (w < k.length || h < k.length) throw new Error(`ssim: ${w}x${h} is smaller than the ${k.length}x${k.length} window`);
  const L = opts.peak ?? 255;
  const c1 = (0.01 * L) ** 2;
  const c2 = (0.03 * L) ** 2;
  const n = w * h;
  const pa = new Float64Array(n);
  const pb = new Float64Array(n);
  const aa = new Float64Array(n);
  const bb = new Float64Array(n);
  const ab = new Float64Array(n);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = (y + y0) * width + x + x0;
      const i = y * w + x;
      const va = a[s];
      const vb = b[s];
      pa[i] = va;
      pb[i] = vb;
      aa[i] = va * va;
      bb[i] = vb * vb;
      ab[i] = va * vb;
    }
  }
  const mu1 = filterValid(pa, w, h, k);
  const mu2 = filterValid(pb, w, h, k);
  const e11 = filterValid(aa, w, h, k);
  const e22 = filterValid(bb, w, h, k);
  const e12 = filterValid(ab, w, h, k);
  let sum = 0;
  for (let i = 0; i < mu1.length; i++) {
    const m1 = mu1[i];
    const m2 = mu2[i];
    const s1 = e11[i] - m1 * m1;
    const s2 = e22[i] - m2 * m2;
    const s12 = e12[i] - m1 * m2;
    sum += ((2 * m1 * m2 + c1) * (2 * s12 + c2)) / ((m1 * m1 + m2 * m2 + c1) * (s1 + s2 + c2));
  }
  return sum / mu1.length;
}

/** SSIM on BT.601 Y (0-255 scale) of packed RGB images, as SR papers report it. */
export function ssimY(a: Pixels, b: Pixels, width: number, height: number, opts: YOptions = {}): number {
  const ch = opts.channels ?? 3;
  checkSize(a, b, width * height * ch, 'ssimY');
  return ssimPlane(rgbToY601(a, width, height, ch), rgbToY601(b, width, height, ch), width, height, { crop: opts.crop });
}
