// The demo page. hls.js plays the chosen output into a hidden <video>; the HCD player plugin
// draws the neural upscaling of each frame into #neural-canvas, and #bilinear-canvas shows the
// browser's own bilinear scaling of the same frame, clipped to the left of the divider.
// Plain ES module, no build step: the server sends this file as it is.
/* global document, window, location, fetch, URLSearchParams, requestAnimationFrame, cancelAnimationFrame, setInterval, clearInterval, createImageBitmap */
import { startGapGuard } from './gap.js';

const $ = (id) => document.getElementById(id);
const els = {
  stage: $('stage'),
  video: $('video'),
  neural: $('neural-canvas'),
  bilinear: $('bilinear-canvas'),
  notice: $('notice'),
  outputSelect: $('output-select'),
  backendSelect: $('backend-select'),
  levels: $('levels'),
  split: $('split'),
  play: $('play'),
  time: $('time'),
  tagRight: $('tag-right'),
  ladderCard: $('ladder-card'),
  ladderWhat: $('ladder-what'),
  ladderRows: document.querySelector('#ladder-table tbody'),
  ladderChart: $('ladder-chart'),
  reportCard: $('report-card'),
  chart: $('rd-chart'),
  reportLinks: $('report-links'),
  reportBd: $('report-bd'),
  bdWhat: $('report-bd-what'),
  bdHullHead: $('bd-hull-head'),
  bdRows: document.querySelector('#bd-table tbody'),
};

const params = new URLSearchParams(location.search);
/** A URL the server put in the page (versioned, cached for good), else the unversioned one. */
const served = (name, fallback) => document.querySelector(`meta[name="${name}"]`)?.content || fallback;
const PLAYER_URL = served('hcd-player', '/player/hcd-player.js');
const ORT_PATH = served('hcd-ort', '/ort/');

/** Everything that belongs to the output being played; torn down when switching. */
let session = null;
let HcdUpscaler = null;
let playerProblem = '';

const notices = new Set();
function notice(text) {
  notices.add(text);
  els.notice.textContent = [...notices].join(' ');
  els.notice.hidden = false;
}
function clearNotices() {
  notices.clear();
  els.notice.hidden = true;
  els.notice.textContent = '';
}

function setState(state) {
  document.body.dataset.state = state;
}

async function loadPlayer() {
  try {
    const mod = await import(PLAYER_URL);
    const ctor = mod.HcdUpscaler ?? mod.default?.HcdUpscaler;
    if (typeof ctor !== 'function') throw new Error('the bundle has no HcdUpscaler export');
    HcdUpscaler = ctor;
  } catch (e) {
    playerProblem = `The neural upscaler did not load (${PLAYER_URL}: ${e instanceof Error ? e.message : e}); ` +
      'playing the plain video instead. Build it with npm run build:player.';
  }
}

async function fetchOutputs() {
  const res = await fetch('/api/outputs', { cache: 'no-store' });
  if (!res.ok) throw new Error(`/api/outputs answered ${res.status}`);
  return res.json();
}

// ---- split view ------------------------------------------------------------------------

function setSplit(percent) {
  const p = Math.min(100, Math.max(0, percent));
  els.stage.style.setProperty('--split', `${p}%`);
  els.split.value = String(Math.round(p));
}

function setupSplit() {
  setSplit(Number(els.split.value));
  els.split.addEventListener('input', () => setSplit(Number(els.split.value)));
  let dragging = false;
  const fromEvent = (ev) => {
    const r = els.stage.getBoundingClientRect();
    setSplit(((ev.clientX - r.left) / r.width) * 100);
  };
  els.stage.addEventListener('pointerdown', (ev) => {
    if (els.stage.dataset.mode !== 'split') return;
    dragging = true;
    els.stage.setPointerCapture(ev.pointerId);
    fromEvent(ev);
  });
  els.stage.addEventListener('pointermove', (ev) => dragging && fromEvent(ev));
  const end = () => { dragging = false; };
  els.stage.addEventListener('pointerup', end);
  els.stage.addEventListener('pointercancel', end);
}

/**
 * Keeps the bilinear canvas on the frame the neural canvas shows. The network may take longer
 * than a frame (seconds on a slow WASM machine), so the plugin's canvas lags the video: each
 * presented frame is kept as an ImageBitmap keyed by its media time, and when the plugin's
 * `lastDraw.mediaTime` moves on, that same frame is drawn here, at `lastDraw`'s width and height.
 * Without `lastDraw` (a plugin that does not expose it) the current frame is drawn at LR size
 * times the level's X-UPSCALE. Both canvases are shown with object-fit: contain in the same
 * box, so they line up pixel for pixel and only the scaling method differs.
 */
