import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * Reading a TF.js layers model (model.json + binary weight shards) as written by
 * tensorflowjs_converter: the Keras topology and float32 weights by name. Only what the
 * converter needs; quantized weights are refused with a clear message.
 */
export interface LayerSpec {
  className: string;
  name: string;
  config: Record<string, unknown>;
  /** Names of the layers feeding this one, in order. */
  inputs: string[];
}

export interface LayersModel {
  layers: LayerSpec[];
  inputNames: string[];
  outputNames: string[];
  weights: Map<string, { shape: number[]; data: Float32Array }>;
}

interface WeightEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: unknown;
}

interface RawLayer {
  class_name: string;
  name?: string;
  config: Record<string, unknown> & { name?: string };
  inbound_nodes?: unknown[];
}

function inboundNames(layer: RawLayer): string[] {
  const nodes = layer.inbound_nodes ?? [];
  if (nodes.length === 0) return [];
  if (nodes.length > 1) throw new Error(`layer '${layer.config.name}': shared layers (called more than once) are not supported`);
  const node = nodes[0];
  if (!Array.isArray(node)) throw new Error(`layer '${layer.config.name}': unsupported inbound_nodes format (Keras 3?)`);
  return node.map((entry: unknown) => {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string') throw new Error(`layer '${layer.config.name}': unsupported inbound node entry`);
    if (entry[2] !== 0 && entry[2] !== undefined) throw new Error(`layer '${layer.config.name}': multi-output inputs are not supported`);
    return entry[0];
  });
}

/** Parses model.json's topology; `weights` are read from the shards next to it. */
export function parseTopology(json: unknown): Omit<LayersModel, 'weights'> {
  const root = json as { format?: string; modelTopology?: { model_config?: unknown } & Record<string, unknown> };
  if (!root.modelTopology) throw new Error('not a TF.js layers model: no modelTopology');
  if (root.format && root.format !== 'layers-model') throw new Error(`TF.js model format '${root.format}' is not supported (only layers-model)`);
  const cfg = (root.modelTopology.model_config ?? root.modelTopology) as { class_name?: string; config?: unknown };
  const klass = cfg.class_name;
  if (klass === 'Sequential') {
    const raw = (Array.isArray(cfg.config) ? cfg.config : (cfg.config as { layers: RawLayer[] }).layers) as RawLayer[];
    const layers: LayerSpec[] = [];
    let prev: string | undefined;
    if (raw.length && raw[0].class_name !== 'InputLayer') {
      // Sequential models may carry the input shape on their first layer instead
      layers.push({ className: 'InputLayer', name: 'input', config: { batch_input_shape: raw[0].config.batch_input_shape }, inputs: [] });
      prev = 'input';
    }
    for (const l of raw) {
      const name = String(l.config.name ?? l.name);
      layers.push({ className: l.class_name, name, config: l.config, inputs: prev ? [prev] : [] });
      prev = name;
    }
    return { layers, inputNames: [layers[0].name], outputNames: [layers[layers.length - 1].name] };
  }
  if (klass !== 'Functional' && klass !== 'Model') throw new Error(`TF.js model class '${klass}' is not supported`);
  const c = cfg.config as { layers: RawLayer[]; input_layers: unknown[][]; output_layers: unknown[][] };
  const layers = c.layers.map((l) => ({
    className: l.class_name,
    name: String(l.config.name ?? l.name),
    config: l.config,
    inputs: inboundNames(l),
  }));
  return {
    layers,
    inputNames: c.input_layers.map((x) => String(x[0])),
    outputNames: c.output_layers.map((x) => String(x[0])),
  };
}

/** Splits concatenated shard bytes into named float32 tensors, in manifest order. */
export function parseWeights(groups: { paths: string[]; weights: WeightEntry[] }[], shards: Uint8Array[][]): LayersModel['weights'] {
  const out: LayersModel['weights'] = new Map();
  groups.forEach((group, gi) => {
    const parts = shards[gi];
    const total = parts.reduce((a, p) => a + p.byteLength, 0);
    const bytes = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      bytes.set(p, o);
      o += p.byteLength;
    }
    let offset = 0;
    for (const w of group.weights) {
      if (w.quantization) throw new Error(`weight ${w.name}: quantized TF.js weights are not supported`);
      if (w.dtype !== 'float32') throw new Error(`weight ${w.name}: dtype ${w.dtype} is not supported`);
      const n = w.shape.reduce((a, b) => a * b, 1);
      if (offset + 4 * n > bytes.byteLength) throw new Error(`weight ${w.name}: the shards are shorter than the manifest says`);
      out.set(w.name, { shape: w.shape, data: new Float32Array(bytes.slice(offset, offset + 4 * n).buffer) });
      offset += 4 * n;
    }
    if (offset !== bytes.byteLength) throw new Error(`weight group ${gi}: ${bytes.byteLength - offset} bytes left over`);
  });
  return out;
}

export async function readLayersModel(modelJsonPath: string): Promise<LayersModel> {
  const json = JSON.parse(await readFile(modelJsonPath, 'utf8')) as {
    weightsManifest?: { paths: string[]; weights: WeightEntry[] }[];
  };
  const topo = parseTopology(json);
  const groups = json.weightsManifest ?? [];
  const dir = dirname(modelJsonPath);
  const shards = await Promise.all(groups.map((g) => Promise.all(g.paths.map(async (p) => new Uint8Array(await readFile(join(dir, p)))))));
  return { ...topo, weights: parseWeights(groups, shards) };
}
