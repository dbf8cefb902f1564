// The WASM kernel of the player's own upscaler runtime (AssemblyScript, WASM SIMD), compiled by
// src/player/kernels/compile.ts. It owns no memory management: src/player/kernels/wasm.ts lays out
// the weights and activations in linear memory and passes addresses.
//
// Activations are HWC with the channel count a multiple of 4, inside a border of zeros (or of
// reflected pixels) wide enough for every kernel, so the inner loops never test bounds. Addresses
// point at the interior's first pixel; `stride` is the buffer's row length in pixels.

// 4 pixels x 8 output channels per step: 8 accumulators, 2 weight vectors and a splat fit the 16
// SIMD registers of x86-64, and each input value is loaded once per 8 multiply-adds.
function px4co8(src: usize, dst: usize, wt: usize, bias: usize, slope: usize, add: i32, inRow: usize, inPx: usize, cin: i32, k: i32, tapW: usize, coW: usize): void {
  let b0 = v128.load(bias);
  let b1 = v128.load(bias, 16);
  let a0 = b0, a1 = b1, c0 = b0, c1 = b1, d0 = b0, d1 = b1, e0 = b0, e1 = b1;
  for (let ky = 0; ky < k; ky++) {
    for (let kx = 0; kx < k; kx++) {
      let p = src + <usize>ky * inRow + <usize>kx * inPx;
      let q = wt + <usize>(ky * k + kx) * tapW;
      for (let ci = 0; ci < cin; ci++) {
        const w0 = v128.load(q);
        const w1 = v128.load(q, 16);
        let v = v128.load32_splat(p);
        a0 = madd(v, w0, a0);
        a1 = madd(v, w1, a1);
        v = v128.load32_splat(p + inPx);
        c0 = madd(v, w0, c0);
        c1 = madd(v, w1, c1);
        v = v128.load32_splat(p + 2 * inPx);
        d0 = madd(v, w0, d0);
        d1 = madd(v, w1, d1);
        v = v128.load32_splat(p + 3 * inPx);
        e0 = madd(v, w0, e0);
        e1 = madd(v, w1, e1);
        p += 4;
        q += coW;
      }
    }
  }
  // (a zero `slope` means no activation: keep it zero for the upper 4 channels too)
  const s1 = slope ? slope + 16 : 0;
  finish(dst, a0, slope, add);
  finish(dst + 16, a1, s1, add);
  finish(dst + coW, c0, slope, add);
  finish(dst + coW + 16, c1, s1, add);
  finish(dst + 2 * coW, d0, slope, add);
  finish(dst + 2 * coW + 16, d1, s1, add);
  finish(dst + 3 * coW, e0, slope, add);
  finish(dst + 3 * coW + 16, e1, s1, add);
}

// 4 pixels x 4 output channels: the last 4 channels of a layer whose channel count is not a
// multiple of 8 (the hcd upscalers' 12-channel skip and output convs). Four accumulators keep
// four independent multiply-add chains in flight, where one pixel at a time would wait out each
// multiply-add's latency.
function px4co4(src: usize, dst: usize, wt: usize, bias: usize, slope: usize, add: i32, inRow: usize, inPx: usize, cin: i32, k: i32, tapW: usize, coW: usize): void {
  let a = v128.load(bias);
  let c = a, d = a, e = a;
  for (let ky = 0; ky < k; ky++) {
    for (let kx = 0; kx < k; kx++) {
      let p = src + <usize>ky * inRow + <usize>kx * inPx;
      let q = wt + <usize>(ky * k + kx) * tapW;
      for (let ci = 0; ci < cin; ci++) {
        const w = v128.load(q);
        a = madd(v128.load32_splat(p), w, a);
        c = madd(v128.load32_splat(p + inPx), w, c);
        d = madd(v128.load32_splat(p + 2 * inPx), w, d);
        e = madd(v128.load32_splat(p + 3 * inPx), w, e);
        p += 4;
        q += coW;
      }
    }
  }
  finish(dst, a, slope, add);
  finish(dst + coW, c, slope, add);
  finish(dst + 2 * coW, d, slope, add);
  finish(dst + 3 * coW, e, slope, add);
}

// One pixel x 4 output channels: the frame's last columns.
function px1co4(src: usize, dst: usize, wt: usize, bias: usize, slope: usize, add: i32, inRow: usize, inPx: usize, cin: i32, k: i32, tapW: usize, coW: usize): void {
  let a = v128.load(bias);
  for (let ky = 0; ky < k; ky++) {
    for (let kx = 0; kx < k; kx++) {
      let p = src + <usize>ky * inRow + <usize>kx * inPx;
      let q = wt + <usize>(ky * k + kx) * tapW;
      for (let ci = 0; ci < cin; ci++) {
        a = madd(v128.load32_splat(p), v128.load(q), a);
        p += 4;
        q += coW;
      }
    }
  }
  finish(dst, a, slope, add);
}

// a * b + c. The relaxed-SIMD build fuses it: one instruction where the CPU has FMA, whose units
// do a multiply and an add per lane in the time of either, so the convolutions' inner loops,
// which are nothing but these, run up to twice as fast. The plain build (browsers without relaxed
// SIMD) keeps the two roundings.
// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

