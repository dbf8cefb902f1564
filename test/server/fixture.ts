import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

export const SECRET = 'TOP-SECRET-OUTSIDE-THE-SERVED-FOLDER';

/** Deterministic bytes, different for every seed, so a range can be checked byte for byte. */
export function pattern(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 17 + (i >> 8)) & 0xff;
  return b;
}

/** The content of every file in the fixture that the server must never send. */
export const PRIVATE = 'PRIVATE-NOT-FOR-PLAYERS';

/** Files inside out1 that are not for players: the encoder's own, stray, or temporary. */
export const PRIVATE_FILES = [
  'job.json',
  'state.json',
  '.work/chunk-0/seg0.ts',
  'lr/seg3.ts.tmp',
  'lr/notes.txt',
  'lr/deep/seg0.ts',
  'upscaler/model.onnx.tmp',
  'upscaler/notes.txt',
  'upscaler/old/model.onnx',
  'compare/other.json',
  'compare/frame.png',
  'compare/crops/A.txt',
  'compare/streams/A_crf22.ts',
  'compare/streams/sub/A.mp4',
  'logs/encode.log',
];

export interface Fixture {
  /** A temp folder; `root` is inside it, `outside` next to it. */
  base: string;
  /** A folder of outputs: out1 (full), out2 (playlists only), plus things that are not outputs. */
  root: string;
  out1: string;
  segment: Buffer;
  model: Buffer;
  cleanup(): void;
}

const MASTER = [
  '#EXTM3U',
  '#EXT-X-VERSION:3',
  '#EXT-X-SESSION-DATA:DATA-ID="org.hcd-stream.upscaler",URI="upscaler/manifest.json"',
  '#EXT-X-STREAM-INF:BANDWIDTH=200000,RESOLUTION=320x180,X-UPSCALE=2,X-HCD-MODEL="hcd-x2"',
  'lr/index.m3u8',
  '#EXT-X-STREAM-INF:BANDWIDTH=900000,RESOLUTION=640x360',
  'src/index.m3u8',
  '',
].join('\n');

function variant(n: number): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:1', '#EXT-X-PLAYLIST-TYPE:VOD'];
  for (let i = 0; i < n; i++) lines.push('#EXTINF:1.0,', `seg${i}.ts`);
  lines.push('#EXT-X-ENDLIST', '');
  return lines.join('\n');
}

export function makeFixture(): Fixture {
  const base = mkdtempSync(path.join(os.tmpdir(), 'hcd-serve-'));
  const root = path.join(base, 'outputs');
  const outside = path.join(base, 'outside');
  mkdirSync(outside, { recursive: true });
  writeFileSync(path.join(outside, 'secret.txt'), SECRET);
  writeFileSync(path.join(base, 'sibling.txt'), SECRET);

  const out1 = path.join(root, 'out1');
  for (const d of ['lr', 'src', 'upscaler', 'compare', 'fmp4']) mkdirSync(path.join(out1, d), { recursive: true });
  writeFileSync(path.join(out1, 'master.m3u8'), MASTER);
  const segment = pattern(10_000, 1);
  for (const v of ['lr', 'src']) {
    writeFileSync(path.join(out1, v, 'index.m3u8'), variant(3));
    for (let i = 0; i < 3; i++) writeFileSync(path.join(out1, v, `seg${i}.ts`), i === 0 && v === 'lr' ? segment : pattern(4_000 + i, i + 2));
  }
  const model = pattern(3_000, 9);
  writeFileSync(path.join(out1, 'upscaler', 'model.onnx'), model);
  writeFileSync(path.join(out1, 'upscaler', 'manifest.json'), JSON.stringify({ model: 'model.onnx', scale: 2 }));
  writeFileSync(path.join(out1, 'fmp4', 'init.mp4'), pattern(500, 3));
  writeFileSync(path.join(out1, 'fmp4', 'seg0.m4s'), pattern(700, 4));
  writeFileSync(path.join(out1, 'compare', 'report.json'), '{"points":[]}');
  writeFileSync(path.join(out1, 'compare', 'report.html'), '<!doctype html><title>r</title>');
  writeFileSync(path.join(out1, 'compare', 'rd.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(path.join(out1, 'compare', 'report.csv'), 'pipeline,crf\n');
  mkdirSync(path.join(out1, 'compare', 'crops'));
  mkdirSync(path.join(out1, 'compare', 'streams'));
  writeFileSync(path.join(out1, 'compare', 'crops', 'A.png'), pattern(80, 6));
  writeFileSync(path.join(out1, 'compare', 'streams', 'A_crf22.mp4'), pattern(900, 8));
  writeFileSync(path.join(out1, 'upscaler', 'still.onnx'), pattern(200, 10));
  writeFileSync(path.join(out1, 'empty.ts'), '');
  writeFileSync(path.join(out1, '.partial.ts.tmp'), 'half-written');
  // What the encoder keeps for itself: never served.
  for (const f of PRIVATE_FILES) {
    mkdirSync(path.dirname(path.join(out1, f)), { recursive: true });
    writeFileSync(path.join(out1, f), PRIVATE);
  }
  // Links out of the served folder, at file and folder level.
  symlinkSync(path.join(outside, 'secret.txt'), path.join(out1, 'lr', 'escape.ts'));
  symlinkSync(outside, path.join(out1, 'outdir'));
  // A link that stays inside is fine.
  symlinkSync(path.join(out1, 'lr', 'seg0.ts'), path.join(out1, 'alias.ts'));

  const out2 = path.join(root, 'out2');
  mkdirSync(out2, { recursive: true });
  writeFileSync(path.join(out2, 'master.m3u8'), MASTER);
  mkdirSync(path.join(root, 'not-an-output'), { recursive: true });
  writeFileSync(path.join(root, 'not-an-output', 'index.m3u8'), PRIVATE);
  writeFileSync(path.join(root, 'not-an-output', 'x.ts'), PRIVATE);
  mkdirSync(path.join(root, '.scratch'), { recursive: true });
  writeFileSync(path.join(root, '.scratch', 'master.m3u8'), MASTER);
  // A whole output folder that is a link to somewhere else is not listed nor served.
  mkdirSync(path.join(outside, 'evil-out'), { recursive: true });
  writeFileSync(path.join(outside, 'evil-out', 'master.m3u8'), SECRET);
  symlinkSync(path.join(outside, 'evil-out'), path.join(root, 'linked-out'));

  return { base, root, out1, segment, model, cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * One request with the path sent exactly as given: fetch() would normalise `..` and
 * `%2e%2e` away on the client, which is not what an attacker's client does.
 */
export function raw(base: string, rawPath: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<RawResponse> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, path: rawPath, method: opts.method ?? 'GET', headers: opts.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}