const RING_MAX_PIXELS = 12e6; // about 48 MB of RGBA: 8 s of 320x180, 1 s of 960x540

function startBilinear(video, canvas, scaleOf, shown) {
  const ctx = canvas.getContext('2d');
  const ring = []; // { t, bmp }, oldest first
  let ringPixels = 0;
  let stopped = false;
  let vfc = 0;
  let raf = 0;
  let paintedT = NaN;
  let fallbackT = NaN;

  // The target size is the neural side's own when the plugin says it (a kept frame may come
  // from another level than the current one), else the source size times the level's scale.
  const paint = (src, sw, sh, size) => {
    const s = scaleOf();
    const w = size ? size.width : Math.round(sw * s);
    const h = size ? size.height : Math.round(sh * s);
    if (w === 0 || h === 0) return;
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
    }
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'low'; // 'low' is bilinear in Chromium, Firefox and Safari
    ctx.drawImage(src, 0, 0, w, h);
  };
  const paintCurrent = (size) => paint(video, video.videoWidth, video.videoHeight, size);
  const dropOldest = () => {
    const f = ring.shift();
    ringPixels -= f.bmp.width * f.bmp.height;
    f.bmp.close();
  };
  const clearRing = () => { while (ring.length) dropOldest(); };

  const onFrame = (_now, meta) => {
    if (stopped) return;
    if (shown() === undefined) {
      paintCurrent();
    } else {
      const t = meta.mediaTime;
      createImageBitmap(video).then((bmp) => {
        if (stopped) { bmp.close(); return; }
        ring.push({ t, bmp });
        ringPixels += bmp.width * bmp.height;
        while (ringPixels > RING_MAX_PIXELS && ring.length > 1) dropOldest();
      }, () => { /* no frame to copy (e.g. during a switch): nothing to keep */ });
    }
    vfc = video.requestVideoFrameCallback(onFrame);
  };

  let misses = 0;
  const tick = () => {
    if (stopped) return;
    const d = shown();
    const t = d?.mediaTime;
    if (d && typeof t === 'number' && t !== paintedT) {
      // Newest match: after a loop the same media time is in the ring twice, with the same
      // picture. Frames are not dropped on a match: in its adaptive modes the plugin draws
      // quick bilinear frames while a slow neural one is still coming for an older time.
      let k = ring.length - 1;
      while (k >= 0 && Math.abs(ring[k].t - t) > 1e-6) k--;
      if (k >= 0) {
        paint(ring[k].bmp, ring[k].bmp.width, ring[k].bmp.height, d);
        paintedT = t;
        misses = 0;
      } else if (video.paused && Math.abs(video.currentTime - t) < 1e-3) {
        // A refresh while paused: the plugin drew the current frame, at currentTime.
        paintCurrent(d);
        paintedT = t;
        misses = 0;
      } else if (++misses > 10 && fallbackT !== t) {
        // A frame we may never have kept: the video's current frame stands in, once, and the
        // ring is still searched, so the kept frame replaces it if its copy was only late.
        paintCurrent(d);
        fallbackT = t;
      }
      // Otherwise the copy of that frame is still on its way (createImageBitmap is async).
    }
    raf = requestAnimationFrame(tick);
  };

  if (typeof video.requestVideoFrameCallback === 'function') {
    vfc = video.requestVideoFrameCallback(onFrame);
  } else {
    // No rVFC (old Firefox): no frame times either, so show the current frame on every tick.
    shown = () => undefined;
    const loop = () => { if (!stopped) { paintCurrent(); raf = requestAnimationFrame(loop); } };
    loop();
  }
  if (typeof video.requestVideoFrameCallback === 'function') tick();
  const stop = () => {
    stopped = true;
    if (typeof video.cancelVideoFrameCallback === 'function') video.cancelVideoFrameCallback(vfc);
    cancelAnimationFrame(raf);
    clearRing();
  };
  /** For diagnostics: the media time on the bilinear side and the frames kept. */
  stop.state = () => ({ paintedT, kept: ring.map((f) => f.t) });
  return stop;
}

// ---- stats -----------------------------------------------------------------------------

function fmt(v, digits) {
  return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '–';
}

function showStats(s) {
  if (!s) return;
  $('stats-backend').textContent = s.backend ?? '–';
  $('stats-fps').textContent = fmt(s.fps, 1);
  $('stats-ms').textContent = fmt(s.msPerFrame, 1);
  $('stats-dropped').textContent = fmt(s.droppedFrames, 0);
  $('stats-mode').textContent = s.mode ?? '–';
}

