/**
 * The options of the jobs the command line starts, the way hls.js keeps its config: one typed
 * object per job, one defaults table, and one resolve() per job that fills in the defaults and
 * checks the fields against each other. The CLI turns flags into these fields and nothing else;
 * the library never sees a flag. HCD's own defaults (step sizes, presets, iterations) live in
 * src/encoder/hcd/options.ts and are read from there.
 */
import { HcdError } from './shared/errors.js';
import type { ExecutionProvider } from './encoder/graph/session.js';
import { CODEC_LOOP_DEFAULTS, STILL_HCD_ITERS, VIDEO_HCD_ITERS, type CodecLoopOptions, type HcdIters } from './encoder/hcd/options.js';
import { defaultModelId } from './encoder/pairs/load.js';
import { checkLadderOptions, LADDER_DEFAULTS, type LadderOptions } from './encoder/ladder/options.js';

export const X264_PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow', 'placebo'] as const;
/** Video bitrates, bits/s: below 1 kb/s x264 has nothing to work with; above 1 Gb/s is no rendition. */
export const MIN_BITRATE = 1000;
export const MAX_BITRATE = 1_000_000_000;
export const EXECUTION_PROVIDERS: readonly ExecutionProvider[] = ['cpu', 'cuda', 'webgpu'];

/** `--conventional-renditions 416x234@145k`: a fixed ladder's rung at a size of its own. */
export interface ConventionalRendition {
  width: number;
  height: number;
  bitrate: number;
}

/** `--audio-bitrates LOW,NORMAL`: AAC-LC stereo bitrates of the low rungs' audio group and the others'. */
export type AudioBitrates = [low: number, normal: number];

/** `hcd encode`: frames → rescaler → x264 → HLS ladder. */
export interface EncodeConfig {
  input: string;
  outdir: string;
  /** Rescaling pair id or path (src/encoder/pairs). */
  model: string;
  /** Seconds of source to encode; all when absent. */
  seconds?: number;
  /** Segment length in seconds: one resumable chunk, a whole number of GOPs. */
  segment: number;
  /** Seconds from one IDR frame to the next; every GOP is closed and a segment starts with one. */
  gop: number;
  /**
   * 'auto': the per-title ladder, chosen by a probe of candidate rungs through x264
   * (src/encoder/ladder); 'fixed': `renditions` and `sourceRenditions` as they are.
   */
  ladder: 'auto' | 'fixed';
  /** The per-title ladder's targets and choice (read when `ladder` is 'auto'). */
  auto: LadderOptions;
  /** LR rendition video bitrates (bits/s), upscaled by the player (a fixed ladder). */
  renditions: number[];
  /** Source-resolution rendition bitrates (bits/s), for players without the upscaler. */
  sourceRenditions: number[];
  /** Conventional rungs of a fixed ladder at sizes of their own (bicubic from the source), such as Apple's example ladder. */
  conventionalRenditions: ConventionalRendition[];
  /** Codec-aware HCD: each LR rendition re-optimized through its own x264 encode. */
  codecAware: boolean;
  /** The closed loop of codec-aware HCD (read only when codecAware). */
  codecLoop: CodecLoopOptions;
  /** HCD iterations; 0,0 is the pair's plain downscaler. */
  hcdIters: HcdIters;
  ep: ExecutionProvider;
  preset: string;
  /** AAC bitrates (bits/s) of the two audio groups: the low rungs' and the others' (src/encoder/job/renditions.ts). */
  audioBitrates: AudioBitrates;
  /** Measure every shipped rung's quality on the whole encode at the end (PSNR-Y, and VMAF where a model is available); default with an auto ladder. */
  measure: boolean;
  resume: boolean;
  force: boolean;
}

/** `hcd compare`: rate-distortion curves of conventional and learned pipelines after the real codec. */
export interface CompareConfig {
  /** x264 CRFs every pipeline is encoded at. */
  crfs: number[];
  /** Extra CRFs for the hull pipelines, so the hull reaches the learned pipelines' low qualities. */
  hullCrfs: number[];
  pipelines: string[];
  /** The conventional pipelines the hull is the best of (those of them that run). */
  hull: string[];
  /** Downscale factor of the low-resolution pipelines. */
  scale: number;
  /** Seconds into the input to start from. */
  start: number;
  preset: string;
  /** x264/ffmpeg threads, fixed so that runs repeat. */
  threads: number;
  hcdIters: HcdIters;
  codecLoop: CodecLoopOptions;
}

