import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFfmpeg } from '../../src/encoder/media/ffmpeg.js';
import { readImage } from '../../src/encoder/media/png.js';
import { Rng } from '../../src/shared/rng.js';
import { makeClip, mapLimited, oneLineFailure, readMediaPlaylist, runCliWithin, segmentOf, type CliResult } from './helpers.js';

/**
 * Broken media through the whole CLI: a small clip and still images, cut short, bit-flipped and
 * with mangled headers at offsets drawn from a fixed seed. Every run must end in time with
 * success or one `hcd: ` line, and leave no half-written output behind.
 */
const SEED = 0x4fc0de;
const LIMIT_MS = 90_000;

type Mutation = { name: string; bytes: Buffer };

/** Offsets of an MP4's top-level boxes by type. */
function boxes(b: Buffer): Map<string, number> {
  const out = new Map<string, number>();
  for (let at = 0; at + 8 <= b.length; ) {
    const size = b.readUInt32BE(at);
    out.set(b.toString('latin1', at + 4, at + 8), at);
    if (size < 8) break;
    at += size;
  }
  return out;
}

/** Deterministic variants of `b`: truncated at `cuts` (fractions), `flips` bit-flip runs, and mangled `headers` ranges. */
function mutations(b: Buffer, rng: Rng, o: { cuts: number[]; flips: number[]; headers: [name: string, start: number, len: number][] }): Mutation[] {
  const out: Mutation[] = o.cuts.map((f) => ({ name: `cut@${Math.floor(f * b.length)}`, bytes: b.subarray(0, Math.floor(f * b.length)) }));
  for (const n of o.flips) {
    const c = Buffer.from(b);
    const at: number[] = [];
    for (let i = 0; i < n; i++) {
      const pos = rng.int(c.length);
      c[pos] ^= 1 << rng.int(8);
      at.push(pos);
    }
    out.push({ name: `flip${n}@${at.slice(0, 3).join(',')}`, bytes: c });
  }
  for (const [name, start, len] of o.headers) {
    const c = Buffer.from(b);
    for (let i = start; i < Math.min(c.length, start + len); i++) c[i] = rng.int(256);
    out.push({ name: `mangle-${name}@${start}+${len}`, bytes: c });
  }
  return out;
}

/** Every file under `dir`, relative. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)));
}

/** Ended in time, with success or one line. */
function expectCleanEnd(r: CliResult & { killed: boolean }, what: string): void {
  expect(r.killed, `${what}: still running after ${LIMIT_MS} ms`).toBe(false);
  if (r.code !== 0) oneLineFailure(r);
  expect(r.stderr, what).not.toMatch(/\n\s+at /); // no stack trace, even on success
}

