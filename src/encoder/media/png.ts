/**
 * Still-image I/O for the encoder side (Node): PNG through pngjs, anything else ffmpeg can decode
 * (JPEG, BMP, WebP, TIFF...) through one ffmpeg call. Everything comes back as packed RGB8.
 */
import { readFile } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { PNG } from 'pngjs';
import { HcdError } from '../../shared/errors.js';
import type { RgbImage } from '../../shared/image.js';
import { fileArg, probe, runFfmpeg, ToolError } from './ffmpeg.js';
import { writeFileAtomic } from './files.js';

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * The most pixels an image may have unless the caller says otherwise. A file's header can declare
 * any size, and decoding allocates for it before the data proves it (a 70-byte PNG can claim
 * 20000x20000). Decoding peaks at about 10 bytes a pixel (pngjs's inflated rows and RGBA, then
 * our RGB) and HCD adds float tensors of several times that, so 64 Mpx is already gigabytes of
 * work; it is above the stills of mainstream cameras (61 Mpx) and phones (50 Mpx).
 */
export const DEFAULT_MAX_PIXELS = 64_000_000;

export interface ReadImageOptions {
  /** Refuse images with more pixels than this, before decoding them (default DEFAULT_MAX_PIXELS). */
  maxPixels?: number;
}

const megapixels = (n: number): string => (n >= 1e6 ? `${+(n / 1e6).toFixed(1)} Mpx` : `${n} px`);

/** Throws the one-line refusal when a declared size is over the limit. */
function checkPixels(name: string, width: number, height: number, maxPixels: number): void {
  const n = width * height;
  if (n > maxPixels) throw new HcdError(`${name} is ${width}x${height} (${megapixels(n)}), over the ${megapixels(maxPixels)} limit; raise it with --max-pixels`);
}

/**
 * Width and height from a PNG's IHDR, which the format puts first; undefined when it is not there.
 * The chunk's CRC is checked first, so that a damaged header is called damaged, not too large.
 */
function pngSize(bytes: Buffer, name: string): { width: number; height: number } | undefined {
  if (bytes.length < 24 || bytes.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  if (bytes.length < 33 || bytes.readUInt32BE(29) !== crc32(bytes.subarray(12, 29)) >>> 0) throw new HcdError(`${name} is not a valid PNG: its header (IHDR) is damaged`);
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

/** pngjs's words for a file that ends too soon, in ours. */
const pngReason = (message: string): string => (/read requests wait/.test(message) ? 'the file ends before the image does' : message);

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

/**
 * Decodes PNG bytes; grey, palette, alpha and 16-bit images all become RGB8 (16-bit is rounded).
 * The size in the header is checked against `maxPixels` before anything is allocated for it.
 */
export function decodePng(bytes: Buffer, name = 'image', maxPixels = DEFAULT_MAX_PIXELS): RgbImage {
  const size = pngSize(bytes, name);
  if (size) checkPixels(name, size.width, size.height, maxPixels);
  let png: PNG;
  try {
    // pngjs expands grey/palette to RGBA and rescales 16-bit samples to 8-bit by default
    png = PNG.sync.read(bytes);
  } catch (e) {
    throw new HcdError(`${name} is not a valid PNG: ${pngReason((e as Error).message)}`);
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

/** Width and height of the first video stream, from ffprobe; undefined when there is none. */
async function probeSize(path: string): Promise<{ width: number; height: number } | undefined> {
  try {
    const v = (await probe(path)).streams.find((s) => s.codec_type === 'video');
    return v?.width && v.height ? { width: v.width, height: v.height } : undefined;
  } catch (e) {
    if (e instanceof ToolError) throw e;
    return undefined;
  }
}

/** Any other still format, via ffmpeg: size from ffprobe (checked), then one frame as packed rgb24 on stdout. */
async function decodeWithFfmpeg(path: string, maxPixels: number): Promise<RgbImage> {
  const notImage = new HcdError(`${path} is not an image that can be read (PNG, JPEG, BMP, WebP...)`);
  const size = await probeSize(path);
  if (!size) throw notImage;
  const { width, height } = size;
  checkPixels(path, width, height, maxPixels);
  let stdout: Buffer;
  try {
    ({ stdout } = await runFfmpeg(['-v', 'error', '-i', fileArg(path), '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']));
  } catch (e) {
    if (e instanceof ToolError) throw e;
    throw notImage;
  }
  if (stdout.length !== width * height * 3) throw new HcdError(`${path}: decoded ${stdout.length} bytes, expected ${width}x${height} RGB`);
  return { width, height, data: new Uint8Array(stdout.buffer, stdout.byteOffset, stdout.length) };
}

/**
 * Reads an image file as packed RGB8. Missing files, non-images and images over the pixel limit
 * give a one-line HcdError, the last before anything is decoded.
 */
export async function readImage(path: string, opts: ReadImageOptions = {}): Promise<RgbImage> {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new HcdError(code === 'ENOENT' ? `no such image: ${path}` : `cannot read ${path}: ${(e as Error).message}`);
  }
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(PNG_MAGIC)) return decodePng(bytes, path, maxPixels);
  if (bytes.length === 0) throw new HcdError(`${path} is empty`);
  return decodeWithFfmpeg(path, maxPixels);
}

/** Writes an RGB image as an 8-bit PNG, atomically. */
export async function writePng(path: string, img: RgbImage): Promise<void> {
  await writeFileAtomic(path, encodePng(img));
}