/** The one defaults table. */
export const DEFAULTS = {
  encode: {
    /** Apple's HLS authoring spec: 6 s segments, an IDR frame every 2 s. */
    segment: 6,
    gop: 2,
    ladder: 'auto' as 'auto' | 'fixed',
    auto: LADDER_DEFAULTS,
    renditions: [150_000, 300_000, 600_000],
    sourceRenditions: [800_000, 1_600_000],
    conventionalRenditions: [] as ConventionalRendition[],
    codecAware: false,
    codecLoop: CODEC_LOOP_DEFAULTS,
    hcdIters: VIDEO_HCD_ITERS,
    ep: 'cpu' as ExecutionProvider,
    preset: 'medium',
    /**
     * The low group is what keeps a 150k rung's bits at least 85 % video: AAC-LC stereo at 20 kb/s
     * comes to about 22 kb/s in fMP4, 32 kb/s would already be 35 kb/s (docs/encoder.md).
     */
    audioBitrates: [20_000, 64_000] as AudioBitrates,
    resume: false,
    force: false,
  },
  /** `hcd demo`: the encode above, sized for a few minutes on a 2-core CPU, into a folder of its own. */
  demo: {
    output: 'out/demo',
    segment: 2,
    sourceRenditions: [800_000],
    /** Seconds of a user's own input (the bundled sample is encoded whole). */
    inputSeconds: 10,
    port: 8080,
    host: '127.0.0.1',
  },
  compare: {
    crfs: [22, 26, 30, 34, 38],
    hullCrfs: [42, 46, 51],
    /** At --scale 2; compareLadder gives the same sizes at any scale. */
    pipelines: ['A', 'B34', 'B', 'B4'],
    hull: ['A', 'B34', 'B', 'B4'],
    scale: 2,
    start: 0,
    preset: 'medium',
    threads: 2,
    hcdIters: VIDEO_HCD_ITERS,
    codecLoop: CODEC_LOOP_DEFAULTS,
  },
  /** `hcd worker`: one chunk at a time; BullMQ's own lock time (a chunk's lock is renewed at half of it). */
  worker: { concurrency: 1, stallMs: 30_000 },
  /** `hcd image`, `hcd eval`. */
  still: { hcdIters: STILL_HCD_ITERS },
  /**
   * `hcd train-data`: sequences of one GOP at 24 fps, CRFs across the low rungs (the probe's
   * curves put a 150 kb/s 320x180 neural rung near CRF 30 on animation, higher on harder titles).
   */
  trainData: { count: 64, frames: 12, width: 128, height: 128, fps: 24, crfs: [30, 34, 38, 42], seed: 1, data: '../shared/data/train' },
} as const;

/** What a caller gives an encode: input and output, any other field (the loop's fields one by one). */
export type EncodeInput = Partial<Omit<EncodeConfig, 'codecLoop' | 'auto'>> & Pick<EncodeConfig, 'input' | 'outdir'> & { codecLoop?: Partial<CodecLoopOptions>; auto?: Partial<LadderOptions> };
export type CompareInput = Partial<Omit<CompareConfig, 'codecLoop'>> & { codecLoop?: Partial<CodecLoopOptions> };

const defined = <T extends object>(p: T): Partial<T> => Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) as Partial<T>;

