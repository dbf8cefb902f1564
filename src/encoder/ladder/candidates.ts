/**
 * The rungs a per-title ladder chooses from: the source size, conventional bicubic downscales to
 * 3/4, 1/2 and 1/4 (as a per-title encoder without a learned pair would use), and the pair's LR
 * frame, which the player upscales with the pair's upscaler.
 */

export interface Size {
  width: number;
  height: number;
}

export interface Candidate {
  /** source, 3/4, 1/2, 1/4, neural-x2. */
  id: string;
  /** As the encoder's renditions: 'src' the source size, 'down' a bicubic downscale, 'lr' the pair's LR frame. */
  kind: 'src' | 'down' | 'lr';
  width: number;
  height: number;
}

/** Below this many pixels a side, a downscale is no picture anyone would choose. */
const MIN_SIDE = 32;

const even = (v: number): number => Math.max(2, 2 * Math.round(v / 2));

const FRACTIONS: [string, number][] = [
  ['3/4', 3 / 4],
  ['1/2', 1 / 2],
  ['1/4', 1 / 4],
];

/** The candidates for a source of `hr` (the encoder's cropped frame) and a pair at `scale`. */
export function candidatesFor(hr: Size, scale: number, neural: boolean): Candidate[] {
  const out: Candidate[] = [{ id: 'source', kind: 'src', ...hr }];
  for (const [id, f] of FRACTIONS) {
    const size = { width: even(hr.width * f), height: even(hr.height * f) };
    if (Math.min(size.width, size.height) >= MIN_SIDE) out.push({ id, kind: 'down', ...size });
  }
  if (neural) out.push({ id: `neural-x${scale}`, kind: 'lr', width: hr.width / scale, height: hr.height / scale });
  return out;
}
