import { attr, GraphBuilder, type AttrValue } from '../../graph/builder.js';
import type { ModelProto } from '../../graph/proto.js';
import type { LayerSpec, LayersModel } from './model.js';

/**
 * TF.js layers model -> ONNX, NHWC -> NCHW. The graph keeps the network's own value range;
 * the pair loader wraps it. Supported: InputLayer, Conv2D (any padding/stride/dilation/groups,
 * fused activation), Activation, ReLU, LeakyReLU, Add, Subtract, Multiply, Concatenate,
 * UpSampling2D (nearest, bilinear). Anything else is refused by name, never guessed.
 */
export interface ConvertOptions {
  /** Symbolic names of the input's spatial dims. */
  dims?: [string, string];
  name?: string;
}

type Ctx = { g: GraphBuilder; m: LayersModel; values: Map<string, string>; channels: Map<string, number> };

function num(v: unknown, what: string): number {
  if (typeof v !== 'number') throw new Error(`${what}: expected a number`);
  return v;
}

function pair(v: unknown, what: string): [number, number] {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2) return [num(v[0], what), num(v[1], what)];
  throw new Error(`${what}: expected two numbers`);
}

function weight(ctx: Ctx, layer: string, which: string): { shape: number[]; data: Float32Array } {
  const w = ctx.m.weights.get(`${layer}/${which}`);
  if (!w) throw new Error(`layer '${layer}': weight '${layer}/${which}' is missing from the weights manifest`);
  return w;
}

function activation(ctx: Ctx, x: string, act: unknown, layer: string): string {
  switch (act ?? 'linear') {
    case 'linear':
      return x;
    case 'relu':
      return ctx.g.op('Relu', [x]);
    case 'sigmoid':
      return ctx.g.op('Sigmoid', [x]);
    case 'tanh':
      return ctx.g.op('Tanh', [x]);
    default:
      throw new Error(`layer '${layer}': activation '${String(act)}' is not supported`);
  }
}

function conv2d(ctx: Ctx, l: LayerSpec, x: string, inC: number): { out: string; channels: number } {
  const c = l.config;
  if ((c.data_format ?? 'channels_last') !== 'channels_last') throw new Error(`layer '${l.name}': only channels_last is supported`);
  const [kh, kw] = pair(c.kernel_size, `${l.name}.kernel_size`);
  const [sh, sw] = pair(c.strides ?? 1, `${l.name}.strides`);
  const [dh, dw] = pair(c.dilation_rate ?? 1, `${l.name}.dilation_rate`);
  const groups = typeof c.groups === 'number' ? c.groups : 1;
  const k = weight(ctx, l.name, 'kernel');
  const [wh, ww, wi, wo] = k.shape;
  if (wh !== kh || ww !== kw || wi * groups !== inC) throw new Error(`layer '${l.name}': kernel shape [${k.shape}] does not fit ${inC} input channels`);
  // HWIO -> OIHW
  const oihw = new Float32Array(k.data.length);
  for (let y = 0; y < kh; y++)
    for (let xx = 0; xx < kw; xx++)
      for (let i = 0; i < wi; i++)
        for (let o = 0; o < wo; o++) oihw[((o * wi + i) * kh + y) * kw + xx] = k.data[((y * kw + xx) * wi + i) * wo + o];
  const inputs = [x, ctx.g.constF(oihw, [wo, wi, kh, kw], `${l.name}_w`)];
  if (c.use_bias !== false) inputs.push(ctx.g.constF(weight(ctx, l.name, 'bias').data, [wo], `${l.name}_b`));
  let pads = [0, 0, 0, 0];
  if (c.padding === 'same') {
    // TF puts the odd pixel at the end; exact for stride 1, and for stride s when the input
    // size is a multiple of s (the pair's frames always are)
    const th = Math.max((kh - 1) * dh + 1 - sh, 0);
    const tw = Math.max((kw - 1) * dw + 1 - sw, 0);
    pads = [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)];
  } else if (c.padding !== 'valid') throw new Error(`layer '${l.name}': padding '${String(c.padding)}' is not supported`);
  const attrs: Record<string, AttrValue> = {
    kernel_shape: attr.ints([kh, kw]),
    strides: attr.ints([sh, sw]),
    pads: attr.ints(pads),
    dilations: attr.ints([dh, dw]),
    group: attr.int(groups),
  };
  const y = ctx.g.op('Conv', inputs, attrs);
  return { out: activation(ctx, y, c.activation, l.name), channels: wo };
}

