import { HcdError } from '../../shared/errors.js';
import { readFrames, type DecodeOptions } from '../media/decode.js';
import { SceneCutDetector } from '../media/scenecut.js';
import { PROBE } from './options.js';

/** Where the probe reads: `frames` frames from `start` (frames into the title), with room after it to move to a cut. */
export interface WindowPlan {
  start: number;
  frames: number;
  /** Frames after `frames` the window may move by to start at a scene cut. */
  room: number;
}

/** A window as read: its first frame (after any move to a cut) and its frames. */
export interface ProbeWindow {
  start: number;
  frames: Uint8Array[];
}

/**
 * Windows of `PROBE.windowSeconds` spread evenly over `total` frames, together `PROBE.share` of
 * the title and at least `PROBE.minSeconds` where the title is that long. Each sits in the middle
 * of its own equal part of the title, so together they see its beginning, middle and end. A
 * title shorter than two windows is probed whole, as two halves: the error estimate needs two.
 */
export function planWindows(total: number, fps: number): WindowPlan[] {
  const w = Math.min(Math.round(PROBE.windowSeconds * fps), Math.floor(total / 2));
  if (!(w >= PROBE.shortestWindow * fps)) {
    throw new HcdError(`the title is ${(total / fps).toFixed(2)} s, shorter than one probe window (${2 * PROBE.shortestWindow} s: two of ${PROBE.shortestWindow} s at least): give a fixed ladder with --renditions`);
  }
  const wanted = Math.max(PROBE.share * total, PROBE.minSeconds * fps);
  const count = Math.min(Math.ceil(wanted / w), Math.floor(total / w));
  const part = total / count;
  return Array.from({ length: count }, (_, i) => {
    const start = Math.floor(i * part + (part - w) / 2);
    const end = Math.floor((i + 1) * part);
    return { start, frames: w, room: Math.max(0, Math.min(w, end - start - w)) };
  });
}

/**
 * Reads one window. Scene cuts are respected: where a cut falls in the window's first frames
 * and the window can move, it starts at the cut, so it holds one shot from its first frame as a
 * segment after a cut does, rather than a few frames of the shot before. Fewer frames than
 * planned only where the input ends early.
 */
export async function readWindow(input: string, plan: WindowPlan, fps: number, decode: Omit<DecodeOptions, 'start' | 'frames'>): Promise<ProbeWindow> {
  const frames: Uint8Array[] = [];
  const scenes = new SceneCutDetector();
  let cut = 0;
  for await (const f of readFrames(input, { ...decode, start: plan.start / fps, frames: plan.frames + plan.room })) {
    const n = frames.length;
    frames.push(f);
    if (scenes.next({ width: decode.width, height: decode.height, data: f }) && n > 0 && cut === 0 && n <= plan.room) cut = n;
  }
  return { start: plan.start + cut, frames: frames.slice(cut, cut + plan.frames) };
}
