import { ATTR_MODEL, ATTR_UPSCALE, SESSION_DATA_ID, upscaleOf, upscalerUrl } from '../shared/hls.js';
import { fetchMaster } from './master.js';
import type { HlsLike } from './types.js';

const EV_MANIFEST_LOADING = 'hlsManifestLoading';
const EV_MANIFEST_PARSED = 'hlsManifestParsed';
const EV_LEVEL_SWITCHED = 'hlsLevelSwitched';
const EV_DESTROYING = 'hlsDestroying';

/** How a frame is drawn: `scale` 0 draws it as is; `model` is the upscaler id its level names. */
export interface FrameLevel {
  scale: number;
  model?: string;
}

export interface LevelInfo extends FrameLevel {
  /** hls.js level index (or variant index in the master playlist). */
  index: number;
  width: number;
  height: number;
}

/** What a parsed master playlist asks for. */
export type ManifestNeed =
  | { kind: 'none' }
  | { kind: 'upscaler'; url: string }
  | { kind: 'problem'; reason: string };

/** Which level the frames on screen belong to, and so how they are drawn. */
export interface Levels {
  /** hls.js level index of the frame resolved last (-1 without hls.js). */
  readonly level: number;
  /** The level of a `w` x `h` frame now on screen. */
  resolve(w: number, h: number): FrameLevel;
  /** The levels whose frames are upscaled, as far as known now. */
  lrLevels(): LevelInfo[];
  destroy(): void;
}

/** What levels with these scales need, given the session data's URI and the playlist's URL. */
export function needOf(levels: LevelInfo[], uri: string | undefined, base: string | undefined): ManifestNeed {
  const lr = levels.filter((l) => l.scale).length;
  if (lr === 0) return { kind: 'none' }; // every level is drawn as it is
  if (!uri) return { kind: 'problem', reason: `the master playlist has ${lr} upscaled level(s) but no ${SESSION_DATA_ID} session data` };
  const url = upscalerUrl(uri, base);
  if (!url) return { kind: 'problem', reason: `the ${SESSION_DATA_ID} session data's URI '${uri}' is not a URL` };
  return { kind: 'upscaler', url };
}

/** A level from a variant's size and attributes. */
export function levelOf(index: number, width: number, height: number, attrs: Record<string, string | undefined>): LevelInfo {
  return { index, width, height, scale: upscaleOf(attrs[ATTR_UPSCALE]), model: attrs[ATTR_MODEL] };
}

/** A plain <video>: every frame is upscaled at the model's scale. */
export class SingleLevel implements Levels {
  readonly level = -1;

  constructor(private readonly scale: () => number) {}

  resolve(): FrameLevel {
    return { scale: this.scale() };
  }

  lrLevels(): LevelInfo[] {
    return [];
  }

  destroy(): void {}
}

/** What the upscaler does when hls.js starts over or goes away. */
export interface HlsHooks {
  /** A new source is loading (`loadSource`): what was loaded for the old one is dropped. */
  reset?(): void;
  /** hls.js is being destroyed. */
  destroying?(): void;
}

/** hls.js levels by index, from the master playlist's X-UPSCALE / X-HCD-MODEL attributes. */
export class HlsLevels implements Levels {
  level = -1;
  private levels: LevelInfo[] = [];
  /** The level hls.js says is playing, and the one before it. */
  private playing = -1;
  private previous = -1;
  /** Bumped on every new source, so that a late answer for the old one is dropped. */
  private source = 0;
  private readonly listening: [string, (e: string, data: unknown) => void][];

  constructor(
    private readonly hls: HlsLike,
    private readonly onManifest: (need: ManifestNeed) => void,
    private readonly hooks: HlsHooks = {},
  ) {
    this.listening = [
      [EV_MANIFEST_PARSED, this.onManifestParsed],
      [EV_LEVEL_SWITCHED, this.onLevelSwitched],
    ];
    if (hooks.reset) this.listening.push([EV_MANIFEST_LOADING, this.onManifestLoading]);
    if (hooks.destroying) this.listening.push([EV_DESTROYING, hooks.destroying]);
    for (const [event, fn] of this.listening) hls.on(event, fn);
    // made after hls.js has parsed the playlist: take its levels as they are now
    if (hls.levels?.length) void this.adopt();
  }

  resolve(w: number, h: number): FrameLevel {
    const l = this.find(w, h);
    if (!l) return { scale: 0 };
    this.level = l.index;
    return { scale: l.scale, model: l.model };
  }

  lrLevels(): LevelInfo[] {
    return this.levels.filter((l) => l.scale);
  }

  destroy(): void {
    this.source++;
    for (const [event, fn] of this.listening) this.hls.off(event, fn);
  }

  private find(w: number, h: number): LevelInfo | undefined {
    const fits = (l: LevelInfo | undefined): l is LevelInfo => !!l && l.width === w && l.height === h;
    const playing = this.levels[this.playing];
    if (fits(playing)) return playing;
    // around a switch the frames on screen can still be the previous level's (hls.js tracks the
    // playing fragment, the decoder lags or leads it a little); several levels can share a size,
    // so the one played last is preferred among them
    const sameSize = this.levels.filter(fits);
    return sameSize.find((l) => l.index === this.previous) ?? sameSize[0];
  }

  private takeLevels(): void {
    this.levels = (this.hls.levels ?? []).map((l, index) => levelOf(index, l.width, l.height, l.attrs));
    this.playing = this.previous = -1;
  }

  /** The playlist's URL, absolute, for resolving the session data's URI. */
  private base(): string | undefined {
    const page = globalThis.location?.href;
    return upscalerUrl(this.hls.url ?? page ?? '', page);
  }

  private readonly onManifestLoading = (): void => {
    this.source++;
    this.levels = [];
    this.playing = this.previous = this.level = -1;
    this.hooks.reset?.();
  };

  private readonly onManifestParsed = (_e: string, data: unknown): void => {
    this.source++;
    this.takeLevels();
    const d = data as { sessionData?: Record<string, Record<string, string | undefined>> | null };
    this.onManifest(needOf(this.levels, d.sessionData?.[SESSION_DATA_ID]?.URI, this.base()));
  };

  /**
   * hls.js keeps no session data after MANIFEST_PARSED, so a player made later reads the master
   * playlist again (from the browser's cache, usually) for the upscaler's URI.
   */
  private async adopt(): Promise<void> {
    const source = this.source;
    await Promise.resolve(); // a MANIFEST_PARSED right after construction wins
    if (source !== this.source) return;
    this.takeLevels();
    if (this.hls.currentLevel >= 0) this.playing = this.level = this.hls.currentLevel;
    let need = needOf(this.levels, undefined, undefined);
    if (need.kind !== 'none') {
      try {
        const base = this.base();
        need = needOf(this.levels, (await fetchMaster(base ?? '')).sessionData[SESSION_DATA_ID]?.URI, base);
      } catch (e) {
        need = { kind: 'problem', reason: (e as Error).message };
      }
    }
    if (source === this.source) this.onManifest(need);
  }

  private readonly onLevelSwitched = (_e: string, data: unknown): void => {
    const lvl = (data as { level?: number }).level;
    if (typeof lvl !== 'number') return;
    this.previous = this.playing;
    this.playing = lvl;
    this.level = lvl;
  };
}