function convertLayer(ctx: Ctx, l: LayerSpec): { out: string; channels: number } {
  const ins = l.inputs.map((n) => {
    const v = ctx.values.get(n);
    if (!v) throw new Error(`layer '${l.name}': input '${n}' is not defined before it`);
    return v;
  });
  const chs = l.inputs.map((n) => ctx.channels.get(n) ?? 0);
  const c = l.config;
  const { g } = ctx;
  switch (l.className) {
    case 'Conv2D':
      return conv2d(ctx, l, ins[0], chs[0]);
    case 'Activation':
      return { out: activation(ctx, ins[0], c.activation, l.name), channels: chs[0] };
    case 'ReLU': {
      const slope = typeof c.negative_slope === 'number' ? c.negative_slope : 0;
      const max = typeof c.max_value === 'number' ? c.max_value : undefined;
      if (c.threshold && c.threshold !== 0) throw new Error(`layer '${l.name}': ReLU threshold is not supported`);
      let y = slope ? g.op('LeakyRelu', [ins[0]], { alpha: attr.float(slope) }) : g.op('Relu', [ins[0]]);
      if (max !== undefined) y = g.op('Clip', [y, g.constF([slope ? -3.4e38 : 0], [], 'lo'), g.constF([max], [], 'hi')]);
      return { out: y, channels: chs[0] };
    }
    case 'LeakyReLU':
      return { out: g.op('LeakyRelu', [ins[0]], { alpha: attr.float(typeof c.alpha === 'number' ? c.alpha : 0.3) }), channels: chs[0] };
    case 'Add':
    case 'Subtract':
    case 'Multiply': {
      const op = l.className === 'Add' ? 'Add' : l.className === 'Subtract' ? 'Sub' : 'Mul';
      let y = ins[0];
      for (const v of ins.slice(1)) y = g.op(op, [y, v]);
      return { out: y, channels: chs[0] };
    }
    case 'Concatenate': {
      const axis = typeof c.axis === 'number' ? c.axis : -1;
      if (axis !== -1 && axis !== 3) throw new Error(`layer '${l.name}': only channel concatenation (axis -1/3) is supported`);
      return { out: g.op('Concat', ins, { axis: attr.int(1) }), channels: chs.reduce((a, b) => a + b, 0) };
    }
    case 'UpSampling2D': {
      const [fh, fw] = pair(c.size ?? 2, `${l.name}.size`);
      const interp = c.interpolation ?? 'nearest';
      const scales = g.constF([1, 1, fh, fw], [4], `${l.name}_scales`);
      const attrs: Record<string, AttrValue> =
        interp === 'nearest'
          ? { mode: attr.string('nearest'), coordinate_transformation_mode: attr.string('asymmetric'), nearest_mode: attr.string('floor') }
          : interp === 'bilinear'
            ? { mode: attr.string('linear'), coordinate_transformation_mode: attr.string('half_pixel') }
            : (() => {
                throw new Error(`layer '${l.name}': UpSampling2D interpolation '${String(interp)}' is not supported`);
              })();
      return { out: g.op('Resize', [ins[0], '', scales], attrs), channels: chs[0] };
    }
    default:
      throw new Error(`layer '${l.name}': Keras layer class '${l.className}' is not supported by the converter`);
  }
}

/** Converts the layers model; the ONNX I/O keep the Keras input/output layer names. */
export function convertLayersModel(m: LayersModel, opts: ConvertOptions = {}): ModelProto {
  if (m.inputNames.length !== 1 || m.outputNames.length !== 1) throw new Error('only models with one input and one output are supported');
  const g = new GraphBuilder(opts.name ?? 'tfjs');
  g.reserve(m.layers.map((l) => l.name));
  const ctx: Ctx = { g, m, values: new Map(), channels: new Map() };
  const [h, w] = opts.dims ?? ['h', 'w'];
  for (const l of m.layers) {
    if (l.className === 'InputLayer') {
      const shape = (l.config.batch_input_shape ?? l.config.batch_shape) as (number | null)[] | undefined;
      const ch = shape?.[3] ?? 3;
      if (typeof ch !== 'number') throw new Error(`input '${l.name}': the channel count must be fixed`);
      ctx.values.set(l.name, g.input(l.name, [1, ch, h, w]));
      ctx.channels.set(l.name, ch);
      continue;
    }
    const r = convertLayer(ctx, l);
    ctx.values.set(l.name, r.out);
    ctx.channels.set(l.name, r.channels);
  }
  const outName = m.outputNames[0];
  const last = ctx.values.get(outName);
  if (!last) throw new Error(`output layer '${outName}' not found`);
  const out = g.op('Identity', [last], {}, outName);
  g.output(out, [1, ctx.channels.get(outName) ?? 3, 'H', 'W']);
  return g.toModel({ docString: 'converted from a TF.js layers model by src/encoder/pairs/tfjs' });
}