// Adds what `dst` holds (the skip branch) when `add`, applies PRelu when `slope`, stores.
// @ts-ignore: decorator
@inline function finish(dst: usize, v: v128, slope: usize, add: i32): void {
  if (add) v = f32x4.add(v, v128.load(dst));
  if (slope) v = v128.bitselect(f32x4.mul(v, v128.load(slope)), v, f32x4.lt(v, f32x4.splat(0)));
  v128.store(dst, v);
}

/**
 * out = conv(in) + bias [+ out] [PRelu]: a "same" k x k convolution over width x height pixels.
 * Weights: [k][k][cin][cout] floats; cin and cout are the buffers' (multiple of 4) channel counts.
 * Rows y0 <= y < y1 (threads each take a band).
 */
export function conv(inp: usize, out: usize, stride: i32, width: i32, cin: i32, cout: i32, k: i32, wt: usize, bias: usize, slope: usize, add: i32, y0: i32, y1: i32): void {
  const r = k >> 1;
  const inPx = <usize>cin << 2;
  const inRow = <usize>(stride * cin) << 2;
  const coW = <usize>cout << 2;
  const outRow = <usize>stride * coW;
  const tapW = <usize>cin * coW;
  for (let y = y0; y < y1; y++) {
    // the top-left tap of the row's first pixel
    const src = inp + <usize>((y - r) * stride * cin - r * cin) * 4;
    const dst = out + <usize>y * outRow;
    let x = 0;
    for (; x + 4 <= width; x += 4) {
      const s = src + <usize>x * inPx;
      const d = dst + <usize>x * coW;
      let co = 0;
      for (; co + 8 <= cout; co += 8) {
        const o = <usize>co << 2;
        px4co8(s, d + o, wt + o, bias + o, slope ? slope + o : 0, add, inRow, inPx, cin, k, tapW, coW);
      }
      for (; co < cout; co += 4) {
        const o = <usize>co << 2;
        px4co4(s, d + o, wt + o, bias + o, slope ? slope + o : 0, add, inRow, inPx, cin, k, tapW, coW);
      }
    }
    for (; x < width; x++) {
      for (let co = 0; co < cout; co += 4) {
        const o = <usize>co << 2;
        px1co4(src + <usize>x * inPx, dst + <usize>x * coW + o, wt + o, bias + o, slope ? slope + o : 0, add, inRow, inPx, cin, k, tapW, coW);
      }
    }
  }
}

/** Planar RGB (3 x height x width) -> the interior of an HWC buffer of `c` channels; rows y0..y1. */
export function fromPlanar(src: usize, dst: usize, stride: i32, width: i32, height: i32, c: i32, y0: i32, y1: i32): void {
  const n = <usize>(width * height) << 2;
  for (let y = y0; y < y1; y++) {
    let s = src + <usize>(y * width) * 4;
    let d = dst + <usize>(y * stride * c) * 4;
    for (let x = 0; x < width; x++) {
      store<f32>(d, load<f32>(s));
      store<f32>(d, load<f32>(s + n), 4);
      store<f32>(d, load<f32>(s + 2 * n), 8);
      s += 4;
      d += <usize>c << 2;
    }
  }
}

// ONNX Pad's reflect: -1 -> 1, n -> n - 2
// @ts-ignore: decorator
@inline function reflect(i: i32, n: i32): i32 {
  return i < 0 ? -i : i >= n ? 2 * n - 2 - i : i;
}

/** Fills `b` border pixels around the interior of an HWC buffer with their reflection. */
export function reflectBorder(buf: usize, stride: i32, width: i32, height: i32, c: i32, b: i32): void {
  const px = <usize>c << 2;
  for (let y = -b; y < height + b; y++) {
    const ry = reflect(y, height);
    for (let x = -b; x < width + b; x++) {
      if (y >= 0 && y < height && x >= 0 && x < width) continue;
      const from = buf + <usize>((ry * stride + reflect(x, width)) * c) * 4;
      const to = buf + <usize>((y * stride + x) * c) * 4;
      for (let i: usize = 0; i < px; i += 16) v128.store(to + i, v128.load(from + i));
    }
  }
}

/**
 * HWC (3 * s * s channels, padded to `c`) -> planar RGB at s times the size, clipped to [lo, hi].
 * `crd`: DepthToSpace CRD order (channel = colour * s * s + row * s + column), else DCR
 * (channel = (row * s + column) * 3 + colour). LR rows y0..y1.
 */
export function depthToSpace(src: usize, stride: i32, width: i32, height: i32, c: i32, s: i32, crd: i32, lo: f32, hi: f32, dst: usize, y0: i32, y1: i32): void {
  const W = width * s;
  const plane = <usize>(W * height * s) << 2;
  for (let y = y0; y < y1; y++) {
    for (let x = 0; x < width; x++) {
      const p = src + <usize>((y * stride + x) * c) * 4;
      for (let i = 0; i < s; i++) {
        const row = dst + <usize>((y * s + i) * W + x * s) * 4;
        for (let j = 0; j < s; j++) {
          for (let col = 0; col < 3; col++) {
            const ch = crd ? col * s * s + i * s + j : (i * s + j) * 3 + col;
            const v = min(max(load<f32>(p + (<usize>ch << 2)), lo), hi);
            store<f32>(row + <usize>col * plane + (<usize>j << 2), v);
          }
        }
      }
    }
  }
}
