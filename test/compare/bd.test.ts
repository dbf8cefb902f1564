import { describe, expect, it } from 'vitest';
import { curveOf, otherMetrics } from '../../src/compare/bd.js';
import type { RdRow } from '../../src/compare/types.js';

/** A row with the scores that matter here; the rest as a measurement would fill them. */
function row(pipeline: string, crf: number, kbps: number, psnr: number, vmaf: number): RdRow {
  return { pipeline, crf, bytes: kbps * 125, file_bytes: kbps * 130, bitrate_kbps: kbps, width: 320, height: 180, psnr_y: psnr, psnr_u: psnr, psnr_v: psnr, psnr_yuv: psnr, ssim_y: 0.5 + psnr / 100, ssim_all: 0.5 + psnr / 100, vmaf, vmaf_p5: vmaf, file: '' };
}

describe('BD tables on VMAF, which clips at 0 and 100', () => {
  // Vid4 calendar's 1/4-size rung as measured: VMAF is 0 at CRF 42, 46 and 51
  const b4 = [row('B4', 30, 73.6, 19.77, 14.47), row('B4', 34, 45.4, 19.37, 7.55), row('B4', 38, 29.9, 18.76, 1.16), row('B4', 42, 21.3, 18.05, 0), row('B4', 46, 15.2, 17.23, 0), row('B4', 51, 9.8, 16.36, 0)];
  const a = [row('A', 30, 953.9, 29.49, 88.14), row('A', 38, 292.8, 25.29, 67.59), row('A', 46, 130.9, 21.3, 30.68), row('A', 51, 75.1, 19.11, 3.48)];
  const c = [row('C', 30, 251.8, 23.74, 64.79), row('C', 34, 150.0, 22.77, 52.48), row('C', 38, 91.6, 21.5, 36.76), row('C', 42, 60.1, 20.14, 20.58)];

  it('keeps one point of a run at the floor, the one with the most bits, and PSNR curves whole', () => {
    expect(curveOf(b4, 'B4', 'vmaf').map((p) => p.bitrate)).toEqual([21.3, 29.9, 45.4, 73.6]);
    expect(curveOf(b4, 'B4', 'psnr_y')).toHaveLength(6);
    const top = [row('A', 20, 3000, 45, 100), row('A', 22, 2500, 44, 100), row('A', 26, 1800, 42, 97)];
    expect(curveOf(top, 'A', 'vmaf').map((p) => p.bitrate)).toEqual([1800, 2500]);
  });

  it('gives VMAF BD-rates against a hull one of whose rungs reaches the floor', () => {
    const vmaf = otherMetrics([...a, ...b4, ...c], ['A', 'B4', 'C'], ['A', 'B4']).vmaf!;
    expect(vmaf.vs_hull.C).not.toBeNull();
    expect(vmaf.vs_hull_low.C).not.toBeNull();
    // C is above A at every rate it shares with it here: fewer bits for the same VMAF
    expect(vmaf.vs_source.C!).toBeLessThan(0);
  });
});
