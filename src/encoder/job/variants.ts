import { AAC_LC } from '../media/codecs.js';
import type { IFrameVariantEntry, MasterContent, VariantEntry } from './master.js';
import { IFRAME_PLAYLIST, MEDIA_PLAYLIST } from './names.js';
import type { ClaimedJob } from './open.js';
import { bandwidths } from './playlist.js';
import { iframeEntries, variantSegments, type Recorded } from './segments.js';
import type { Rendition } from './state.js';
import { UPSCALER_MANIFEST } from './upscaler.js';

/**
 * Where a player without a choice of its own starts (the first variant of a master, as Apple's
 * players and hls.js do): the lowest conventional rung (source size or a bicubic downscale) of
 * at least this video bitrate, else the highest conventional one. Never an LR rung: without the
 * upscaler it is a quarter of the picture.
 * 700 kb/s is about where Apple's authoring spec puts 640x360 (730 kb/s), a bitrate most
 * connections hold, so the first picture is neither soft nor slow to come.
 */
export const START_BITRATE = 700_000;

type LadderView = Recorded & Pick<ClaimedJob, 'renditions' | 'audio' | 'pair'>;

/** A video rendition as both masters list it: its variant and its I-frame variant. */
export interface Rung {
  rendition: Rendition;
  variant: VariantEntry;
  iframe: IFrameVariantEntry;
}

/** A rendition's master entries, measured from its recorded chunks; undefined before its first chunk. */
export function rungOf(j: LadderView, r: Rendition): Rung | undefined {
  const info = j.state.info[r.name];
  const segments = variantSegments(j, r);
  if (!info || segments.length === 0) return undefined;
  const bw = bandwidths(segments);
  const ibw = bandwidths(iframeEntries(j, r.name));
  const common = { width: info.width, height: info.height, upscale: r.kind === 'lr' ? { scale: j.pair.manifest.scale, model: j.pair.manifest.id } : undefined };
  return {
    rendition: r,
    variant: {
      uri: `${r.name}/${MEDIA_PLAYLIST}`,
      bandwidth: bw.peak,
      averageBandwidth: bw.average,
      codecs: r.audio ? `${info.codecs},${AAC_LC}` : info.codecs,
      frameRate: info.frameRate,
      audio: r.audio,
      ...common,
    },
    iframe: { uri: `${r.name}/${IFRAME_PLAYLIST}`, bandwidth: ibw.peak, averageBandwidth: ibw.average, codecs: info.codecs, ...common },
  };
}

/** The starting rung (START_BITRATE) first, the rest by bandwidth. */
function playOrder(rungs: Rung[]): Rung[] {
  const byBandwidth = [...rungs].sort((a, b) => a.variant.bandwidth - b.variant.bandwidth);
  const source = byBandwidth.filter((x) => x.rendition.kind !== 'lr');
  const start = source.find((x) => x.rendition.bitrate >= START_BITRATE) ?? source.at(-1);
  return start ? [start, ...byBandwidth.filter((x) => x !== start)] : byBandwidth;
}

function content(j: LadderView, rungs: Rung[], upscaler?: string): MasterContent {
  const groups = new Set(rungs.map((x) => x.rendition.audio));
  return {
    variants: playOrder(rungs).map((x) => x.variant),
    audio: j.audio.filter((a) => groups.has(a.name)).map((a) => ({ group: a.name, uri: `${a.name}/${MEDIA_PLAYLIST}` })),
    iframes: [...rungs].sort((a, b) => a.iframe.bandwidth - b.iframe.bandwidth).map((x) => x.iframe),
    upscaler,
  };
}

/**
 * The two masters: the main one with every rung and the upscaler's session data, and the plain
 * one with the conventional rungs only, for players without the upscaler (absent without them).
 */
export function mastersOf(j: LadderView): { main?: MasterContent; plain?: MasterContent } {
  const rungs = j.renditions.map((r) => rungOf(j, r)).filter((x): x is Rung => x !== undefined);
  if (rungs.length === 0) return {};
  const source = rungs.filter((x) => x.rendition.kind !== 'lr');
  return { main: content(j, rungs, UPSCALER_MANIFEST), plain: source.length ? content(j, source) : undefined };
}
