import { ATTR_MODEL, ATTR_UPSCALE, SESSION_DATA_ID, upscaleOf, upscalerUrl } from '../shared/hls.js';
import type { HlsLike } from './types.js';

const EV_MANIFEST_PARSED = 'hlsManifestParsed';
const EV_LEVEL_SWITCHED = 'hlsLevelSwitched';

/** How a frame is drawn: `scale` 0 draws it as is; `model` is the upscaler id its level names. */
export interface FrameLevel {
  scale: number;
  model?: string;
}

export interface LevelInfo extends FrameLevel {
  /** hls.js level index. */
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
  destroy(): void;
}

/** A plain <video>: every frame is upscaled at the model's scale. */
export class SingleLevel implements Levels {
  readonly level = -1;

  constructor(private readonly scale: () => number) {}

  resolve(): FrameLevel {
    return { scale: this.scale() };
  }

  destroy(): void {}
}

/** hls.js levels by index, from the master playlist's X-UPSCALE / X-HCD-MODEL attributes. */
export class HlsLevels implements Levels {
  level = -1;
  private levels: LevelInfo[] = [];
  /** The level hls.js says is playing, and the one before it. */
  private playing = -1;
  private previous = -1;

  constructor(
    private readonly hls: HlsLike,
    private readonly onManifest: (need: ManifestNeed) => void,
  ) {
    hls.on(EV_MANIFEST_PARSED, this.onManifestParsed);
    hls.on(EV_LEVEL_SWITCHED, this.onLevelSwitched);
  }

  resolve(w: number, h: number): FrameLevel {
    const l = this.find(w, h);
    if (!l) return { scale: 0 };
    this.level = l.index;
    return { scale: l.scale, model: l.model };
  }

  destroy(): void {
    this.hls.off(EV_MANIFEST_PARSED, this.onManifestParsed);
    this.hls.off(EV_LEVEL_SWITCHED, this.onLevelSwitched);
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

  private readonly onManifestParsed = (_e: string, data: unknown): void => {
    this.levels = this.hls.levels.map((l, index) => ({
      index,
      width: l.width,
      height: l.height,
      scale: upscaleOf(l.attrs[ATTR_UPSCALE]),
      model: l.attrs[ATTR_MODEL],
    }));
    this.playing = this.previous = -1;
    this.onManifest(this.need(data));
  };

  private need(data: unknown): ManifestNeed {
    const lr = this.levels.filter((l) => l.scale).length;
    if (lr === 0) return { kind: 'none' }; // every level is drawn as it is
    // hls.js caps ABR to levels no larger than the player's size in CSS pixels. An LR rendition is
    // half (or less) the size it will be shown at, so with capping hls.js would judge it by its
    // coded size and always prefer the bigger source levels; the canvas, not the <video>, is what
    // the viewer sees. So capping is off whenever LR levels exist.
    this.hls.capLevelToPlayerSize = false;
    const d = data as { sessionData?: Record<string, Record<string, string | undefined>> | null };
    const uri = d.sessionData?.[SESSION_DATA_ID]?.URI;
    if (!uri) return { kind: 'problem', reason: `the master playlist has ${lr} upscaled level(s) but no ${SESSION_DATA_ID} session data` };
    const page = globalThis.location?.href;
    const url = upscalerUrl(uri, upscalerUrl(this.hls.url ?? page ?? '', page));
    if (!url) return { kind: 'problem', reason: `the ${SESSION_DATA_ID} session data's URI '${uri}' is not a URL` };
    return { kind: 'upscaler', url };
  }

  private readonly onLevelSwitched = (_e: string, data: unknown): void => {
    const lvl = (data as { level?: number }).level;
    if (typeof lvl !== 'number') return;
    this.previous = this.playing;
    this.playing = lvl;
    this.level = lvl;
  };
}
