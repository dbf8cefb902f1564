import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { HcdError } from '../../shared/errors.js';
import { checkOutputFolder, makeFolder } from '../media/files.js';
import { parseManifest, PairManifest, type NetworkInfo } from '../../shared/manifest.js';
import { decodeModel, encodeModel, type ModelProto } from '../graph/proto.js';
import { canonicalize } from './canonical.js';
import type { RescalingPair } from './types.js';

/** File name of the still upscaler in a pair folder. */
export const STILL_FILE = 'upscaler-still.onnx';

export async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function readModel(file: string, what: string): Promise<ModelProto> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch {
    throw new HcdError(`${file}: cannot read the ${what} named in manifest.json`);
  }
  try {
    return decodeModel(bytes);
  } catch (e) {
    throw new HcdError(`${file}: not an ONNX model (${(e as Error).message})`);
  }
}

/**
 * The manifest as it describes the canonical networks the loader hands out: 'x' -> 'y' in 0-1,
 * zero-filled extra inputs gone. The native description moves to provenance.native.
 */
export function canonicalManifest(m: PairManifest): PairManifest {
  const canon = (n: PairManifest['downscaler']): PairManifest['downscaler'] => ({ ...n, input: 'x', output: 'y', range: '0-1' });
  const nets = [m.downscaler, m.upscaler, ...(m.stillUpscaler ? [m.stillUpscaler] : [])];
  const alreadyCanonical =
    nets.every((n) => n.input === 'x' && n.output === 'y' && n.range === '0-1') &&
    m.extraInputs.every((e) => e.fill !== 'zeros');
  if (alreadyCanonical) return m;
  return {
    ...m,
    downscaler: canon(m.downscaler),
    upscaler: canon(m.upscaler),
    ...(m.stillUpscaler ? { stillUpscaler: canon(m.stillUpscaler) } : {}),
    extraInputs: m.extraInputs.filter((e) => e.fill !== 'zeros'),
    provenance: { ...m.provenance, native: { downscaler: m.downscaler, upscaler: m.upscaler, ...(m.stillUpscaler ? { stillUpscaler: m.stillUpscaler } : {}), extraInputs: m.extraInputs } },
  };
}

/** Loads a pair folder and wraps both networks into the canonical form. */
export async function loadPairFolder(dir: string): Promise<RescalingPair> {
  const abs = resolve(dir);
  if (!(await isDir(abs))) throw new HcdError(`${dir}: not a folder (a pair is a folder with manifest.json, downscaler.onnx and upscaler.onnx)`);
  const mpath = join(abs, 'manifest.json');
  let text: string;
  try {
    text = await readFile(mpath, 'utf8');
  } catch {
    throw new HcdError(`${dir}: no manifest.json (a pair is a folder with manifest.json, downscaler.onnx and upscaler.onnx)`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new HcdError(`${mpath}: not valid JSON (${(e as Error).message})`);
  }
  let manifest: PairManifest;
  try {
    manifest = parseManifest(PairManifest, json, 'pair manifest');
  } catch (e) {
    throw new HcdError(`${mpath}: ${(e as Error).message}`);
  }
  const extras = (net: 'downscaler' | 'upscaler') => manifest.extraInputs.filter((e) => e.network === net);
  const load = async (net: 'downscaler' | 'upscaler', info: NetworkInfo = manifest[net]): Promise<ModelProto> => {
    const model = await readModel(join(abs, info.file), net);
    try {
      return canonicalize(model, {
        input: info.input,
        output: info.output,
        range: info.range,
        // clampsOutput describes the graph; the loader never adds a second clamp
        extras: extras(net),
        inDims: net === 'downscaler' ? ['H', 'W'] : ['h', 'w'],
        outDims: net === 'downscaler' ? ['h', 'w'] : ['H', 'W'],
      });
    } catch (e) {
      throw new HcdError(`${join(abs, info.file)}: ${(e as Error).message}`);
    }
  };
  const downscaler = await load('downscaler');
  const upscaler = await load('upscaler');
  const stillUpscaler = manifest.stillUpscaler ? await load('upscaler', manifest.stillUpscaler) : undefined;
  return { id: manifest.id, manifest: canonicalManifest(manifest), dir: abs, downscaler, upscaler, ...(stillUpscaler ? { stillUpscaler } : {}) };
}

/**
 * Writes the pair (canonical networks and their manifest) into `dir`: everything goes into a
 * sibling temp folder first and is renamed into place, so a reader never sees half a pair.
 */
export async function savePair(pair: RescalingPair, dir: string): Promise<void> {
  const abs = resolve(dir);
  checkOutputFolder(abs, 'pair folder');
  makeFolder(dirname(abs), 'pair folder');
  const tmp = `${abs}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await mkdir(tmp);
  try {
    const manifest: PairManifest = {
      ...pair.manifest,
      id: pair.id,
      downscaler: { ...pair.manifest.downscaler, file: 'downscaler.onnx' },
      upscaler: { ...pair.manifest.upscaler, file: 'upscaler.onnx' },
      ...(pair.manifest.stillUpscaler ? { stillUpscaler: { ...pair.manifest.stillUpscaler, file: STILL_FILE } } : {}),
    };
    if (!pair.stillUpscaler !== !manifest.stillUpscaler) throw new Error(`pair ${pair.id}: the still upscaler and its manifest entry must come together`);
    parseManifest(PairManifest, manifest, 'pair manifest');
    await writeFile(join(tmp, 'downscaler.onnx'), encodeModel(pair.downscaler));
    await writeFile(join(tmp, 'upscaler.onnx'), encodeModel(pair.upscaler));
    if (pair.stillUpscaler) await writeFile(join(tmp, STILL_FILE), encodeModel(pair.stillUpscaler));
    await writeFile(join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    if (await isDir(abs)) {
      // rename() cannot replace a non-empty folder: move the old one aside first
      const old = `${abs}.old-${process.pid}-${randomBytes(4).toString('hex')}`;
      await rename(abs, old);
      await rename(tmp, abs);
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(tmp, abs);
    }
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}
