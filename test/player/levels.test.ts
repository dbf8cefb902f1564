/**
 * HlsLevels with a stand-in for hls.js: levels are known by index, so LR levels of one size keep
 * their own scale and model, and the level hls.js plays decides which of them a frame belongs to.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HlsLevels, type ManifestNeed } from '../../src/player/levels.js';
import type { HlsLevelLike, HlsLike } from '../../src/player/types.js';
import { ATTR_MODEL, ATTR_UPSCALE, SESSION_DATA_ID } from '../../src/shared/hls.js';

type Listener = (event: string, data: unknown) => void;

class FakeHls implements HlsLike {
  readonly listeners = new Map<string, Set<Listener>>();
  currentLevel = -1;
  capLevelToPlayerSize = true;
  constructor(
    readonly levels: HlsLevelLike[],
    readonly url: string | null = 'http://example.test/out/master.m3u8',
  ) {}
  on(event: string, fn: Listener): void {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event)!.add(fn);
  }
  off(event: string, fn: Listener): void {
    this.listeners.get(event)?.delete(fn);
  }
  emit(event: string, data: unknown): void {
    for (const fn of this.listeners.get(event) ?? []) fn(event, data);
  }
  count(): number {
    return [...this.listeners.values()].reduce((n, s) => n + s.size, 0);
  }
}

const lr = (model: string): HlsLevelLike => ({ width: 320, height: 180, attrs: { [ATTR_UPSCALE]: '2', [ATTR_MODEL]: model } });
const source: HlsLevelLike = { width: 480, height: 270, attrs: {} };
const sessionData = { [SESSION_DATA_ID]: { URI: '../upscaler/manifest.json' } };

function setUp(levels: HlsLevelLike[], data: object = { sessionData }): { hls: FakeHls; table: HlsLevels; needs: ManifestNeed[] } {
  const hls = new FakeHls(levels);
  const needs: ManifestNeed[] = [];
  const table = new HlsLevels(hls, (n) => needs.push(n));
  hls.emit('hlsManifestParsed', data);
  return { hls, table, needs };
}

describe('HlsLevels', () => {
  it('three LR levels of one size: each frame gets the playing level, with its own model', () => {
    const { hls, table, needs } = setUp([lr('a'), lr('b'), lr('c'), source]);
    expect(needs).toEqual([{ kind: 'upscaler', url: 'http://example.test/upscaler/manifest.json' }]);
    // capping is left to hls.js (and to upscaledCapLevelController, test/player/lifecycle.test.ts)
    expect(hls.capLevelToPlayerSize).toBe(true);
    for (const [i, model] of [[1, 'b'], [2, 'c'], [0, 'a']] as const) {
      hls.emit('hlsLevelSwitched', { level: i });
      expect(table.resolve(320, 180)).toEqual({ scale: 2, model });
      expect(table.level).toBe(i);
    }
  });

  it('around a switch, frames of another size belong to the level of that size played last', () => {
    const { hls, table } = setUp([lr('a'), lr('b'), lr('c'), source]);
    hls.emit('hlsLevelSwitched', { level: 2 });
    hls.emit('hlsLevelSwitched', { level: 3 });
    // the decoder still shows level 2's frames
    expect(table.resolve(320, 180)).toEqual({ scale: 2, model: 'c' });
    expect(table.level).toBe(2);
    expect(table.resolve(480, 270)).toEqual({ scale: 0, model: undefined });
    expect(table.level).toBe(3);
    hls.emit('hlsLevelSwitched', { level: 1 });
    // and frames of the new level can come before hls.js says it plays
    expect(table.resolve(480, 270).scale).toBe(0);
    expect(table.level).toBe(3);
  });

  it('a frame of no level size is drawn as it is and leaves the level alone', () => {
    const { hls, table } = setUp([lr('a'), source]);
    hls.emit('hlsLevelSwitched', { level: 0 });
    expect(table.resolve(320, 180).scale).toBe(2);
    expect(table.resolve(640, 360)).toEqual({ scale: 0 });
    expect(table.level).toBe(0);
  });

  it('no LR level: nothing to load, capping untouched; LR levels without session data: a problem', () => {
    const none = setUp([source]);
    expect(none.needs).toEqual([{ kind: 'none' }]);
    expect(none.hls.capLevelToPlayerSize).toBe(true);
    const missing = setUp([lr('a'), source], { sessionData: null });
    expect(missing.needs).toEqual([{ kind: 'problem', reason: expect.stringContaining(SESSION_DATA_ID) }]);
  });

  it('destroy() removes both listeners', () => {
    const { hls, table } = setUp([lr('a')]);
    expect(hls.count()).toBe(2);
    table.destroy();
    expect(hls.count()).toBe(0);
  });

  it('made after hls.js parsed the playlist: takes its levels and the level playing, and reads the session data from the master', async () => {
    const hls = new FakeHls([lr('a'), lr('b'), source]);
    hls.currentLevel = 1;
    const master = `#EXTM3U\n#EXT-X-SESSION-DATA:DATA-ID="${SESSION_DATA_ID}",URI="../upscaler/manifest.json"\n`;
    const fetched: string[] = [];
    vi.stubGlobal('fetch', async (url: string) => {
      fetched.push(url);
      return new Response(master);
    });
    const needs: ManifestNeed[] = [];
    const table = new HlsLevels(hls, (n) => needs.push(n));
    await vi.waitFor(() => expect(needs).toHaveLength(1));
    expect(fetched).toEqual(['http://example.test/out/master.m3u8']);
    expect(needs[0]).toEqual({ kind: 'upscaler', url: 'http://example.test/upscaler/manifest.json' });
    expect(table.resolve(320, 180)).toEqual({ scale: 2, model: 'b' });
    expect(table.lrLevels().map((l) => l.index)).toEqual([0, 1]);
  });

  it('a new source (MANIFEST_LOADING) resets the levels and calls reset; DESTROYING calls destroying; destroy() removes all four listeners', () => {
    const hls = new FakeHls([lr('a'), source]);
    const calls: string[] = [];
    const table = new HlsLevels(hls, () => calls.push('manifest'), { reset: () => calls.push('reset'), destroying: () => calls.push('destroying') });
    expect(hls.count()).toBe(4);
    hls.emit('hlsManifestParsed', { sessionData });
    hls.emit('hlsLevelSwitched', { level: 0 });
    expect(table.resolve(320, 180).scale).toBe(2);
    hls.emit('hlsManifestLoading', { url: 'http://example.test/other/master.m3u8' });
    expect(table.resolve(320, 180).scale).toBe(0);
    expect(table.level).toBe(-1);
    hls.emit('hlsDestroying', undefined);
    expect(calls).toEqual(['manifest', 'reset', 'destroying']);
    table.destroy();
    expect(hls.count()).toBe(0);
  });
});

afterEach(() => {
  vi.unstubAllGlobals();
});