/** Every field an encode reads, from what the caller gave; one line for the first field that is wrong. */
export function resolveEncodeConfig(given: EncodeInput): EncodeConfig {
  const g = defined(given);
  if (g.codecLoop !== undefined && !g.codecAware) throw new HcdError('--codec-loop needs --codec-aware');
  const fixedGiven = g.renditions !== undefined || g.sourceRenditions !== undefined || g.conventionalRenditions !== undefined;
  if (fixedGiven && g.ladder === 'auto') throw new HcdError('--renditions, --source-renditions and --conventional-renditions make a fixed ladder; drop --ladder auto');
  // a resolved config comes back with the defaults in `auto` (a queued chunk's): only a change counts
  const targetsGiven = g.auto !== undefined && Object.entries(g.auto).some(([k, v]) => k !== 'vmafModel' && v !== undefined && JSON.stringify(v) !== JSON.stringify(LADDER_DEFAULTS[k as keyof LadderOptions]));
  if (targetsGiven && (g.ladder === 'fixed' || fixedGiven)) throw new HcdError('the ladder targets (--bitrates, --rungs, --min-kbps, --max-kbps, --metric, --no-neural) are for --ladder auto');
  const c: EncodeConfig = {
    ...DEFAULTS.encode,
    renditions: [...DEFAULTS.encode.renditions],
    sourceRenditions: [...DEFAULTS.encode.sourceRenditions],
    conventionalRenditions: [],
    hcdIters: [...DEFAULTS.encode.hcdIters],
    audioBitrates: [...DEFAULTS.encode.audioBitrates],
    model: g.model ?? defaultModelId(),
    ...g,
    gop: g.gop ?? defaultGop(g.segment ?? DEFAULTS.encode.segment),
    codecLoop: { ...CODEC_LOOP_DEFAULTS, ...g.codecLoop },
    ladder: g.ladder ?? (fixedGiven ? 'fixed' : DEFAULTS.encode.ladder),
    measure: g.measure ?? (g.ladder ?? (fixedGiven ? 'fixed' : DEFAULTS.encode.ladder)) === 'auto',
    auto: { ...LADDER_DEFAULTS, ...(g.auto ? defined(g.auto) : {}) },
  } as EncodeConfig;
  if (c.input === '') throw new HcdError('no input given');
  if (c.outdir === '') throw new HcdError('no output folder given');
  if (c.model === '') throw new HcdError('no model given');
  if (!isPositive(c.segment)) throw new HcdError(`segment length must be positive, got ${c.segment}`);
  if (!isPositive(c.gop)) throw new HcdError(`GOP length must be positive, got ${c.gop}`);
  if (!isWholeMultiple(c.segment, c.gop)) throw new HcdError(`the segment (${c.segment} s) must be a whole number of GOPs (${c.gop} s)`);
  if (c.seconds !== undefined && !isPositive(c.seconds)) throw new HcdError(`--seconds must be positive, got ${c.seconds}`);
  if (c.ladder !== 'auto' && c.ladder !== 'fixed') throw new HcdError(`bad --ladder '${String(c.ladder)}': use auto or fixed`);
  if (c.ladder === 'fixed' && c.renditions.length + c.sourceRenditions.length + c.conventionalRenditions.length === 0) throw new HcdError('a fixed ladder needs at least one rendition');
  for (const b of [...c.renditions, ...c.sourceRenditions, ...c.conventionalRenditions.map((r) => r.bitrate)]) checkBitrate(b);
  for (const r of c.conventionalRenditions) if (!(isCount(r.width) && isCount(r.height) && r.width >= 16 && r.height >= 16 && r.width % 2 === 0 && r.height % 2 === 0)) throw new HcdError(`bad conventional rendition size ${r.width}x${r.height}: even sizes of at least 16 px`);
  checkLadderOptions(c.auto, checkBitrate);
  checkAudio(c.audioBitrates);
  if (!EXECUTION_PROVIDERS.includes(c.ep)) throw new HcdError(`bad --ep '${c.ep}': use ${EXECUTION_PROVIDERS.join(', ')}`);
  if (!(X264_PRESETS as readonly string[]).includes(c.preset)) throw new HcdError(`bad --preset '${c.preset}': use one of ${X264_PRESETS.join(', ')}`);
  checkLoop(c.codecLoop);
  checkIters(c.hcdIters);
  return c;
}

/**
 * The conventional ladder a per-title encoder picks from: the source, 3/4, 1/2 and 1/4 of it,
 * by pipeline id. 'B' is the rung at --scale, so the ids of the fixed-size rungs (B2, B4) fill
 * in the sizes B does not cover.
 */
export function compareLadder(scale: number): string[] {
  const half = scale === 2 ? 'B' : 'B2';
  const quarter = scale === 4 ? 'B' : 'B4';
  return ['A', 'B34', half, quarter, ...(scale === 2 || scale === 4 ? [] : ['B'])];
}