/** No temporary file, and every segment on disk listed in its playlist (and recorded ones present). */
function expectWholeEncodeOutput(out: string, what: string): void {
  if (!existsSync(out)) return;
  const files = filesUnder(out);
  expect(files.filter((f) => f.includes('.tmp') || f.startsWith('.work')), what).toEqual([]);
  for (const name of readdirSync(out).filter((n) => /^(lr|src|audio)-/.test(n))) {
    const playlist = join(out, name, 'index.m3u8');
    const listed = existsSync(playlist) ? readMediaPlaylist(playlist).segments.map((s) => s.uri) : [];
    const segments = readdirSync(join(out, name)).filter((f) => f.endsWith('.m4s'));
    for (const s of segments) expect(listed, `${what}: ${name}/${s} is on disk but in no playlist`).toContain(s);
    for (const s of listed) expect(segments, `${what}: ${name}/${s} is listed but missing`).toContain(s);
  }
  if (existsSync(join(out, 'state.json'))) {
    const state = JSON.parse(readFileSync(join(out, 'state.json'), 'utf8')) as { chunks: { index: number }[] };
    for (const c of state.chunks) expect(existsSync(join(out, 'lr-100k', segmentOf(out, c.index))), what).toBe(true);
  }
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hcd-fuzz-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('broken media input ends cleanly', () => {
  it('hcd encode on a clip cut short, bit-flipped and with mangled headers', async () => {
    const plain = await makeClip(join(dir, 'plain.mp4'), { seconds: 1, width: 96, height: 64 });
    // the index first (as streaming files have it): cuts then leave a header promising more
    const fast = join(dir, 'fast.mp4');
    await runFfmpeg(['-i', plain, '-c', 'copy', '-movflags', '+faststart', fast]);
    const rng = new Rng(SEED);
    const b = readFileSync(fast);
    const box = boxes(b);
    const moov = box.get('moov') ?? 0;
    const mdat = box.get('mdat') ?? b.length / 2;
    const variants = [
      ...mutations(b, rng, {
        cuts: [0, 0.004, 0.02, 0.1, 0.5, 0.95, 0.999],
        flips: [1, 16, 64, 256],
        headers: [
          ['ftyp', 0, 8],
          ['moov', moov, 16],
          ['moov-body', moov + 40 + rng.int(200), 24],
          ['stbl', b.indexOf('stbl', moov) + 4 + rng.int(64), 32],
          ['mdat', mdat, 8],
        ],
      }),
      ...mutations(readFileSync(plain), rng, { cuts: [0.5, 0.97], flips: [], headers: [] }),
    ];
    const results = await mapLimited(variants, 2, async (v, i) => {
      const input = join(dir, `v${i}.mp4`);
      const out = join(dir, `enc${i}`);
      writeFileSync(input, v.bytes);
      const args = ['encode', input, '-o', out, '--model', 'bicubic-x2', '--hcd-iters', '0,0', '--seconds', '1', '--segment', '0.5', '--renditions', '100k', '--source-renditions', '', '--preset', 'ultrafast'];
      return { v, out, r: await runCliWithin(args, LIMIT_MS) };
    });
    for (const { v, out, r } of results) {
      expectCleanEnd(r, v.name);
      expectWholeEncodeOutput(out, v.name);
      if (r.code === 0) expect(existsSync(join(out, 'master.m3u8')), v.name).toBe(true);
    }
    const failed = results.filter((x) => x.r.code !== 0).length;
    // the file cut to nothing and the mangled index cannot be read: the fuzz reached the error paths
    expect(failed).toBeGreaterThanOrEqual(3);
  });

  it('hcd image on PNG and JPEG stills cut short, bit-flipped and with mangled headers', async () => {
    const rng = new Rng(SEED + 1);
    const variants: Mutation[] = [];
    for (const ext of ['png', 'jpg']) {
      const file = join(dir, `still.${ext}`);
      await runFfmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=96x64:rate=1', '-frames:v', '1', file]);
      const b = readFileSync(file);
      // PNG: the signature, then IHDR (the size); JPEG: SOI, then the frame header (SOF0)
      const header = ext === 'png' ? 8 : Math.max(2, b.indexOf(Buffer.from([0xff, 0xc0])));
      for (const m of mutations(b, rng, { cuts: [0.05, 0.5], flips: [1, 32], headers: [['magic', 0, 4], ['size', header, 12]] })) variants.push({ ...m, name: `${ext}:${m.name}` });
    }
    const results = await mapLimited(variants, 2, async (v, i) => {
      const input = join(dir, `s${i}.${v.name.slice(0, 3)}`);
      const out = join(dir, `img${i}`);
      writeFileSync(input, v.bytes);
      return { v, out, r: await runCliWithin(['image', input, '-o', out, '--model', 'bicubic-x2', '--hcd-iters', '0,0'], LIMIT_MS) };
    });
    for (const { v, out, r } of results) {
      expectCleanEnd(r, v.name);
      const files = filesUnder(out).sort();
      expect(files, v.name).toEqual(r.code === 0 ? ['lr.png', 'lr_base.png', 'sr.png', 'sr_base.png'] : []);
    }
    expect(results.filter((x) => x.r.code !== 0).length).toBeGreaterThanOrEqual(4);
  });
});

describe('what the messages say about broken stills', () => {
  it('a PNG with a damaged size in its header is called damaged, not too large', async () => {
    const file = join(dir, 'ihdr.png');
    await runFfmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=96x64:rate=1', '-frames:v', '1', file]);
    const b = readFileSync(file);
    b[20] ^= 0x40; // the height's top byte: 64 -> 1073741888 rows
    writeFileSync(file, b);
    await expect(readImage(file)).rejects.toThrow(/ihdr\.png is not a valid PNG: its header \(IHDR\) is damaged$/);
  });

  it('a PNG cut short says so in our words', async () => {
    const file = join(dir, 'short.png');
    await runFfmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=96x64:rate=1', '-frames:v', '1', file]);
    writeFileSync(file, readFileSync(file).subarray(0, 600));
    await expect(readImage(file)).rejects.toThrow(/short\.png is not a valid PNG: the file ends before the image does$/);
  });
});
