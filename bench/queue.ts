/**
 * Does spreading the chunks over worker processes pay, and what does the queue cost per chunk?
 * In one run, on one clip cut from a real video: the single-process encode (every core), then
 * `hcd encode --workers N` for each N (N local `hcd worker`s, one onnxruntime thread each, on a
 * private redis-server started by the encoder's own code, src/encoder/queue/embedded.ts). The
 * bench starts that Redis itself and passes it as `--queue`, so that it can read the chunk jobs
 * afterwards; its start and stop are counted in the run's time.
 *
 * Per chunk, from the jobs: the worker's chunk compute (`encode_ms`, its log line: from the
 * chunk's first frame decoded to its segments in place), decoding the input's frames before the
 * chunk (`skip_ms`), the rest of the job's run (setup: plan, session load, audio tracks, closing),
 * the worker's wait between two chunks (pick-up), and the submitter's wait from a chunk's finish
 * to its record in state.json (polled here). The submitter's serial parts are timed on their own:
 * probe and plan, the audio tracks, the playlists, and from the timeline its time before the first
 * job is queued and after the last one finishes.
 *
 *   node --import tsx bench/queue.ts [--input FILE] [--start S] [--seconds 6] [--size 320x180]
 *        [--segment 0.75] [--workers 1,2,4]
 *
 * Needs /work/shared/data/video (or --input) and a redis-server; skips cleanly without either.
 * Prints a table and `queue.*=` lines, and writes bench/out/queue.json.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { resolveEncodeConfig } from '../src/config.js';
import { runFfmpeg } from '../src/encoder/media/ffmpeg.js';
import { claimJob, planJob } from '../src/encoder/job/open.js';
import { writePlaylists } from '../src/encoder/job/publish.js';
import { EmbeddedRedis, findRedisServer } from '../src/encoder/queue/embedded.js';
import { QUEUE_NAME } from '../src/encoder/queue/payload.js';
import { writeTracks } from '../src/encoder/queue/tracks.js';
import { parseQueueUrl } from '../src/encoder/queue/url.js';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, '..', 'bin', 'hcd.js');
const BBB = '/work/shared/data/video/big_buck_bunny_640x360.mp4';

const { values } = parseArgs({
  options: {
    input: { type: 'string', default: BBB },
    start: { type: 'string', default: '30' },
    seconds: { type: 'string', default: '6' },
    size: { type: 'string', default: '320x180' },
    segment: { type: 'string', default: '0.75' },
    workers: { type: 'string', default: '1,2,4' },
  },
});

if (!existsSync(values.input)) {
  console.log(`queue: skipped, ${values.input} not found`);
  process.exit(0);
}
try {
  findRedisServer();
} catch (e) {
  console.log(`queue: skipped, ${(e as Error).message}`);
  process.exit(0);
}

interface Run {
  wallMs: number;
  t0: number;
  t1: number;
  stdout: string;
  /** Wall-clock time at which each chunk index first showed in state.json. */
  recorded: Map<number, number>;
}

/** Runs `hcd ARGS`, timing it from spawn to exit, and polls OUTDIR/state.json for the chunks' records. */
function hcd(args: string[], outdir: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const recorded = new Map<number, number>();
    const poll = setInterval(() => {
      try {
        const s = JSON.parse(readFileSync(join(outdir, 'state.json'), 'utf8')) as { chunks: { index: number }[] };
        const now = Date.now();
        for (const c of s.chunks) if (!recorded.has(c.index)) recorded.set(c.index, now);
      } catch {
        // not there yet, or being replaced
      }
    }, 20);
    const t0 = Date.now();
    const p0 = performance.now();
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(poll);
      const wallMs = performance.now() - p0;
      if (code !== 0) reject(new Error(`hcd ${args.join(' ')} exited ${code}: ${stderr.slice(-600)}`));
      else resolve({ wallMs, t0, t1: Date.now(), stdout, recorded });
    });
  });
}

function digests(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name !== 'job.json') out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

/** Least squares y = a + b·x. */
function line(xs: number[], ys: number[]): { a: number; b: number } {
  const mx = mean(xs);
  const my = mean(ys);
  const sxx = xs.reduce((s, x) => s + (x - mx) ** 2, 0);
  const b = sxx > 0 ? xs.reduce((s, x, i) => s + (x - mx) * (ys[i] - my), 0) / sxx : 0;
  return { a: my - b * mx, b };
}