function describeEvent(e) {
  if (typeof e === 'string') return e;
  if (e && typeof e === 'object') return e.reason ?? e.message ?? e.backend ?? JSON.stringify(e);
  return String(e);
}

// ---- renditions ------------------------------------------------------------------------

function upscaleOf(level) {
  const v = Number(level?.attrs?.['X-UPSCALE']);
  return Number.isFinite(v) && v > 1 ? v : 1;
}

function kbps(bits) {
  return bits >= 1e6 ? `${(bits / 1e6).toFixed(2)} Mb/s` : `${Math.round(bits / 1e3)} kb/s`;
}

function el(tag, cls, text) {
  const n = document.createElement(tag);
  if (cls) n.className = cls;
  if (text !== undefined) n.textContent = text;
  return n;
}

function renderLevels(hls) {
  els.levels.replaceChildren();
  const order = hls.levels.map((l, i) => ({ l, i })).sort((a, b) => b.l.bitrate - a.l.bitrate);
  const entries = [{ i: -1, label: 'Auto', badge: 'ABR', cls: '', rate: '' }].concat(order.map(({ l, i }) => {
    const up = upscaleOf(l);
    return {
      i,
      label: `${l.width}×${l.height}`,
      badge: up > 1 ? `LR ×${up}` : 'source',
      cls: up > 1 ? 'lr' : '',
      rate: kbps(l.bitrate),
    };
  }));
  for (const e of entries) {
    const li = el('li');
    const b = el('button');
    b.type = 'button';
    b.dataset.level = String(e.i);
    const left = el('span');
    left.append(el('span', '', e.label), ' ', el('span', `badge ${e.cls}`, e.badge));
    b.append(left, el('span', 'rate', e.rate));
    // currentLevel switches now (flushing the buffer), so the comparison changes at once.
    b.addEventListener('click', () => { hls.currentLevel = e.i; markLevels(hls); });
    li.append(b);
    els.levels.append(li);
  }
  markLevels(hls);
}

function markLevels(hls) {
  const playing = hls.currentLevel;
  for (const b of els.levels.querySelectorAll('button')) {
    const i = Number(b.dataset.level);
    const chosen = hls.autoLevelEnabled ? i === -1 : i === hls.manualLevel;
    b.setAttribute('aria-pressed', String(chosen));
    b.classList.toggle('now', i === playing);
  }
  const l = hls.levels[playing];
  if (l) {
    const up = upscaleOf(l);
    $('stats-level').textContent = `${l.height}p ${up > 1 ? `LR×${up}` : 'src'} ${kbps(l.bitrate)}`;
    els.tagRight.textContent = up > 1 ? `Neural ×${up} (HCD)` : 'Source (no upscaling)';
  }
}

// ---- report ----------------------------------------------------------------------------

/** A BD-rate as the page prints it: sign always shown (U+2212 for minus), one decimal. */
function pct(v) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return 'n/a';
  const s = Math.abs(v).toFixed(1);
  if (s === '0.0') return '0.0 %';
  return `${v < 0 ? '\u2212' : '+'}${s} %`;
}

/** The headline of compare/report.json that /api/outputs hands over as `bd` (src/server/report.ts). */
function showBd(bd) {
  els.bdRows.replaceChildren();
  if (!bd || !Array.isArray(bd.rows) || bd.rows.length === 0) {
    els.reportBd.hidden = true;
    return;
  }
  const anchor = Array.isArray(bd.hullAnchor) && bd.hullAnchor.length > 0 ? bd.hullAnchor.join('+') : 'A+B';
  els.bdHullHead.textContent = `vs best of ${anchor}`;
  const what = [];
  if (bd.input?.name) what.push(`${typeof bd.input.seconds === 'number' ? `${bd.input.seconds.toFixed(1)} s of ` : ''}${bd.input.name}`);
  what.push(`BD-rate on ${bd.metric === 'psnr_y' ? 'PSNR-Y' : bd.metric} at source size; negative = fewer bits for the same quality`);
  els.bdWhat.textContent = what.join(' · ');
  for (const r of bd.rows) {
    const tr = el('tr');
    tr.dataset.pipeline = r.id;
    const th = el('th', '', r.id);
    th.scope = 'row';
    th.append(el('span', 'label', r.label));
    tr.append(th);
    for (const [cls, v] of [['bd-hull', r.vsHull], ['bd-hull-low', r.vsHullLow], ['bd-source', r.vsSource]]) {
      const td = el('td', cls, pct(v));
      if (typeof v === 'number' && v <= -0.05) td.classList.add('saves');
      else if (typeof v === 'number' && v >= 0.05) td.classList.add('costs');
      tr.append(td);
    }
    els.bdRows.append(tr);
  }
  els.reportBd.hidden = false;
}

