import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveEncodeFolder } from '../../src/compare/folder.js';
import { parseAttributes } from '../../src/encoder/job/playlist.js';
import { prepareOutdir, type EncodeState, type Job } from '../../src/encoder/job/state.js';
import { loadPairFolder } from '../../src/encoder/pairs/folder.js';
import { HcdError } from '../../src/shared/errors.js';
import { ATTR_UPSCALE, upscaleOf, upscalerUrl } from '../../src/shared/hls.js';
import { PairManifest, parseManifest, UpscalerManifest } from '../../src/shared/manifest.js';
import { outcome, REPO } from './helpers.js';

/**
 * Every file a user's folder can hand the encoder (pair manifests, an encode's job.json and
 * state.json, the upscaler manifest) and the playlist attributes the player reads, generated
 * and corrupted: a right answer, or one clear line (HcdError), never another exception.
 */
const SEED = 20_251_206;
const RUNS = { numRuns: 400, seed: SEED };
const FILE_RUNS = { numRuns: 120, seed: SEED };

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path to a value inside `v`. */
function pathsOf(v: Json, at: (string | number)[] = []): (string | number)[][] {
  const here = [at];
  if (Array.isArray(v)) return here.concat(...v.map((x, i) => pathsOf(x, [...at, i])));
  if (v && typeof v === 'object') return here.concat(...Object.entries(v).map(([k, x]) => pathsOf(x, [...at, k])));
  return here;
}

/** `base` with the value at one path replaced by any JSON, or removed. */
function mutated(base: Json): fc.Arbitrary<Json> {
  const anyJson = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom<Json>(-1, 0, 1.5, 1e308, '', 'x', [], {}, null, true)) as fc.Arbitrary<Json>;
  return fc.record({ path: fc.constantFrom(...pathsOf(base)), remove: fc.boolean(), value: anyJson }).map(({ path, remove, value }) => {
    if (path.length === 0) return value;
    const copy = structuredClone(base);
    let parent = copy as Record<string | number, Json>;
    for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, Json>;
    const last = path[path.length - 1];
    if (remove && !Array.isArray(parent)) delete parent[last];
    else parent[last] = value;
    return copy;
  });
}

