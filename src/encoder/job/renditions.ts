import type { EncodeConfig } from '../../config.js';
import { HcdError } from '../../shared/errors.js';
import type { AudioRendition, Rendition } from './state.js';

/**
 * The most of a rung's bits the normal audio group may take. A rung whose video bitrate is below
 * (1 - share) / share times the normal audio bitrate (5.7x: 363k at 64k) would spend more than
 * that on audio, so it gets the low group.
 */
export const MAX_AUDIO_SHARE = 0.15;

/** lr-150k, src-800k, audio-20k; a conventional downscale names its size: down-480x270-300k. */
export function renditionName(kind: Rendition['kind'] | 'audio', bitrate: number, size?: { width: number; height: number }): string {
  const rate = bitrate % 1000 === 0 ? `${bitrate / 1000}k` : String(bitrate);
  return kind === 'down' && size ? `${kind}-${size.width}x${size.height}-${rate}` : `${kind}-${rate}`;
}

/** What a rung is before it has a name and an audio group. */
export type RungSpec = Pick<Rendition, 'kind' | 'bitrate' | 'size'>;

/** The audio group (its rendition's bitrate) of a rung with this video bitrate. */
function audioBitrateFor(video: number, [low, normal]: EncodeConfig['audioBitrates']): number {
  return normal * (1 - MAX_AUDIO_SHARE) > video * MAX_AUDIO_SHARE ? low : normal;
}

/**
 * The video renditions with their audio group, in the order given, and the audio renditions the
 * groups consist of: one per group, none for a silent input.
 */
export function ladderFrom(rungs: RungSpec[], audioBitrates: EncodeConfig['audioBitrates'], hasAudio: boolean): { renditions: Rendition[]; audio: AudioRendition[] } {
  const sorted = (xs: number[]) => [...new Set(xs)].sort((a, b) => a - b);
  const renditions = rungs.map((spec): Rendition => {
    const r: Rendition = { name: renditionName(spec.kind, spec.bitrate, spec.size), ...spec };
    if (hasAudio) r.audio = renditionName('audio', audioBitrateFor(spec.bitrate, audioBitrates));
    return r;
  });
  const used = sorted(renditions.filter((r) => r.audio).map((r) => audioBitrateFor(r.bitrate, audioBitrates)));
  return { renditions, audio: used.map((b) => ({ name: renditionName('audio', b), bitrate: b })) };
}

/**
 * The fixed ladder: the LR rungs, then the source-size ones, each by bitrate, then the
 * conventional rungs at sizes of their own (by size and bitrate); one at the source size is a
 * source-size rung. `hr` is the encoder's (cropped) source size.
 */
export function fixedRungs(cfg: EncodeConfig, hr: { width: number; height: number }): RungSpec[] {
  const sorted = (xs: number[]) => [...new Set(xs)].sort((a, b) => a - b);
  const own = [...cfg.conventionalRenditions].sort((a, b) => a.height - b.height || a.bitrate - b.bitrate).map(({ width, height, bitrate }): RungSpec => {
    if (width > hr.width || height > hr.height) throw new HcdError(`conventional rendition ${width}x${height} is larger than the source (${hr.width}x${hr.height})`);
    return width === hr.width && height === hr.height ? { kind: 'src', bitrate } : { kind: 'down', bitrate, size: { width, height } };
  });
  return [...sorted(cfg.renditions).map((bitrate) => ({ kind: 'lr' as const, bitrate })), ...sorted(cfg.sourceRenditions).map((bitrate) => ({ kind: 'src' as const, bitrate })), ...own];
}
