/**
 * Still-image I/O for the encoder side (Node): PNG through pngjs, anything else ffmpeg can decode
 * (JPEG, BMP, WebP, TIFF...) through one ffmpeg call. Everything comes back as packed RGB8.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { PNG } from 'pngjs';
import { HcdError } from '../../shared/errors.js';
import type { RgbImage } from '../../shared/image.js';
import { probe, runFfmpeg } from './ffmpeg.js';

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** RGBA (what pngjs always yields) to RGB. Alpha is dropped, not composited: we measure colour. */
function rgbaToRgb(rgba: Uint8Array, width: number, height: number): Uint8Array {
  const n = width * height;
  const out = new Uint8Array(n * 3);
  for (let i = 0, j = 0; i < n; i++, j += 4) {
    out[i * 3] = rgba[j];
    out[i * 3 + 1] = rgba[j + 1];
    out[i * 3 + 2] = rgba[j + 2];
  }
  return out;
}

/** Decodes PNG bytes; grey, palette, alpha and 16-bit images all become RGB8 (16-bit is rounded). */
export function decodePng(bytes: Buffer, name = 'image'): RgbImage {
  let png: PNG;
  try {
    // pngjs expands grey/palette to RGBA and rescales 16-bit samples to 8-bit by default
    png = PNG.sync.read(bytes);
  } catch (e) {
    throw new HcdError(`${name} is not a valid PNG: ${(e as Error).message}`);
  }
  const data = new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.length);
  return { width: png.width, height: png.height, data: rgbaToRgb(data, png.width, png.height) };
}

export function encodePng(img: RgbImage): Buffer {
  const { width, height, data } = img;
  if (data.length !== width * height * 3) throw new Error(`image data holds ${data.length} bytes, ${width}x${height} RGB needs ${width * height * 3}`);
  const png = new PNG({ width, height, colorType: 2, inputColorType: 2, bitDepth: 8, inputHasAlpha: false });
  png.data = Buffer.from(data.buffer, data.byteOffset, data.length);
  return PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false });
}

/** Any other still format, via ffmpeg: size from ffprobe, then one frame as packed rgb24 on stdout. */
async function decodeWithFfmpeg(path: string): Promise<RgbImage> {
  const notImage = new HcdError(`${path} is not an image that can be read (PNG, JPEG, BMP, WebP...)`);
  let width: number;
  let height: number;
  try {
    const info = await probe(path);
    const v = info.streams.find((s) => s.codec_type === 'video');
    if (!v?.width || !v.height) throw notImage;
    width = v.width;
    height = v.height;
  } catch {
    throw notImage;
  }
  let stdout: Buffer;
  try {
    ({ stdout } = await runFfmpeg(['-v', 'error', '-i', path, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']));
  } catch {
    throw notImage;
  }
  if (stdout.length !== width * height * 3) throw new HcdError(`${path}: decoded ${stdout.length} bytes, expected ${width}x${height} RGB`);
  return { width, height, data: new Uint8Array(stdout.buffer, stdout.byteOffset, stdout.length) };
}

/** Reads an image file as packed RGB8. Missing files and non-images give a one-line HcdError. */
export async function readImage(path: string): Promise<RgbImage> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new HcdError(code === 'ENOENT' ? `no such image: ${path}` : `cannot read ${path}: ${(e as Error).message}`);
  }
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(PNG_MAGIC)) return decodePng(bytes, path);
  if (bytes.length === 0) throw new HcdError(`${path} is empty`);
  return decodeWithFfmpeg(path);
}

/** Writes bytes so that readers never see a half-written file: temp file in the same folder, then rename. */
export async function writeFileAtomic(path: string, bytes: Buffer | Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

/** Writes an RGB image as an 8-bit PNG, atomically. */
export async function writePng(path: string, img: RgbImage): Promise<void> {
  await writeFileAtomic(path, encodePng(img));
}
