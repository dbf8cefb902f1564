import { describe, expect, it } from 'vitest';
import { rgbToYcbcr709, rgbToYuv709, ycbcr709ToRgb, yuv709ToRgb } from '../../src/shared/colour.js';

describe('BT.709 limited range', () => {
  it('maps the reference colours to the values in ITU-R BT.709 / ffmpeg', () => {
    const close = (got: number[], want: number[]): void => got.forEach((v, i) => expect(v).toBeCloseTo(want[i], 6));
    close(rgbToYcbcr709(0, 0, 0), [16, 128, 128]);
    close(rgbToYcbcr709(255, 255, 255), [235, 128, 128]);
    // pure primaries: Y = 16 + 219 Kr etc.; the dominant chroma reaches the 240 limit
    close(rgbToYcbcr709(255, 0, 0), [16 + 219 * 0.2126, 128 - (224 * 0.2126) / 1.8556, 240]);
    close(rgbToYcbcr709(0, 0, 255), [16 + 219 * 0.0722, 240, 128 - (224 * 0.0722) / 1.5748]);
    // full-range Y of a mid grey is unchanged by chroma
    close(rgbToYcbcr709(128, 128, 128), [16 + (219 * 128) / 255, 128, 128]);
  });

  it('round-trips every pixel of a colourful image exactly after rounding', () => {
    const w = 64, h = 64;
    const img = new Uint8Array(w * h * 3);
    for (let i = 0; i < w * h; i++) {
      img[i * 3] = (i * 37) & 255;
      img[i * 3 + 1] = (i * 91 + 13) & 255;
      img[i * 3 + 2] = (i * 53 + 101) & 255;
    }
    const planes = rgbToYuv709(img, w, h);
    expect(Array.from(yuv709ToRgb(planes))).toEqual(Array.from(img));
    // the unrounded inverse is exact to float precision
    const [r, g, b] = ycbcr709ToRgb(...rgbToYcbcr709(12, 200, 77));
    expect(r).toBeCloseTo(12, 9);
    expect(g).toBeCloseTo(200, 9);
    expect(b).toBeCloseTo(77, 9);
  });

  it('keeps 8-bit quantized YCbCr within one code value of the source', () => {
    // what a yuv444p frame stores: each plane rounded to an integer
    const w = 16, h = 16;
    const img = new Uint8Array(w * h * 3).map((_, i) => (i * 29 + 7) & 255);
    const p = rgbToYuv709(img, w, h);
    const q = { ...p, y: p.y.map(Math.round), cb: p.cb.map(Math.round), cr: p.cr.map(Math.round) };
    const back = yuv709ToRgb(q);
    let worst = 0;
    for (let i = 0; i < img.length; i++) worst = Math.max(worst, Math.abs(back[i] - img[i]));
    expect(worst).toBeLessThanOrEqual(3);
    expect(worst).toBeGreaterThan(0);
  });
});
