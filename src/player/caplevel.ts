import type Hls from 'hls.js';
import type { CapLevelController, Level } from 'hls.js';
import { ATTR_UPSCALE, upscaleOf } from '../shared/hls.js';
import { surfaceOf, watchSurface } from './surface.js';

/** hls.js's CapLevelController class, as `Hls.DefaultConfig.capLevelController` gives it. */
export type CapLevelControllerClass = typeof CapLevelController;

const shownScale = (l: Level): number => upscaleOf((l.attrs as Record<string, string | undefined>)[ATTR_UPSCALE]) || 1;

/**
 * A cap-level controller for hls.js's `capLevelController` option that judges each level by
 * the size it is shown at: an LR level of W x H with X-UPSCALE=s counts as W*s x H*s, since the
 * upscaler draws it that large. It measures the upscaler's canvas (else the <video>, as hls.js
 * does), and caps only when `capLevelToPlayerSize` is on, as hls.js's own.
 *
 * It extends hls.js's class (or a subclass of it), passed in, so that the player bundle carries
 * no hls.js code:
 *
 *   new Hls({ capLevelToPlayerSize: true, capLevelController: upscaledCapLevelController(Hls.DefaultConfig.capLevelController) })
 */
export function upscaledCapLevelController(Base: CapLevelControllerClass | undefined): CapLevelControllerClass {
  // hls.js types its default config's controller as optional; it is always there
  if (!Base) throw new Error('upscaledCapLevelController: pass hls.js\'s CapLevelController (Hls.DefaultConfig.capLevelController)');
  return class UpscaledCapLevelController extends Base {
    private readonly hcdHls: Hls;
    private readonly resize?: ResizeObserver;
    private readonly unwatch: () => void;

    constructor(hls: Hls) {
      super(hls);
      this.hcdHls = hls;
      this.resize = typeof ResizeObserver === 'function' ? new ResizeObserver(() => this.onResize()) : undefined;
      this.unwatch = watchSurface(hls, (el) => {
        this.resize?.disconnect();
        if (el) this.resize?.observe(el);
      });
    }

    override getMaxLevel(capLevelIndex: number): number {
      const levels = this.hcdHls.levels;
      if (!levels.some((l) => shownScale(l) > 1)) return super.getMaxLevel(capLevelIndex);
      // hls.js's own rule, on the sizes the levels are shown at
      const shown = levels.slice(0, capLevelIndex + 1).map((l) => ({ width: l.width * shownScale(l), height: l.height * shownScale(l), bitrate: l.bitrate }) as Level);
      return Base.getMaxLevelByMediaSize(shown, this.mediaWidth, this.mediaHeight);
    }

    override getDimensions(): { width: number; height: number } {
      const r = surfaceOf(this.hcdHls)?.getBoundingClientRect();
      return r && r.width > 0 && r.height > 0 ? { width: r.width, height: r.height } : super.getDimensions();
    }

    override destroy(): void {
      this.unwatch();
      this.resize?.disconnect();
      super.destroy();
    }

    private onResize(): void {
      if (this.hcdHls.config.capLevelToPlayerSize && this.hcdHls.media) this.detectPlayerSize();
    }
  };
}
