import { describe, expect, it } from 'vitest';
import { runFfmpeg } from '../../src/encoder/media/ffmpeg.js';
import { chromaSize, i420FrameBytes, i420ToPlanarRgb, planarRgbToI420, splitI420 } from '../../src/shared/yuv.js';
import { psnrFloat } from '../../src/shared/metrics.js';

function planes(w: number, h: number, y: (x: number, r: number) => number, u: number, v: number) {
  const { cw, ch } = chromaSize(w, h);
  return {
    y: Uint8Array.from({ length: w * h }, (_, i) => y(i % w, Math.floor(i / w))),
    u: new Uint8Array(cw * ch).fill(u),
    v: new Uint8Array(cw * ch).fill(v),
  };
}

describe('shared/yuv (BT.709 limited, 4:2:0)', () => {
  it('maps the limited-range extremes and primaries to the right RGB', () => {
    const cases: [number, number, number, [number, number, number]][] = [
      [235, 128, 128, [255, 255, 255]],
      [16, 128, 128, [0, 0, 0]],
      [126, 128, 128, [128.07, 128.07, 128.07]],
      // BT.709 limited-range red: Y=63, Cb=102, Cr=240
      [63, 102, 240, [255, 0, 0]],
    ];
    for (const [yv, u, v, rgb] of cases) {
      const p = planes(4, 2, () => yv, u, v);
      const out = i420ToPlanarRgb(p.y, p.u, p.v, 4, 2, new Float32Array(24), { scale: 1 });
      for (let c = 0; c < 3; c++) expect(Math.abs(out[c * 8 + 5] - rgb[c])).toBeLessThan(1);
    }
  });

  it('clamps super-white and super-black, and scales to 0-1 by default', () => {
    const p = planes(2, 2, (x) => (x === 0 ? 250 : 5), 128, 128);
    const out = i420ToPlanarRgb(p.y, p.u, p.v, 2, 2, new Float32Array(12));
    expect(out[0]).toBe(1);
    expect(out[1]).toBe(0);
  });

  it('upsamples chroma bilinearly with left siting: even columns exact, odd ones the mean', () => {
    const w = 8;
    const h = 4;
    const { cw, ch } = chromaSize(w, h);
    const y = new Uint8Array(w * h).fill(126);
    const u = new Uint8Array(cw * ch).fill(128);
    const v = Uint8Array.from({ length: cw * ch }, (_, i) => ((i % cw) === 1 ? 160 : 128));
    const out = i420ToPlanarRgb(y, u, v, w, h, new Float32Array(3 * w * h), { scale: 1 });
    const red = (x: number, r: number) => out[r * w + x] - 126 * (255 / 219) + 16 * (255 / 219);
    const kr = (255 / 224) * 2 * (1 - 0.2126);
    // column 2 sits on chroma column 1, columns 1 and 3 halfway, column 0 and 4 on neighbours
    expect(red(2, 1)).toBeCloseTo(kr * 32, 3);
    expect(red(1, 1)).toBeCloseTo(kr * 16, 3);
    expect(red(3, 1)).toBeCloseTo(kr * 16, 3);
    expect(red(0, 1)).toBeCloseTo(0, 3);
    expect(red(4, 1)).toBeCloseTo(0, 3);
  });

  it('round-trips a smooth image through planarRgbToI420 within 8-bit quantization', () => {
    const w = 48;
    const h = 32;
    const n = w * h;
    const rgb = new Float32Array(3 * n);
    for (let r = 0; r < h; r++)
      for (let x = 0; x < w; x++) {
        rgb[r * w + x] = 0.2 + 0.6 * (x / w);
        rgb[n + r * w + x] = 0.3 + 0.4 * Math.sin(r / 9) ** 2;
        rgb[2 * n + r * w + x] = 0.1 + 0.7 * ((x + r) / (w + h));
      }
    const p = planarRgbToI420(rgb, w, h);
    const back = i420ToPlanarRgb(p.y, p.u, p.v, w, h, new Float32Array(3 * n));
    let maxErr = 0;
    for (let i = 0; i < 3 * n; i++) maxErr = Math.max(maxErr, Math.abs(back[i] - rgb[i]));
    expect(maxErr * 255).toBeLessThan(4);
    expect(psnrFloat(back, rgb)).toBeGreaterThan(45);
  });

  it('uses the same matrix as ffmpeg decoding BT.709 limited range (flat colours)', async () => {
    // flat frames isolate the matrix from the chroma filter, whose siting ffmpeg chooses on its own
    const w = 16;
    const h = 8;
    const n = w * h;
    for (const colour of ['0x30a0e0', '0xe04010', '0x20c060', '0x808080']) {
      const { stdout } = await runFfmpeg([
        '-f', 'lavfi', '-i', `color=c=${colour}:s=${w}x${h}:r=1,format=yuv420p`, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-',
      ]);
      expect(stdout.length).toBe(i420FrameBytes(w, h));
      const p = splitI420(stdout, w, h);
      const ours = i420ToPlanarRgb(p.y, p.u, p.v, w, h, new Float32Array(3 * n), { scale: 1 });
      const { stdout: ff } = await runFfmpeg([
        '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${w}x${h}`, '-i', '-',
        '-vf', 'scale=in_color_matrix=bt709:in_range=tv:out_range=pc:flags=bilinear+accurate_rnd+full_chroma_int,format=gbrp',
        '-f', 'rawvideo', '-',
      ], { input: stdout });
      // gbrp planes are G, B, R; ours are R, G, B and unrounded
      const i = n / 2 + 3;
      expect(Math.abs(ours[i] - ff[2 * n + i])).toBeLessThan(0.75);
      expect(Math.abs(ours[n + i] - ff[i])).toBeLessThan(0.75);
      expect(Math.abs(ours[2 * n + i] - ff[n + i])).toBeLessThan(0.75);
    }
  });

  it('rejects buffers that are too small', () => {
    expect(() => i420ToPlanarRgb(new Uint8Array(10), new Uint8Array(4), new Uint8Array(4), 4, 4, new Float32Array(48))).toThrow(/Y plane/);
    expect(() => i420ToPlanarRgb(new Uint8Array(16), new Uint8Array(4), new Uint8Array(4), 4, 4, new Float32Array(10))).toThrow(/output/);
  });
});
