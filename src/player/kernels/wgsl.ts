/**
 * WGSL of the player's own WebGPU upscaler, generated per layer with its sizes as constants (so
 * the loops unroll). Activations are [channels / 4][h][w] arrays of vec4; weights are one mat4x4
 * per (tap, input group, output group), columns = input channels, rows = output channels.
 */
import type { PackedLayer } from './layout.js';

export const WORKGROUP = 8;

/** An exact f32 literal. */
function f32(v: number): string {
  const u = new Uint32Array(new Float32Array([v]).buffer)[0];
  return `bitcast<f32>(${u}u)`;
}

/**
 * One "same" convolution: each invocation computes every output channel of one pixel. `add`:
 * the output buffer's values (the skip branch) are added before it is overwritten.
 */
export function convShader(l: PackedLayer, add: boolean): string {
  const cig = l.cin4 / 4;
  const cog = l.cout4 / 4;
  const r = (l.k - 1) / 2;
  // zero padding skips taps outside the frame; reflection mirrors them (ONNX Pad 'reflect')
  const edge = (v: string, n: string) =>
    l.reflect ? `${v} = select(${v}, -${v}, ${v} < 0); ${v} = select(${v}, 2 * ${n} - 2 - ${v}, ${v} >= ${n});` : `if (${v} < 0 || ${v} >= ${n}) { continue; }`;
  return /* wgsl */ `
struct Dims { w: i32, h: i32 };
@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> wt: array<mat4x4<f32>>;
@group(0) @binding(3) var<storage, read> bs: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> dst: array<vec4<f32>>;

@compute @workgroup_size(${WORKGROUP}, ${WORKGROUP}, 1)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let x = i32(g.x);
  let y = i32(g.y);
  let W = dims.w;
  let H = dims.h;
  if (x >= W || y >= H) { return; }
  let plane = W * H;
  var acc: array<vec4<f32>, ${cog}>;
  for (var o = 0; o < ${cog}; o++) { acc[o] = bs[o]; }
  for (var ky = 0; ky < ${l.k}; ky++) {
    var sy = y + ky - ${r};
    ${edge('sy', 'H')}
    for (var kx = 0; kx < ${l.k}; kx++) {
      var sx = x + kx - ${r};
      ${edge('sx', 'W')}
      let tap = (ky * ${l.k} + kx) * ${cig};
      for (var i = 0; i < ${cig}; i++) {
        let v = src[i * plane + sy * W + sx];
        let base = (tap + i) * ${cog};
        for (var o = 0; o < ${cog}; o++) { acc[o] += wt[base + o] * v; }
      }
    }
  }
  for (var o = 0; o < ${cog}; o++) {
    let at = o * plane + y * W + x;
    var v = acc[o];
    ${add ? 'v += dst[at];' : ''}
    ${l.slope ? `v = select(v, v * bs[${cog} + o], v < vec4<f32>(0.0));` : ''}
    dst[at] = v;
  }
}`;
}

/**
 * DepthToSpace and Clip: [3 s^2 channels][h][w] -> planar RGB [3][h s][w s] floats, what the
 * presenter (src/player/gpu.ts) draws.
 */
export function depthToSpaceShader(scale: number, crd: boolean, clip?: { lo: number; hi: number }): string {
  const s = scale;
  const ch = crd ? `c * ${s * s} + i * ${s} + j` : `(i * ${s} + j) * 3 + c`;
  return /* wgsl */ `
struct Dims { w: i32, h: i32 };
@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(${WORKGROUP}, ${WORKGROUP}, 1)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let X = i32(g.x);
  let Y = i32(g.y);
  let W = dims.w * ${s};
  let H = dims.h * ${s};
  if (X >= W || Y >= H) { return; }
  let x = X / ${s};
  let y = Y / ${s};
  let i = Y % ${s};
  let j = X % ${s};
  let plane = dims.w * dims.h;
  for (var c = 0; c < 3; c++) {
    let ch = ${ch};
    var v = src[(ch / 4) * plane + y * dims.w + x][ch % 4];
    ${clip ? `v = min(max(v, ${f32(clip.lo)}), ${f32(clip.hi)});` : ''}
    dst[c * W * H + Y * W + X] = v;
  }
}`;
}

/** Packed [tap][cin][cout] weights -> one column-major mat4x4 per (tap, input group, output group). */
export function matrices(l: PackedLayer): Float32Array {
  const { k, cin4, cout4 } = l;
  const cig = cin4 / 4;
  const cog = cout4 / 4;
  const out = new Float32Array(k * k * cin4 * cout4);
  for (let t = 0; t < k * k; t++)
    for (let i = 0; i < cig; i++)
      for (let o = 0; o < cog; o++)
        for (let col = 0; col < 4; col++)
          for (let row = 0; row < 4; row++)
            out[((t * cig + i) * cog + o) * 16 + col * 4 + row] = l.weights[(t * cin4 + i * 4 + col) * cout4 + o * 4 + row];
  return out;
}