/** Every field a comparison reads; `scale` and `hcdIters` may come from an encode output folder. */
export function resolveCompareConfig(given: CompareInput): CompareConfig {
  const g = defined(given);
  const scale = g.scale ?? DEFAULTS.compare.scale;
  const c: CompareConfig = {
    ...DEFAULTS.compare,
    crfs: [...DEFAULTS.compare.crfs],
    hullCrfs: [...DEFAULTS.compare.hullCrfs],
    pipelines: compareLadder(scale),
    hull: compareLadder(scale),
    hcdIters: [...DEFAULTS.compare.hcdIters],
    ...g,
    codecLoop: { ...CODEC_LOOP_DEFAULTS, ...g.codecLoop },
  };
  if (c.crfs.length < 2) throw new HcdError('give at least two CRF values, a BD-rate needs a curve');
  if (![...c.crfs, ...c.hullCrfs].every(isCrf)) throw new HcdError(`CRFs are integers 0-51, got ${[...c.crfs, ...c.hullCrfs].join(',')}`);
  if (new Set(c.crfs).size !== c.crfs.length) throw new HcdError(`--crf has a repeated value: ${c.crfs.join(',')}`);
  if (c.pipelines.length === 0 || c.pipelines.includes('')) throw new HcdError('no pipelines to compare');
  if (new Set(c.pipelines).size !== c.pipelines.length) throw new HcdError(`--pipelines names a pipeline twice: ${c.pipelines.join(',')}`);
  if (!isCount(c.scale) || c.scale < 1) throw new HcdError(`--scale must be a positive integer, got '${c.scale}'`);
  if (!(Number.isFinite(c.start) && c.start >= 0)) throw new HcdError(`--start must be a number >= 0, got ${c.start}`);
  if (!isCount(c.threads) || c.threads < 1) throw new HcdError(`--threads must be a positive integer, got '${c.threads}'`);
  if (!(X264_PRESETS as readonly string[]).includes(c.preset)) throw new HcdError(`bad --preset '${c.preset}': use one of ${X264_PRESETS.join(', ')}`);
  checkLoop(c.codecLoop);
  checkIters(c.hcdIters);
  return c;
}

const isPositive = (n: number): boolean => Number.isFinite(n) && n > 0;
/** Within a microsecond: segment and GOP lengths are typed in as decimals. */
const isWholeMultiple = (a: number, b: number): boolean => a / b >= 1 - 1e-9 && Math.abs(a / b - Math.round(a / b)) * b < 1e-6;

/** The default GOP where it divides the segment; a segment it does not divide is one GOP. */
function defaultGop(segment: number): number {
  return isWholeMultiple(segment, DEFAULTS.encode.gop) ? DEFAULTS.encode.gop : segment;
}
const isCount = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;
const isCrf = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 51;

function checkBitrate(b: number): void {
  if (!(Number.isSafeInteger(b) && b >= MIN_BITRATE && b <= MAX_BITRATE)) throw new HcdError(`bad bitrate ${b}: bitrates are whole bits/s from ${MIN_BITRATE} to ${MAX_BITRATE}`);
}

function checkAudio(a: AudioBitrates): void {
  if (!Array.isArray(a) || a.length !== 2) throw new HcdError('--audio-bitrates wants two bitrates, LOW,NORMAL');
  a.forEach(checkBitrate);
  if (a[0] > a[1]) throw new HcdError(`--audio-bitrates: the low group (${a[0]}) is above the normal one (${a[1]})`);
}

function checkLoop(o: CodecLoopOptions): void {
  if (!isCount(o.passes) || !isPositive(o.step) || !(Number.isFinite(o.radius) && o.radius >= 0) || !(Number.isFinite(o.rateSlope) && o.rateSlope >= 0)) {
    throw new HcdError(`bad codec loop ${o.passes},${o.step},${o.radius},${o.rateSlope}: passes an integer >= 0, step > 0, radius and slope >= 0`);
  }
}

function checkIters(it: HcdIters): void {
  if (it.length !== 2 || !it.every(isCount)) throw new HcdError(`--hcd-iters wants two integers >= 0 as HR,LR, got '${it.join(',')}'`);
}