const fmtQ = (q) => (q && Number.isFinite(q.psnr_y) ? `${q.psnr_y.toFixed(2)} dB${typeof q.vmaf === 'number' ? ` · VMAF ${q.vmaf.toFixed(1)}` : ''}` : '–');

/** The per-title ladder's decision (ladder.json, src/encoder/ladder): one row per rung, and the probe's curves. */
async function showLadder(out) {
  els.ladderRows.replaceChildren();
  els.ladderChart.hidden = true;
  els.ladderCard.hidden = true;
  if (!out.ladder) return;
  let report;
  try {
    const res = await fetch(out.ladder);
    if (!res.ok) return;
    report = await res.json();
  } catch {
    return;
  }
  const measured = new Map((report.measured ?? []).map((m) => [m.rendition, m]));
  for (const r of report.rungs ?? []) {
    const m = measured.get(r.rendition);
    const tr = el('tr');
    tr.title = r.why;
    const kind = r.candidate.kind === 'lr' ? 'neural' : r.candidate.kind === 'src' ? 'source' : 'conventional';
    for (const text of [r.rendition, `${r.candidate.width}x${r.candidate.height}`, kind, `${Math.round(r.target / 1000)} kb/s`, fmtQ(r.predicted), m ? `${fmtQ(m)} at ${Math.round(m.kbps)} kb/s` : '–']) tr.append(el('td', '', text));
    els.ladderRows.append(tr);
  }
  els.ladderWhat.textContent = `chosen by ${report.metric === 'vmaf' ? 'VMAF' : 'PSNR-Y'} from ${report.candidates?.length ?? 0} candidates, probed on ${report.probe?.windows?.length ?? 0} windows (${((report.probe?.share ?? 0) * 100).toFixed(0)} % of the title); hover a row for why`;
  if (out.ladderChart) {
    els.ladderChart.src = out.ladderChart;
    els.ladderChart.hidden = false;
  }
  els.ladderCard.hidden = false;
}

function showReport(out) {
  els.reportLinks.replaceChildren();
  els.chart.hidden = true;
  els.chart.removeAttribute('src');
  showBd(out.bd);
  if (!out.report && !out.chart && !out.reportHtml) {
    els.reportCard.hidden = true;
    return;
  }
  if (out.chart) {
    els.chart.src = out.chart;
    els.chart.hidden = false;
  }
  const links = [];
  if (out.reportHtml) links.push(['full report', out.reportHtml]);
  if (out.report) links.push(['report.json', out.report]);
  links.forEach(([text, href], k) => {
    const a = el('a', '', text);
    a.href = href;
    a.target = '_blank';
    a.rel = 'noopener';
    if (k > 0) els.reportLinks.append(' · ');
    els.reportLinks.append(a);
  });
  els.reportCard.hidden = false;
}

// ---- playback --------------------------------------------------------------------------

function teardown() {
  if (!session) return;
  session.stopDraw?.();
  session.stopGap?.();
  clearInterval(session.statsTimer);
  try { session.up?.destroy(); } catch { /* a broken plugin must not block switching */ }
  session.hls?.destroy();
  els.video.removeAttribute('src');
  els.video.load();
  session = null;
}

function tryPlay() {
  els.video.play().catch(() => { /* autoplay refused: the Play button still works */ });
}