/** File contents: the valid `base` slightly or badly broken, cut short, or anything at all. */
function fileText(base: Json): fc.Arbitrary<string> {
  const text = JSON.stringify(base);
  return fc.oneof(
    { weight: 5, arbitrary: mutated(base).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.constant(text) },
    { weight: 1, arbitrary: fc.nat(text.length).map((n) => text.slice(0, n)) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  );
}

async function outcomeAsync<T>(f: () => Promise<T>): Promise<{ value: T } | { error: HcdError }> {
  try {
    return { value: await f() };
  } catch (e) {
    if (!(e instanceof HcdError)) throw e;
    expect(e.message).not.toMatch(/[\r\n]/);
    return { error: e };
  }
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hcd-jobfiles-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pairManifest = JSON.parse(readFileSync(join(REPO, 'models', 'hcd-x2', 'manifest.json'), 'utf8')) as Json;
const upscalerManifest: Json = { id: 'hcd-x2', scale: 2, model: 'model.onnx', input: 'x', output: 'y', range: '0-1', colour: 'bt709-limited', params: 10, macsPerPixel: 20, receptiveRadius: 4 };

describe('manifests', () => {
  it('parseManifest: a pair or upscaler manifest that validates again, or one line', () => {
    for (const [schema, base] of [
      [PairManifest, pairManifest],
      [UpscalerManifest, upscalerManifest],
    ] as const) {
      fc.assert(
        fc.property(fc.oneof(mutated(base), fc.jsonValue() as fc.Arbitrary<Json>), (value) => {
          const r = outcome(() => parseManifest(schema, value, 'manifest'));
          if ('value' in r) expect(schema.safeParse(r.value).success).toBe(true);
        }),
        RUNS,
      );
    }
  });

  it('a pair folder: loads, or one line naming the folder', async () => {
    const pair = join(dir, 'pair');
    cpSync(join(REPO, 'models', 'hcd-x2'), pair, { recursive: true });
    let loaded = 0;
    await fc.assert(
      fc.asyncProperty(fileText(pairManifest), async (text) => {
        writeFileSync(join(pair, 'manifest.json'), text);
        const r = await outcomeAsync(() => loadPairFolder(pair));
        if ('value' in r) {
          loaded++;
          expect(r.value.manifest.scale).toBeGreaterThanOrEqual(2);
          expect(r.value.downscaler.graph).toBeDefined();
        } else expect(r.error.message).toContain(pair);
      }),
      FILE_RUNS,
    );
    expect(loaded).toBeGreaterThan(0);
  });
});

describe('an encode output folder (hcd compare FOLDER)', () => {
  let input: string;
  let job: Json;
  const state: Json = {
    chunks: [{ index: 0, startFrame: 0, frames: 24, bytes: { 'lr-100k': 5000, 'audio-20k': 2600 }, iframes: { 'lr-100k': [[0, 900, 24]] }, audio: 1.024 }],
    info: { 'lr-100k': { codecs: 'avc1.64000d', width: 48, height: 32, frameRate: 24 } },
    complete: true,
    totalFrames: 24,
  };
  beforeAll(() => {
    input = join(dir, 'in.mp4');
    writeFileSync(input, 'video');
    const st = statSync(input);
    job = {
      version: 1,
      input: { path: input, size: st.size, mtimeMs: Math.round(st.mtimeMs) },
      model: 'bicubic-x2',
      options: { seconds: 1, segment: 1, gop: 1, renditions: [{ name: 'lr-100k', kind: 'lr', bitrate: 100000, audio: 'audio-20k' }], audio: [{ name: 'audio-20k', bitrate: 20000 }], codecAware: true, codecLoop: { passes: 1, step: 2, radius: 4, rateSlope: 1 }, hcdIters: [1, 2], preset: 'medium' },
    };
  });

  it('resolveEncodeFolder: what describes the encode, checked, or one line', () => {
    const folder = join(dir, 'enc');
    mkdirSync(join(folder, 'upscaler'), { recursive: true });
    writeFileSync(join(folder, 'master.m3u8'), '#EXTM3U\n');
    let ok = 0;
    fc.assert(
      fc.property(fileText(job), fileText(state), fileText(upscalerManifest), (jobText, stateText, upText) => {
        writeFileSync(join(folder, 'job.json'), jobText);
        writeFileSync(join(folder, 'state.json'), stateText);
        writeFileSync(join(folder, 'upscaler', 'manifest.json'), upText);
        const r = outcome(() => resolveEncodeFolder(folder));
        if (!('value' in r)) return;
        ok++;
        const f = r.value;
        expect(f.input).toBe(input);
        expect(typeof f.model === 'string' && f.model !== '').toBe(true);
        expect(f.seconds === undefined || (Number.isFinite(f.seconds) && f.seconds > 0)).toBe(true);
        expect(Number.isInteger(f.scale) && f.scale >= 2 && f.scale <= 8).toBe(true);
        expect(f.hcdIters === undefined || (f.hcdIters.length === 2 && f.hcdIters.every((n) => Number.isSafeInteger(n) && n >= 0))).toBe(true);
        if (f.codecAware) {
          const l = f.codecLoop!;
          expect(Number.isSafeInteger(l.passes) && l.passes >= 0 && l.step > 0 && l.radius >= 0 && Number.isFinite(l.step + l.radius)).toBe(true);
          expect(l.rateSlope === undefined || (Number.isFinite(l.rateSlope) && l.rateSlope >= 0)).toBe(true);
        } else expect(f.codecLoop).toBeUndefined();
      }),
      RUNS,
    );
    expect(ok).toBeGreaterThan(0);
  });

  it('prepareOutdir: a state to continue from, or one line, whatever job.json and state.json hold', () => {
    const folder = join(dir, 'out');
    mkdirSync(folder, { recursive: true });
    let resumed = 0;
    fc.assert(
      fc.property(fileText(job), fileText(state), fc.boolean(), (jobText, stateText, resume) => {
        writeFileSync(join(folder, 'job.json'), jobText);
        writeFileSync(join(folder, 'state.json'), stateText);
        const r = outcome(() => prepareOutdir(folder, job as unknown as Job, { resume, force: false }));
        if (!('value' in r)) return;
        resumed++;
        expectUsableState(r.value);
      }),
      RUNS,
    );
    expect(resumed).toBeGreaterThan(0);
  });
});

function expectUsableState(s: EncodeState): void {
  const count = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;
  expect(Array.isArray(s.chunks)).toBe(true);
  for (const c of s.chunks) {
    expect(count(c.index) && count(c.startFrame) && count(c.frames) && c.frames > 0).toBe(true);
    expect(typeof c.bytes === 'object' && c.bytes !== null && Object.values(c.bytes).every(count)).toBe(true);
    expect(Object.values(c.iframes).every((fs) => fs.length > 0 && fs.every((f) => f.length === 3 && f.every(count)))).toBe(true);
  }
  expect(new Set(s.chunks.map((c) => c.index)).size).toBe(s.chunks.length);
  expect(typeof s.info === 'object' && s.info !== null && !Array.isArray(s.info)).toBe(true);
  for (const i of Object.values(s.info)) {
    expect(typeof i.codecs === 'string' && count(i.width) && count(i.height) && Number.isFinite(i.frameRate) && i.frameRate >= 0).toBe(true);
  }
  expect(typeof s.complete).toBe('boolean');
  expect(count(s.totalFrames)).toBe(true);
}

describe('playlist attributes', () => {
  const name = fc.stringMatching(/^[A-Z0-9-]{1,12}$/);
  const quoted = fc.string({ maxLength: 20 }).filter((v) => !/["\r\n]/.test(v));
  const bare = fc.stringMatching(/^[A-Za-z0-9.x@-]{0,12}$/);

  it('parseAttributes: what a tag line holds, for any line; exact for well-formed ones', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (line) => {
        const attrs = parseAttributes(line);
        for (const [k, v] of Object.entries(attrs)) {
          expect(k).toMatch(/^[A-Z0-9-]+$/);
          expect(typeof v).toBe('string');
        }
      }),
      RUNS,
    );
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(name, fc.boolean(), quoted, bare), { selector: ([k]) => k, maxLength: 6 }), (list) => {
        const line = `#EXT-X-STREAM-INF:${list.map(([k, q, qv, bv]) => `${k}=${q ? `"${qv}"` : bv}`).join(',')}`;
        expect(parseAttributes(line)).toEqual(Object.fromEntries(list.map(([k, q, qv, bv]) => [k, q ? qv : bv])));
      }),
      RUNS,
    );
  });

  it('parseAttributes: a quoted value is never cut short, and an unclosed quote gives no value', () => {
    expect(parseAttributes('#X:A="abc')).toEqual({});
    expect(parseAttributes('#X:A="abc,B=2').A).toBeUndefined();
    expect(parseAttributes('#X:A="a,b",B=2')).toEqual({ A: 'a,b', B: '2' });
  });

  it(`${ATTR_UPSCALE}: a scale the player can use (2-8), else 0 (drawn as is)`, () => {
    fc.assert(
      fc.property(fc.option(fc.oneof(fc.string({ maxLength: 8 }), fc.integer({ min: -3, max: 20 }).map(String), fc.constantFrom('2.0', '0x2', ' 2', '1e1', 'Infinity', '9007199254740993'))), (v) => {
        const s = upscaleOf(v ?? undefined);
        expect(s === 0 || (Number.isInteger(s) && s >= 2 && s <= 8)).toBe(true);
        if (v !== null && /^[2-8]$/.test(v)) expect(s).toBe(Number(v));
      }),
      RUNS,
    );
  });

  it('the upscaler URI of the session data: a URL, or undefined, never an exception', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 20 }), fc.webUrl(), fc.constantFrom('upscaler/manifest.json', 'http://[::1', '//', 'http://a b/')), fc.oneof(fc.webUrl(), fc.string({ maxLength: 12 }), fc.constant(undefined)), (uri, base) => {
        const url = upscalerUrl(uri, base);
        if (url !== undefined) expect(() => new URL(url)).not.toThrow();
      }),
      RUNS,
    );
    expect(upscalerUrl('upscaler/manifest.json', 'http://h/v/master.m3u8')).toBe('http://h/v/upscaler/manifest.json');
  });
});
