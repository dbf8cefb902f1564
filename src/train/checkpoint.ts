import { readFile } from 'node:fs/promises';
import { HcdError } from '../shared/errors.js';
import { writeFileAtomic } from '../encoder/media/files.js';
import type { AdamSlot } from './adam.js';
import type { Params } from './params.js';
import type { RngState } from '../shared/rng.js';

/** Everything a resumed run needs to continue bit-for-bit: weights, Adam moments, RNG, step. */
export interface TrainState {
  /** Steps completed. */
  step: number;
  rng: RngState;
  params: Params;
  slots: Map<string, AdamSlot>;
  history: ValRecord[];
}

export interface ValRecord {
  step: number;
  psnr: number;
  lrPsnr: number;
  /** PSNR with the LR taken through 4:2:0 first, as streamed (runs that train with chroma 420). */
  psnr420?: number;
  /** PSNR with the LR coded by real x264 at `x264Crf` (runs that train with --codec x264). */
  psnrX264?: number;
  x264Crf?: number;
}

const b64 = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
function f32(s: string): Float32Array {
  const buf = Buffer.from(s, 'base64');
  const out = new Float32Array(buf.length / 4);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

interface CheckpointJson {
  format: 'hcd-train-checkpoint';
  version: 1;
  config: unknown;
  step: number;
  rng: RngState;
  history: ValRecord[];
  params: { name: string; dims: number[]; w: string; m: string; v: string }[];
}

/** Written to a temp file and renamed, so a kill mid-write leaves the previous checkpoint intact. */
export async function saveCheckpoint(file: string, state: TrainState, config: unknown): Promise<void> {
  const json: CheckpointJson = {
    format: 'hcd-train-checkpoint',
    version: 1,
    config,
    step: state.step,
    rng: state.rng,
    history: state.history,
    params: [...state.params].map(([name, p]) => {
      const s = state.slots.get(name);
      if (!s) throw new Error(`no Adam state for ${name}`);
      return { name, dims: p.dims, w: b64(p.data), m: b64(s.m), v: b64(s.v) };
    }),
  };
  await writeFileAtomic(file, Buffer.from(JSON.stringify(json)));
}

export async function loadCheckpoint(file: string): Promise<{ state: TrainState; config: unknown }> {
  let json: CheckpointJson;
  try {
    json = JSON.parse(await readFile(file, 'utf8')) as CheckpointJson;
  } catch (e) {
    throw new HcdError(`cannot read checkpoint ${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (json.format !== 'hcd-train-checkpoint' || json.version !== 1) throw new HcdError(`${file} is not an hcd train checkpoint`);
  const params: Params = new Map();
  const slots = new Map<string, AdamSlot>();
  for (const p of json.params) {
    params.set(p.name, { dims: p.dims, data: f32(p.w) });
    slots.set(p.name, { m: f32(p.m), v: f32(p.v) });
  }
  return { state: { step: json.step, rng: json.rng, params, slots, history: json.history }, config: json.config };
}