function loadOutput(out) {
  teardown();
  clearNotices();
  showReport(out);
  void showLadder(out);
  if (playerProblem) notice(playerProblem);
  const video = els.video;
  const Hls = window.Hls;

  if (!Hls || !Hls.isSupported()) {
    els.stage.dataset.mode = 'plain';
    $('split-wrap').hidden = true;
    if (video.canPlayType('application/vnd.apple.mpegurl')) {
      notice('hls.js is unavailable here; using the browser’s own HLS without neural upscaling.');
      video.src = out.master;
      session = {};
      setState('plain');
      tryPlay();
    } else {
      notice('This browser cannot play HLS: hls.js did not load and there is no native support.');
      setState('error');
    }
    return;
  }

  const hls = new Hls({ enableWorker: true });
  session = { hls, scale: 1 };
  const s = session;
  // the rendition buttons switch at once, which can leave the playhead before a hole hls.js
  // does not cross (see gap.js)
  s.gapSkips = [];
  s.stopGap = startGapGuard(video, { onSkip: (from, to) => s.gapSkips.push({ from, to }) });

  let up = null;
  if (HcdUpscaler) {
    try {
      up = new HcdUpscaler({
        hls, video, canvas: els.neural,
        backend: els.backendSelect.value,
        fallback: 'bilinear',
        wasmPaths: ORT_PATH,
      });
    } catch (e) {
      notice(`The neural upscaler failed to start (${e instanceof Error ? e.message : e}); playing the plain video.`);
    }
  }
  s.up = up;
  els.stage.dataset.mode = up ? 'split' : 'plain';
  $('split-wrap').hidden = !up;
  // For the console and for tests: the running hls.js, plugin and bilinear side.
  window.hcdDemo = s;

  if (up) {
    up.on('stats', (_event, stats) => showStats(stats));
    up.on('backend', (_event, b) => { $('stats-backend').textContent = describeEvent(b); });
    up.on('fallback', (_event, f) => notice(`Upscaler fallback: ${describeEvent(f)}.`));
    s.statsTimer = setInterval(() => showStats(up.stats), 500);
    s.stopDraw = startBilinear(video, els.bilinear, () => s.scale, () => up.lastDraw);
  } else {
    $('stats-mode').textContent = 'plain video';
  }

  hls.on(Hls.Events.MANIFEST_PARSED, () => {
    // The demo is about the LR renditions: start on the best one (served from localhost, ABR
    // would always climb to a source rendition). ?level=auto leaves the choice to hls.js.
    if (up && params.get('level') !== 'auto') {
      const lr = hls.levels.map((l, i) => ({ l, i })).filter(({ l }) => upscaleOf(l) > 1).sort((a, b) => b.l.bitrate - a.l.bitrate)[0];
      if (lr) hls.currentLevel = lr.i;
    }
    renderLevels(hls);
    setState(up ? 'ready' : 'plain');
    tryPlay();
  });
  hls.on(Hls.Events.LEVEL_SWITCHED, (_ev, data) => {
    s.scale = upscaleOf(hls.levels[data.level]);
    markLevels(hls);
  });
  let recovered = false;
  hls.on(Hls.Events.ERROR, (_ev, data) => {
    if (!data.fatal) return;
    // One media-error recovery is standard hls.js practice; anything more is reported.
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR && !recovered) {
      recovered = true;
      hls.recoverMediaError();
      return;
    }
    notice(`Playback error: ${data.details}.`);
    setState('error');
  });
  hls.loadSource(out.master);
  hls.attachMedia(video);
}

function setupTransport() {
  const v = els.video;
  els.play.addEventListener('click', () => (v.paused ? tryPlay() : v.pause()));
  // the stage holds the video and both canvases, so full screen keeps the split view
  $('fullscreen').addEventListener('click', () => {
    const up = session?.up;
    (up?.requestFullscreen ? up.requestFullscreen() : els.stage.requestFullscreen()).catch((e) => notice(`Full screen refused: ${e.message}.`));
  });
  v.addEventListener('play', () => { els.play.textContent = 'Pause'; });
  v.addEventListener('pause', () => { els.play.textContent = 'Play'; });
  v.addEventListener('timeupdate', () => {
    const t = Math.floor(v.currentTime);
    els.time.textContent = `${Math.floor(t / 60)}:${String(t % 60).padStart(2, '0')}`;
  });
}

async function main() {
  setState('loading');
  setupSplit();
  setupTransport();
  const backend = params.get('backend');
  if (backend && [...els.backendSelect.options].some((o) => o.value === backend)) els.backendSelect.value = backend;

  let outputs;
  try {
    [outputs] = await Promise.all([fetchOutputs(), loadPlayer()]);
  } catch (e) {
    notice(`Could not list outputs: ${e instanceof Error ? e.message : e}.`);
    setState('error');
    return;
  }
  if (outputs.length === 0) {
    els.outputSelect.replaceChildren(el('option', '', 'none'));
    notice('No encoded outputs in the served folder.');
    setState('error');
    return;
  }
  els.outputSelect.replaceChildren(...outputs.map((o) => {
    const opt = el('option', '', o.name);
    opt.value = o.name;
    return opt;
  }));
  els.outputSelect.disabled = outputs.length < 2;
  const wanted = outputs.find((o) => o.name === params.get('output')) ?? outputs[0];
  els.outputSelect.value = wanted.name;
  const byName = () => outputs.find((o) => o.name === els.outputSelect.value) ?? outputs[0];
  els.outputSelect.addEventListener('change', () => loadOutput(byName()));
  els.backendSelect.addEventListener('change', () => loadOutput(byName()));
  loadOutput(wanted);
}

main();
