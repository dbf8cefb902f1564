import type { EncodeConfig } from '../../config.js';
import type { AudioRendition, Rendition } from './state.js';

/**
 * The most of a rung's bits the normal audio group may take. A rung whose video bitrate is below
 * (1 - share) / share times the normal audio bitrate (5.7x: 363k at 64k) would spend more than
 * that on audio, so it gets the low group.
 */
export const MAX_AUDIO_SHARE = 0.15;

export function renditionName(kind: 'lr' | 'src' | 'audio', bitrate: number): string {
  return `${kind}-${bitrate % 1000 === 0 ? `${bitrate / 1000}k` : bitrate}`;
}

/** The audio group (its rendition's bitrate) of a rung with this video bitrate. */
function audioBitrateFor(video: number, [low, normal]: EncodeConfig['audioBitrates']): number {
  return normal * (1 - MAX_AUDIO_SHARE) > video * MAX_AUDIO_SHARE ? low : normal;
}

/**
 * The video renditions (LR first, then source size, each by bitrate) with their audio group, and
 * the audio renditions the groups consist of: one per group, none for a silent input.
 */
export function ladderOf(cfg: EncodeConfig, hasAudio: boolean): { renditions: Rendition[]; audio: AudioRendition[] } {
  const sorted = (xs: number[]) => [...new Set(xs)].sort((a, b) => a - b);
  const rung = (kind: 'lr' | 'src', bitrate: number): Rendition => {
    const r: Rendition = { name: renditionName(kind, bitrate), kind, bitrate };
    if (hasAudio) r.audio = renditionName('audio', audioBitrateFor(bitrate, cfg.audioBitrates));
    return r;
  };
  const renditions = [...sorted(cfg.renditions).map((b) => rung('lr', b)), ...sorted(cfg.sourceRenditions).map((b) => rung('src', b))];
  const used = sorted(renditions.filter((r) => r.audio).map((r) => audioBitrateFor(r.bitrate, cfg.audioBitrates)));
  return { renditions, audio: used.map((b) => ({ name: renditionName('audio', b), bitrate: b })) };
}
