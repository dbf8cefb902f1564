import type { RgbImage } from '../shared/image.js';
import { imageToTensor, tensorToImage } from '../shared/image.js';
import { psnr } from '../shared/metrics.js';
import { runFfmpeg } from '../encoder/media/ffmpeg.js';
import { RGB_TO_YUV709, YUV709_TO_RGB } from '../encoder/media/colour.js';
import { GraphBuilder } from '../encoder/graph/builder.js';
import { createSession, ort } from '../encoder/graph/session.js';
import { addCodecProxy, jpegSteps } from './codec.js';

/**
 * Checks of the codec proxy against real codecs (ffmpeg's MJPEG at 4:4:4, x264): for each real
 * setting, the proxy quality with the closest PSNR vs the input, and how close the two decoded
 * images are to each other.
 */
export interface ProxyRunner {
  run(img: RgbImage, steps: Float32Array): Promise<RgbImage>;
  close(): Promise<void>;
}

export async function proxyRunner(): Promise<ProxyRunner> {
  const g = new GraphBuilder('codec_proxy');
  const x = g.input('x', [1, 3, 'H', 'W']);
  const s = g.input('steps', [1, 192, 1, 1]);
  g.op('Clip', [addCodecProxy(g, x, s), g.constF([0], [], 'zero'), g.constF([1], [], 'one')], {}, 'y');
  g.output('y');
  const sess = await createSession(g.toModel(), { threads: 1 });
  return {
    async run(img, steps) {
      const r = await sess.run({
        x: new ort.Tensor('float32', imageToTensor(img), [1, 3, img.height, img.width]),
        steps: new ort.Tensor('float32', steps, [1, 192, 1, 1]),
      });
      return tensorToImage(r.y.data as Float32Array, img.width, img.height);
    },
    close: () => sess.release(),
  };
}

const rawIn = (img: RgbImage) => ['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${img.width}x${img.height}`, '-i', 'pipe:0'];

async function roundTrip(img: RgbImage, encodeArgs: string[], format: string, decodeFilter?: string): Promise<{ img: RgbImage; bytes: number }> {
  const { stdout: coded } = await runFfmpeg(['-v', 'error', ...rawIn(img), ...encodeArgs, '-f', format, 'pipe:1'], { input: Buffer.from(img.data) });
  const { stdout } = await runFfmpeg(['-v', 'error', '-f', format, '-i', 'pipe:0', ...(decodeFilter ? ['-vf', decodeFilter] : []), '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { input: coded });
  return { img: { width: img.width, height: img.height, data: new Uint8Array(stdout.buffer, stdout.byteOffset, img.width * img.height * 3) }, bytes: coded.length };
}

/** ffmpeg's MJPEG (JPEG baseline) at 4:4:4 and fixed qscale 2-31 (lower is finer). */
export function realJpeg(img: RgbImage, qscale: number): Promise<{ img: RgbImage; bytes: number }> {
  return roundTrip(img, ['-c:v', 'mjpeg', '-pix_fmt', 'yuvj444p', '-q:v', String(qscale), '-frames:v', '1'], 'mjpeg');
}

/**
 * x264 intra (one frame) at a CRF, 4:2:0 as streamed: the encoder's own conversion to BT.709
 * limited 4:2:0 and back (ffmpeg's default BT.601 conversion would instead cost a learned pair
 * about 0.4 dB more on Set5, through its chroma filter).
 */
export function realX264(img: RgbImage, crf: number): Promise<{ img: RgbImage; bytes: number }> {
  return roundTrip(img, ['-vf', RGB_TO_YUV709, '-c:v', 'libx264', '-preset', 'medium', '-crf', String(crf), '-frames:v', '1'], 'h264', YUV709_TO_RGB);
}

/** The encoder's conversion to BT.709 limited 4:2:0 and back, with no codec in between. */
export async function realYuv420(img: RgbImage): Promise<RgbImage> {
  const { stdout: yuv } = await runFfmpeg(['-v', 'error', ...rawIn(img), '-vf', RGB_TO_YUV709, '-f', 'rawvideo', 'pipe:1'], { input: Buffer.from(img.data) });
  const { stdout } = await runFfmpeg(['-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${img.width}x${img.height}`, '-i', 'pipe:0', '-vf', YUV709_TO_RGB, '-f', 'rawvideo', 'pipe:1'], { input: yuv });
  return { ...img, data: new Uint8Array(stdout.buffer, stdout.byteOffset, img.data.length) };
}

export const rgbPsnr = (a: RgbImage, b: RgbImage) => psnr(a.data, b.data, { width: a.width, height: a.height, channels: 3 });

export interface ProxyMatch {
  codec: string;
  setting: number;
  bytes: number;
  realPsnr: number;
  proxyQuality: number;
  proxyPsnr: number;
  /** PSNR between the proxy's and the real codec's decoded images. */
  proxyVsReal: number;
}

/** For one real decoded image, the JPEG quality (5-100) whose proxy output is closest in PSNR vs the input. */
export async function matchProxy(runner: ProxyRunner, img: RgbImage, real: { img: RgbImage; bytes: number }, codec: string, setting: number): Promise<ProxyMatch> {
  const target = rgbPsnr(img, real.img);
  let best: { q: number; p: number; out: RgbImage } | undefined;
  for (let q = 5; q <= 100; q++) {
    const out = await runner.run(img, jpegSteps(q));
    const p = rgbPsnr(img, out);
    if (!best || Math.abs(p - target) < Math.abs(best.p - target)) best = { q, p, out };
  }
  if (!best) throw new Error('no proxy quality');
  return { codec, setting, bytes: real.bytes, realPsnr: target, proxyQuality: best.q, proxyPsnr: best.p, proxyVsReal: rgbPsnr(real.img, best.out) };
}
