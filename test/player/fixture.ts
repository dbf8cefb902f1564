/**
 * A small HLS output following the encoder's contract (src/shared/hls.ts), made from the sample
 * clip: an LR level 320x180 marked X-UPSCALE=2 and a source level 480x270, an UpscalerManifest
 * and a tiny x2 ONNX upscaler, plus master playlists whose manifest URL is missing, whose LR
 * level is made for another model, and with three LR levels of one size.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { probe, runFfmpeg } from '../../src/encoder/media/ffmpeg.js';
import { ATTR_MODEL, ATTR_UPSCALE, SESSION_DATA_ID } from '../../src/shared/hls.js';
import type { UpscalerManifest } from '../../src/shared/manifest.js';
import { makeSample } from '../../samples/make-sample.js';
import { PLAYER_PAGE } from '../helpers/browser.js';
import { buildX2Upscaler } from './models.js';

export interface Fixture {
  dir: string;
  master: string;
  master404: string;
  /** Levels 0-2: the LR stream at 320x180 three times, only level 1 made for the fixture's model; 3: the source level. */
  masterSameSize: string;
  lrMp4: string;
  /** The LR level as a plain MP4, for HcdUpscaler.attach without hls.js. */
  lrUrl: string;
  /** An UpscalerManifest for a deliberately slow model. */
  heavyManifest: string;
  lr: { width: number; height: number };
  fps: number;
  modelBytes: Uint8Array;
}

/** The shared test page, its hcdStart/hcdAttach also passing `opts.runtime` (and hcdStart `opts.relaxedSimd`) to the player. */
function playerPage(): string {
  const page = PLAYER_PAGE.replace('keepOnGpu: opts.keepOnGpu })', 'keepOnGpu: opts.keepOnGpu, runtime: opts.runtime, relaxedSimd: opts.relaxedSimd })').replace(
    "backend: opts.backend ?? 'wasm', statsIntervalMs: 250 })",
    "backend: opts.backend ?? 'wasm', statsIntervalMs: 250, runtime: opts.runtime })",
  );
  if ((page.match(/runtime: opts\.runtime/g) ?? []).length !== 2) throw new Error('PLAYER_PAGE changed: pass opts.runtime to the player there');
  return page;
}

/** avc1.PPCCLL from ffprobe's profile name and level. */
async function codecOf(file: string): Promise<string> {
  const v = (await probe(file)).streams.find((s) => s.codec_type === 'video')!;
  const prof = { Baseline: 0x42, 'Constrained Baseline': 0x42, Main: 0x4d, High: 0x64 }[v.profile ?? 'High'] ?? 0x64;
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return `avc1.${hex(prof)}00${hex(v.level ?? 30)}`;
}

export async function encodeLevel(sample: string, out: string, w: number, h: number): Promise<void> {
  await runFfmpeg([
    '-i', sample, '-an',
    '-vf', `scale=${w}:${h}:flags=bicubic:out_color_matrix=bt709:out_range=tv,format=yuv420p`,
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-threads', '1',
    '-x264-params', 'keyint=24:min-keyint=24:scenecut=0',
    '-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709', '-color_range', 'tv',
    out,
  ]);
}

async function segment(mp4: string, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await runFfmpeg([
    '-i', mp4, '-c', 'copy', '-f', 'hls', '-hls_time', '1', '-hls_playlist_type', 'vod',
    '-hls_segment_filename', join(dir, 'seg%03d.ts'), join(dir, 'index.m3u8'),
  ]);
}

export async function makeFixture(dir: string): Promise<Fixture> {
  mkdirSync(dir, { recursive: true });
  const fps = 24;
  const sample = await makeSample(join(dir, 'sample.mp4'), { seconds: 2, width: 640, height: 360, fps });
  const lr = { width: 320, height: 180 };
  const lrMp4 = join(dir, 'lr.mp4');
  const srcMp4 = join(dir, 'src.mp4');
  await encodeLevel(sample, lrMp4, lr.width, lr.height);
  await encodeLevel(sample, srcMp4, 480, 270);
  await segment(lrMp4, join(dir, 'lr'));
  await segment(srcMp4, join(dir, 'src'));

  const model = buildX2Upscaler();
  mkdirSync(join(dir, 'upscaler'), { recursive: true });
  writeFileSync(join(dir, 'upscaler/x2.onnx'), model.bytes);
  const manifest: UpscalerManifest = {
    id: 'test-x2',
    scale: 2,
    model: 'x2.onnx',
    input: 'lr',
    output: 'hr',
    range: '0-1',
    colour: 'bt709-limited',
    params: model.params,
    macsPerPixel: model.macsPerPixel,
    receptiveRadius: model.radius,
  };
  writeFileSync(join(dir, 'upscaler/manifest.json'), JSON.stringify(manifest, null, 2));
  // far too slow for real time on purpose (hundreds of ms per frame): drives the adaptive modes
  const heavy = buildX2Upscaler({ features: 48, layers: 6 });
  writeFileSync(join(dir, 'upscaler/heavy.onnx'), heavy.bytes);
  writeFileSync(
    join(dir, 'upscaler/heavy.json'),
    JSON.stringify({ ...manifest, id: 'heavy-x2', model: 'heavy.onnx', params: heavy.params, macsPerPixel: heavy.macsPerPixel, receptiveRadius: heavy.radius }),
  );

  const lrCodec = await codecOf(lrMp4);
  const srcCodec = await codecOf(srcMp4);
  // the same LR stream as a level made for `modelId`
  const lrLevel = (modelId: string, bandwidth = 400000, uri = 'lr/index.m3u8') => [
    `#EXT-X-STREAM-INF:BANDWIDTH=${bandwidth},RESOLUTION=320x180,CODECS="${lrCodec}",FRAME-RATE=24.000,${ATTR_UPSCALE}=2,${ATTR_MODEL}="${modelId}"`,
    uri,
  ];
  const master = (manifestUri: string, lrLevels = [lrLevel('test-x2')]) =>
    [
      '#EXTM3U',
      '#EXT-X-VERSION:3',
      `#EXT-X-SESSION-DATA:DATA-ID="${SESSION_DATA_ID}",URI="${manifestUri}"`,
      ...lrLevels.flat(),
      `#EXT-X-STREAM-INF:BANDWIDTH=900000,RESOLUTION=480x270,CODECS="${srcCodec}",FRAME-RATE=24.000`,
      'src/index.m3u8',
      '',
    ].join('\n');
  writeFileSync(join(dir, 'master.m3u8'), master('upscaler/manifest.json'));
  writeFileSync(join(dir, 'master-404.m3u8'), master('upscaler/missing.json'));
  writeFileSync(join(dir, 'master-other.m3u8'), master('upscaler/manifest.json', [lrLevel('another-model')]));
  // distinct bandwidths keep hls.js from merging the three as redundant streams, and order them
  const sameSize = ['another-model', 'test-x2', 'third-model'].map((id, i) => lrLevel(id, 300000 + 100000 * i, `lr/index.m3u8?v=${i}`));
  writeFileSync(join(dir, 'master-same-size.m3u8'), master('upscaler/manifest.json', sameSize));
  writeFileSync(join(dir, 'index.html'), playerPage());
  return { dir, master: '/master.m3u8', master404: '/master-404.m3u8', masterSameSize: '/master-same-size.m3u8', lrMp4, lrUrl: '/lr.mp4', heavyManifest: '/upscaler/heavy.json', lr, fps, modelBytes: model.bytes };
}