interface ChunkTimes {
  index: number;
  startFrame: number;
  runMs: number;
  encodeMs: number;
  skipMs: number;
  setupMs: number;
  pickupMs?: number;
  recordWaitMs?: number;
}

/** The finished chunk jobs of this encode, their times from Redis and the worker's log line. */
async function chunkTimes(url: string, run: Run): Promise<{ chunks: ChunkTimes[]; firstQueued: number; lastFinished: number }> {
  const queue = new Queue(QUEUE_NAME, { connection: parseQueueUrl(url).connection });
  try {
    const jobs = await queue.getJobs(['completed']);
    const rows: (ChunkTimes & { by: string; processedOn: number; finishedOn: number })[] = [];
    for (const job of jobs) {
      const logs = (await queue.getJobLogs(job.id!)).logs.join(' ');
      const encodeMs = Number(/encode_ms=(\d+)/.exec(logs)?.[1]);
      const skipMs = Number(/skip_ms=(\d+)/.exec(logs)?.[1]);
      const { index, startFrame } = (job.data as { chunk: { index: number; startFrame: number } }).chunk;
      const runMs = job.finishedOn! - job.processedOn!;
      rows.push({ index, startFrame, runMs, encodeMs, skipMs, setupMs: runMs - encodeMs - skipMs, by: job.processedBy ?? '?', processedOn: job.processedOn!, finishedOn: job.finishedOn! });
    }
    rows.sort((a, b) => a.processedOn - b.processedOn);
    const last = new Map<string, number>();
    for (const r of rows) {
      const prev = last.get(r.by);
      if (prev !== undefined) r.pickupMs = r.processedOn - prev;
      last.set(r.by, r.finishedOn);
      const rec = run.recorded.get(r.index);
      if (rec !== undefined) r.recordWaitMs = Math.max(0, rec - r.finishedOn);
    }
    return {
      chunks: rows.map(({ by, processedOn, finishedOn, ...c }) => (void by, void processedOn, void finishedOn, c)).sort((a, b) => a.index - b.index),
      firstQueued: Math.min(...jobs.map((j) => j.timestamp)),
      lastFinished: Math.max(...rows.map((r) => r.finishedOn)),
    };
  } finally {
    await queue.close();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'hcd-bench-queue-'));
