/**
 * Downscale factors as exact fractions. A rung at 3/4 of the source size has the factor 4/3,
 * which no float holds exactly, so sizes are computed from the fraction: the source is cropped
 * so that every rung's size is whole and even (4:2:0 needs even sizes).
 */
import type { Size } from './types.js';

/** source/LR as [num, den] in lowest terms: 2 → [2, 1], 4/3 → [4, 3]. */
export function scaleFraction(scale: number): [number, number] {
  for (let den = 1; den <= 16; den++) {
    const num = Math.round(scale * den);
    if (num > 0 && Math.abs(num / den - scale) < 1e-9) return [num, den];
  }
  throw new Error(`downscale factor ${scale} is not a fraction with a small denominator`);
}

/** The encoded size of a rung: source × den / num, whole and even once cropped by cropMultiple. */
export function lrSize(src: Size, scale: number): Size {
  const [num, den] = scaleFraction(scale);
  const side = (n: number): number => {
    const v = (n * den) / num;
    if (!Number.isInteger(v) || v % 2 !== 0) throw new Error(`${n} px at 1/${scale.toFixed(3)} is ${v}, not a whole even size`);
    return v;
  };
  return { width: side(src.width), height: side(src.height) };
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * What the source's width and height must divide by: 2 × lcm of the numerators. A multiple of 2
 * num gives num | size and an even size × den / num (1/2: 4; 3/4 and 1/4: 8).
 */
export function cropMultiple(scales: number[]): number {
  const nums = scales.map((s) => scaleFraction(s)[0]);
  return 2 * nums.reduce((a, b) => (a * b) / gcd(a, b), 1);
}
