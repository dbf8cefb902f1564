/**
 * hls.js built from the sources its npm package ships, with only the features hcd-stream's
 * outputs use. hls.js gates its optional controllers behind build-time constants (its own
 * rollup build makes `hls.light.js` the same way); the light build drops alternate audio, which
 * every hcd-stream master uses (EXT-X-MEDIA TYPE=AUDIO groups), so neither prebuilt file is the
 * right one: the full build is 190 KB gzip, this one about two thirds of it.
 *
 * A page that needs what is left out (subtitle playlists, DRM, CMCD, content steering,
 * interstitials) loads any hls.js build it likes; the plugin takes the page's Hls.
 */
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { cachedBuild } from './build-cache.js';

/** hls.js's build-time feature switches (its src/define-plugin.d.ts), as this build sets them. */
export const LEAN_HLS_FEATURES = {
  __USE_ALT_AUDIO__: true,
  __USE_MEDIA_CAPABILITIES__: true,
  __USE_SUBTITLES__: false,
  __USE_EME_DRM__: false,
  __USE_CMCD__: false,
  __USE_CONTENT_STEERING__: false,
  __USE_VARIABLE_SUBSTITUTION__: false,
  __USE_M2TS_ADVANCED_CODECS__: false,
  __USE_INTERSTITIALS__: false,
  __USE_IFRAMES__: false,
} as const;

/** The hashed file's name: `hls.hcd.<hash>.js`. */
export const LEAN_HLS_FILE = /^hls\.hcd\.[0-9a-f]{10}\.js$/;

function hlsPackage(): { dir: string; version: string } {
  const pkg = createRequire(import.meta.url).resolve('hls.js/package.json');
  return { dir: dirname(pkg), version: (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version };
}

async function compile(hls: { dir: string; version: string }): Promise<Uint8Array> {
  const define: Record<string, string> = { __VERSION__: JSON.stringify(hls.version), __IN_WORKER__: 'false' };
  for (const [k, v] of Object.entries(LEAN_HLS_FEATURES)) define[k] = String(v);
  const res = await build({
    entryPoints: [join(hls.dir, 'src/exports-default.ts')],
    bundle: true,
    minify: true,
    // a classic script defining window.Hls, as hls.min.js does, so a page can swap one for the other
    format: 'iife',
    globalName: 'Hls',
    footer: { js: 'Hls=Hls.default;' },
    platform: 'browser',
    target: ['chrome110', 'firefox115', 'safari17'],
    define,
    write: false,
    logLevel: 'silent',
  });
  return res.outputFiles[0].contents;
}

/**
 * Writes the lean hls.js into `outDir` as `hls.hcd.<hash>.js` and returns its name. The build
 * (seconds) is cached by hls.js's version and the feature set.
 */
export async function buildLeanHls(outDir: string): Promise<string> {
  const hls = hlsPackage();
  const key = createHash('sha256').update(JSON.stringify([hls.version, LEAN_HLS_FEATURES])).digest('hex').slice(0, 16);
  const bytes = await cachedBuild(`hcd-hls-${key}.js`, () => compile(hls));
  const name = `hls.hcd.${createHash('sha256').update(bytes).digest('hex').slice(0, 10)}.js`;
  const tmp = join(outDir, `.${name}.${process.pid}`);
  writeFileSync(tmp, bytes);
  renameSync(tmp, join(outDir, name));
  return name;
}
