import { SESSION_DATA_ID } from '../shared/hls.js';
import { levelOf, needOf, type FrameLevel, type LevelInfo, type Levels, type ManifestNeed } from './levels.js';
import { fetchMaster } from './master.js';

/**
 * A <video> playing HLS by itself (Safari's native HLS): no hls.js says which variant plays, so
 * a frame's size says it. Frames the size of an X-UPSCALE variant are upscaled by its factor;
 * all others are drawn as they are. Where several variants share a size, the first LR one counts.
 */
export class MasterLevels implements Levels {
  level = -1;
  private levels: LevelInfo[] = [];
  private destroyed = false;

  constructor(url: string, onManifest: (need: ManifestNeed) => void) {
    void this.load(url).then((need) => {
      if (!this.destroyed) onManifest(need);
    });
  }

  resolve(w: number, h: number): FrameLevel {
    const sameSize = this.levels.filter((l) => l.width === w && l.height === h);
    const l = sameSize.find((x) => x.scale) ?? sameSize[0];
    if (!l) return { scale: 0 };
    this.level = l.index;
    return { scale: l.scale, model: l.model };
  }

  lrLevels(): LevelInfo[] {
    return this.levels.filter((l) => l.scale);
  }

  destroy(): void {
    this.destroyed = true;
  }

  private async load(url: string): Promise<ManifestNeed> {
    try {
      const abs = new URL(url, globalThis.location?.href).href;
      const m = await fetchMaster(abs);
      this.levels = m.variants.map((v, i) => levelOf(i, v.width, v.height, v.attrs));
      return needOf(this.levels, m.sessionData[SESSION_DATA_ID]?.URI, abs);
    } catch (e) {
      return { kind: 'problem', reason: (e as Error).message };
    }
  }
}
