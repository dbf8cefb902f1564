import type { LayersModel } from './model.js';

/**
 * A direct forward pass of a TF.js layers model in plain JS, in TF's own NHWC layout with the raw
 * HWIO weights: an independent check of the converter (no layout changes, no ONNX). Stride 1
 * convolutions only; slow, for small test inputs.
 */
export interface Nhwc {
  h: number;
  w: number;
  c: number;
  data: Float64Array;
}

function conv(x: Nhwc, kernel: { shape: number[]; data: Float32Array }, bias: Float32Array | undefined, same: boolean, dil: number): Nhwc {
  const [kh, kw, ci, co] = kernel.shape;
  const th = (kh - 1) * dil;
  const tw = (kw - 1) * dil;
  const pt = same ? Math.floor(th / 2) : 0;
  const pl = same ? Math.floor(tw / 2) : 0;
  const oh = same ? x.h : x.h - th;
  const ow = same ? x.w : x.w - tw;
  const out = new Float64Array(oh * ow * co);
  for (let y = 0; y < oh; y++)
    for (let xx = 0; xx < ow; xx++)
      for (let o = 0; o < co; o++) {
        let acc = bias ? bias[o] : 0;
        for (let ky = 0; ky < kh; ky++) {
          const iy = y + ky * dil - pt;
          if (iy < 0 || iy >= x.h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = xx + kx * dil - pl;
            if (ix < 0 || ix >= x.w) continue;
            const base = (iy * x.w + ix) * ci;
            const kb = (ky * kw + kx) * ci * co + o;
            for (let i = 0; i < ci; i++) acc += x.data[base + i] * kernel.data[kb + i * co];
          }
        }
        out[(y * ow + xx) * co + o] = acc;
      }
  return { h: oh, w: ow, c: co, data: out };
}

function act(x: Nhwc, a: unknown): Nhwc {
  if (a === undefined || a === 'linear') return x;
  const f = a === 'relu' ? (v: number) => Math.max(0, v) : a === 'sigmoid' ? (v: number) => 1 / (1 + Math.exp(-v)) : a === 'tanh' ? Math.tanh : undefined;
  if (!f) throw new Error(`reference: activation ${String(a)} not implemented`);
  return { ...x, data: x.data.map(f) };
}

export function referenceForward(m: LayersModel, input: Nhwc): Nhwc {
  const vals = new Map<string, Nhwc>();
  for (const l of m.layers) {
    const ins = l.inputs.map((n) => vals.get(n) as Nhwc);
    const c = l.config;
    let y: Nhwc;
    switch (l.className) {
      case 'InputLayer':
        y = input;
        break;
      case 'Conv2D': {
        const s = Array.isArray(c.strides) ? c.strides[0] : (c.strides ?? 1);
        if (s !== 1) throw new Error('reference: stride 1 only');
        const d = Array.isArray(c.dilation_rate) ? (c.dilation_rate[0] as number) : ((c.dilation_rate as number | undefined) ?? 1);
        const k = m.weights.get(`${l.name}/kernel`);
        if (!k) throw new Error(`reference: no kernel for ${l.name}`);
        y = act(conv(ins[0], k, c.use_bias === false ? undefined : m.weights.get(`${l.name}/bias`)?.data, c.padding === 'same', d), c.activation);
        break;
      }
      case 'Activation':
        y = act(ins[0], c.activation);
        break;
      case 'ReLU':
        y = act(ins[0], 'relu');
        break;
      case 'LeakyReLU': {
        const a = typeof c.alpha === 'number' ? c.alpha : 0.3;
        y = { ...ins[0], data: ins[0].data.map((v) => (v < 0 ? a * v : v)) };
        break;
      }
      case 'Add':
        y = { ...ins[0], data: ins[0].data.map((v, i) => ins.reduce((acc, t, j) => (j === 0 ? acc : acc + t.data[i]), v)) };
        break;
      case 'Concatenate': {
        const c2 = ins.reduce((a, t) => a + t.c, 0);
        const data = new Float64Array(ins[0].h * ins[0].w * c2);
        for (let p = 0; p < ins[0].h * ins[0].w; p++) {
          let o = 0;
          for (const t of ins) {
            for (let i = 0; i < t.c; i++) data[p * c2 + o + i] = t.data[p * t.c + i];
            o += t.c;
          }
        }
        y = { h: ins[0].h, w: ins[0].w, c: c2, data };
        break;
      }
      case 'UpSampling2D': {
        if ((c.interpolation ?? 'nearest') !== 'nearest') throw new Error('reference: nearest only');
        const f = (Array.isArray(c.size) ? c.size[0] : c.size) as number;
        const x = ins[0];
        const data = new Float64Array(x.h * f * x.w * f * x.c);
        for (let yy = 0; yy < x.h * f; yy++)
          for (let xx = 0; xx < x.w * f; xx++)
            for (let i = 0; i < x.c; i++) data[(yy * x.w * f + xx) * x.c + i] = x.data[(Math.floor(yy / f) * x.w + Math.floor(xx / f)) * x.c + i];
        y = { h: x.h * f, w: x.w * f, c: x.c, data };
        break;
      }
      default:
        throw new Error(`reference: layer ${l.className} not implemented`);
    }
    vals.set(l.name, y);
  }
  return vals.get(m.outputNames[0]) as Nhwc;
}
