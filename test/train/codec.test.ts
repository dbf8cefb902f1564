import { describe, expect, it } from 'vitest';
import { runFfmpeg } from '../../src/encoder/media/ffmpeg.js';
import type { RgbImage } from '../../src/shared/image.js';
import { jpegSteps, losslessSteps } from '../../src/train/codec.js';
import { matchProxy, proxyRunner, realJpeg, realX264, rgbPsnr } from '../../src/train/proxycheck.js';

async function testImage(): Promise<RgbImage> {
  // a natural-ish deterministic picture: fractal detail plus smooth areas
  const { stdout } = await runFfmpeg(['-v', 'error', '-f', 'lavfi', '-i', 'mandelbrot=s=192x128:end_pts=1', '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
  return { width: 192, height: 128, data: new Uint8Array(stdout.buffer, stdout.byteOffset, 192 * 128 * 3) };
}

describe('DCT-quantization codec proxy', () => {
  it('is the identity without quantization, and loses more as JPEG quality drops, like real JPEG', async () => {
    const img = await testImage();
    const proxy = await proxyRunner();
    try {
      const same = await proxy.run(img, losslessSteps());
      expect(rgbPsnr(img, same)).toBeGreaterThan(60);
      const proxyPsnr = [];
      for (const q of [95, 75, 50, 30, 10]) proxyPsnr.push(rgbPsnr(img, await proxy.run(img, jpegSteps(q))));
      for (let i = 1; i < proxyPsnr.length; i++) expect(proxyPsnr[i]).toBeLessThan(proxyPsnr[i - 1] - 0.3);
      const real = [];
      for (const qs of [2, 5, 10, 20]) real.push(await realJpeg(img, qs));
      const realPsnr = real.map((r) => rgbPsnr(img, r.img));
      for (let i = 1; i < realPsnr.length; i++) expect(realPsnr[i]).toBeLessThan(realPsnr[i - 1]);
      // At a matched PSNR, independent errors would put proxy-vs-real 3 dB below real-vs-input;
      // the proxy's errors are correlated with the codec's, so it stays above that.
      for (let i = 0; i < real.length; i++) {
        const m = await matchProxy(proxy, img, real[i], 'mjpeg', [2, 5, 10, 20][i]);
        expect(Math.abs(m.proxyPsnr - m.realPsnr)).toBeLessThan(1.5);
        expect(m.proxyVsReal).toBeGreaterThan(m.realPsnr - 2.5);
      }
    } finally {
      await proxy.close();
    }
  }, 60_000);

  it('spans the distortion of x264 at the streaming CRFs', async () => {
    const img = await testImage();
    const proxy = await proxyRunner();
    try {
      for (const crf of [23, 28, 33]) {
        const m = await matchProxy(proxy, img, await realX264(img, crf), 'x264', crf);
        expect(Math.abs(m.proxyPsnr - m.realPsnr), `crf ${crf}`).toBeLessThan(1.5);
        expect(m.proxyVsReal, `crf ${crf}`).toBeGreaterThan(m.realPsnr - 2);
      }
    } finally {
      await proxy.close();
    }
  }, 60_000);
});