try {
  const [w, h] = values.size.split('x').map(Number);
  const clip = join(dir, 'clip.mp4');
  await runFfmpeg(['-v', 'error', '-ss', values.start, '-t', values.seconds, '-i', values.input, '-vf', `scale=${w}:${h}`, '-c:v', 'libx264', '-crf', '18', '-preset', 'fast', '-c:a', 'aac', '-b:a', '96k', '-y', clip]);
  const common = (out: string) => ['encode', clip, '-o', out, '--segment', values.segment, '--renditions', '150k,300k,600k', '--source-renditions', '800k,1600k', '--json'];
  const load0 = loadavg()[0];

  // the single process: every core
  const singleOut = join(dir, 'single');
  const single = await hcd(common(singleOut), singleOut);
  const summary = JSON.parse(single.stdout.trim().split('\n').at(-1)!) as { frames: number; stages: { total_s: number } };
  const frames = summary.frames;
  const chunkCount = JSON.parse(readFileSync(join(singleOut, 'state.json'), 'utf8')).chunks.length as number;
  const reference = digests(singleOut);
  const singleFps = frames / (single.wallMs / 1000);
  const singleLoad = loadavg()[0];

  // the submitter's serial parts: the command's start (also each worker's), and the functions it runs
  const version = await hcd(['--version'], join(dir, 'none'));
  const startupMs = version.wallMs;
  const cfg = resolveEncodeConfig({ input: clip, outdir: join(dir, 'serial'), segment: Number(values.segment), renditions: [150_000, 300_000, 600_000], sourceRenditions: [800_000, 1_600_000] });
  let t = performance.now();
  const plan = await planJob(cfg, {});
  const planMs = performance.now() - t;
  t = performance.now();
  await writeTracks(plan);
  const audioMs = performance.now() - t;
  const copy = join(dir, 'playlists');
  cpSync(singleOut, copy, { recursive: true });
  const done = claimJob(await planJob({ ...cfg, outdir: copy, resume: true }, {}));
  t = performance.now();
  writePlaylists(done, true);
  const playlistsMs = performance.now() - t;
  // the single process's compute per chunk, all cores: its encode less the serial parts timed above
  const singleChunkMs = (summary.stages.total_s * 1000 - planMs - audioMs) / chunkCount;

  const runs: Record<string, unknown>[] = [];
  for (const n of values.workers.split(',').map(Number)) {
    const out = join(dir, `workers-${n}`);
    let t = performance.now();
    const redis = await EmbeddedRedis.start();
    const redisStartMs = performance.now() - t;
    let run: Run;
    let times: Awaited<ReturnType<typeof chunkTimes>>;
    let redisStopMs: number;
    try {
      run = await hcd([...common(out), '--queue', redis.url, '--workers', String(n)], out);
      times = await chunkTimes(redis.url, run);
    } finally {
      t = performance.now();
      await redis.stop();
      redisStopMs = performance.now() - t;
    }
    const load = loadavg()[0];
    const same = JSON.stringify(digests(out)) === JSON.stringify(reference);
    const wallMs = run.wallMs + redisStartMs + redisStopMs;
    const fps = frames / (wallMs / 1000);
    const c = times.chunks;
    const encodeMs = mean(c.map((x) => x.encodeMs));
    const setupMs = mean(c.map((x) => x.setupMs));
    const skipMs = mean(c.map((x) => x.skipMs));
    const pickups = c.flatMap((x) => (x.pickupMs === undefined ? [] : [x.pickupMs]));
    const pickupMs = mean(pickups);
    const recordWaitMs = mean(c.flatMap((x) => (x.recordWaitMs === undefined ? [] : [x.recordWaitMs])));
    const skipFit = line(c.map((x) => x.startFrame), c.map((x) => x.skipMs));
    runs.push({
      workers: n, wallMs, fps, ratio: fps / singleFps, sameBytes: same, load, redisStartMs, redisStopMs,
      encodeMs, setupMs, skipMs, pickupMs, recordWaitMs,
      overheadShare: (setupMs + skipMs + pickupMs) / encodeMs,
      skipPerFrameMs: skipFit.b, decoderStartMs: skipFit.a,
      submitterBeforeMs: times.firstQueued - run.t0, submitterAfterMs: run.t1 - times.lastFinished + redisStopMs,
      chunks: c,
    });
  }
  const load1 = loadavg()[0];

  const f1 = (x: number) => x.toFixed(1);
  const f2 = (x: number) => x.toFixed(2);
  const f3 = (x: number) => x.toFixed(3);
  console.log(`${cpus().length} cores, load ${f2(load0)} before and ${f2(load1)} after; clip ${values.size}, ${frames} frames (${values.seconds} s from ${values.start} s of ${values.input}), ${chunkCount} chunks of ${values.segment} s, default ladder and HCD`);
  console.log(`single process      ${f2(singleFps)} frames/s  (${f1(single.wallMs / 1000)} s, load ${f2(singleLoad)} at its end; ${f1(singleChunkMs)} ms per chunk, all cores)`);
  for (const r of runs as { workers: number; fps: number; ratio: number; wallMs: number; sameBytes: boolean; load: number }[])
    console.log(`--workers ${r.workers}         ${f2(r.fps)} frames/s  (${f1(r.wallMs / 1000)} s, load ${f2(r.load)} at its end)  ${f3(r.ratio)} x single  ${r.sameBytes ? 'same bytes' : 'BYTES DIFFER'}`);
  console.log('per chunk, mean ms: compute | setup | skip | pick-up | overhead share | record wait | skip per frame before the chunk');
  for (const r of runs as { workers: number; encodeMs: number; setupMs: number; skipMs: number; pickupMs: number; overheadShare: number; recordWaitMs: number; skipPerFrameMs: number }[])
    console.log(`  --workers ${r.workers}: ${f1(r.encodeMs)} | ${f1(r.setupMs)} | ${f1(r.skipMs)} | ${f1(r.pickupMs)} | ${(100 * r.overheadShare).toFixed(1)} % | ${f1(r.recordWaitMs)} | ${f3(r.skipPerFrameMs)}`);
  const r1 = runs[0] as { submitterBeforeMs: number; submitterAfterMs: number };
  console.log(`submitter, serial: start of the command ${f1(startupMs)} ms, probe and plan ${f1(planMs)} ms, audio tracks ${f1(audioMs)} ms, playlists ${f1(playlistsMs)} ms; before the first job ${f1(r1.submitterBeforeMs)} ms, after the last ${f1(r1.submitterAfterMs)} ms (--workers ${(runs[0] as { workers: number }).workers})`);

  // K machines, one `hcd worker` each: every chunk costs a worker's compute c plus its overhead o,
  // both from the one-worker run; the submitter's serial time s (before the first job, after the
  // last) is paid once; n chunks go in ceil(n/K) rounds. Against one process, which spends s1 (its
  // start, probe and plan, audio, playlists) and n·c:
  //   ratio(K) = (s1 + n·c) / (s + ceil(n/K)·(c + o)), which tends to K·c/(c + o) for many chunks.
  const w1 = runs[0] as { workers: number; encodeMs: number; setupMs: number; skipMs: number; pickupMs: number; submitterBeforeMs: number; submitterAfterMs: number; skipPerFrameMs: number };
  const c = w1.encodeMs;
  const o = w1.setupMs + w1.skipMs + w1.pickupMs;
  const serial = w1.submitterBeforeMs + w1.submitterAfterMs;
  const serial1 = startupMs + planMs + audioMs + playlistsMs;
  const modelled = (k: number, n: number) => (serial1 + n * c) / (serial + Math.ceil(n / k) * (c + o));
  const ks = [1, 2, 4, 8, 16];
  console.log(`model, from --workers ${w1.workers}: c ${f1(c)} ms compute per chunk, o ${f1(o)} ms overhead per chunk (${(100 * (o / c)).toFixed(1)} % of c; ${(100 * (o / singleChunkMs)).toFixed(1)} % of the single process's chunk), s ${f1(serial)} ms serial in the submitter, s1 ${f1(serial1)} ms in one process`);
  console.log(`  K machines, this clip's ${chunkCount} chunks: ${ks.map((k) => `${k}: ${f2(modelled(k, chunkCount))}`).join(', ')} x one process`);
  console.log(`  K machines, many chunks, K·c/(c+o): ${ks.map((k) => `${k}: ${f2((k * c) / (c + o))}`).join(', ')} x one process`);

  const kv: [string, string][] = [
    ['queue.cores', String(cpus().length)],
    ['queue.frames', String(frames)],
    ['queue.chunks', String(chunkCount)],
    ['queue.single.fps', f3(singleFps)],
  ];
  for (const r of runs as { workers: number; fps: number; ratio: number; overheadShare: number; sameBytes: boolean }[]) {
    kv.push([`queue.workers_${r.workers}.fps`, f3(r.fps)], [`queue.workers_${r.workers}.ratio`, f3(r.ratio)], [`queue.workers_${r.workers}.overhead_share`, f3(r.overheadShare)], [`queue.workers_${r.workers}.same_bytes`, String(r.sameBytes)]);
  }
  kv.push(['queue.submitter.startup_ms', f1(startupMs)], ['queue.submitter.plan_ms', f1(planMs)], ['queue.submitter.audio_ms', f1(audioMs)], ['queue.submitter.playlists_ms', f1(playlistsMs)]);
  kv.push(['queue.model.chunk_ms', f1(c)], ['queue.model.overhead_ms', f1(o)], ['queue.model.overhead_share', f3(o / c)], ['queue.model.serial_ms', f1(serial)], ['queue.model.skip_per_frame_ms', f3(w1.skipPerFrameMs)]);
  for (const k of ks) kv.push([`queue.model.k_${k}.ratio`, f3(modelled(k, chunkCount))]);
  for (const [k, v] of kv) console.log(`${k}=${v}`);

  const outDir = join(here, 'out');
  mkdirSync(outDir, { recursive: true });
  const result = {
    machine: { cores: cpus().length, cpu: cpus()[0]?.model, load: [load0, load1] },
    clip: { input: values.input, start: Number(values.start), seconds: Number(values.seconds), size: values.size, segment: Number(values.segment), frames, chunks: chunkCount },
    single: { wallMs: single.wallMs, fps: singleFps, chunkMs: singleChunkMs, load: singleLoad },
    submitter: { startupMs, planMs, audioMs, playlistsMs },
    model: { chunkMs: c, overheadMs: o, serialMs: serial, singleSerialMs: serial1, chunks: chunkCount, ratio: Object.fromEntries(ks.map((k) => [k, modelled(k, chunkCount)])), manyChunks: Object.fromEntries(ks.map((k) => [k, (k * c) / (c + o)])) },
    runs,
  };
  writeFileSync(join(outDir, 'queue.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${relative(process.cwd(), join(outDir, 'queue.json'))}`);
  if (runs.some((r) => !r.sameBytes)) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
