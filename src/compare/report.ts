import { join } from 'node:path';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { bestEnvelope } from '../shared/bdrate.js';
import { writeFilesAtomic } from '../encoder/media/files.js';
import type { CompareReport, RdRow } from './types.js';

const CSV_COLUMNS: (keyof RdRow)[] = ['pipeline', 'crf', 'bytes', 'file_bytes', 'bitrate_kbps', 'width', 'height', 'psnr_y', 'psnr_u', 'psnr_v', 'psnr_yuv', 'ssim_y', 'ssim_all', 'vmaf', 'file'];

/** The low-bitrate range of a pipeline, and how much of it the hull only extrapolates. */
function lowNote(report: CompareReport, id: string): string {
  const r = report.bd_low_range[id];
  if (!r) return '';
  const gap = report.hull_gap_share[id]?.low;
  const g = gap ? `; hull extrapolated over ${Math.round(gap * 100)} %` : '';
  return ` <small>(${r.kbps[0].toFixed(0)}-${r.kbps[1].toFixed(0)} kbit/s${g})</small>`;
}

export function toCsv(rows: RdRow[]): string {
  const cell = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'number' ? String(Number(v.toFixed(6))) : String(v));
  return [CSV_COLUMNS.join(','), ...rows.map((r) => CSV_COLUMNS.map((c) => cell(r[c])).join(','))].join('\n') + '\n';
}

/** JSON with NaN/Infinity as null (JSON has neither). */
export function toJson(report: CompareReport): string {
  return JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
}

/** An RD chart (quality against bitrate on a log axis) rendered headless to SVG by vega-lite. */
export async function rdChartSvg(report: CompareReport, metric: 'psnr_y' | 'ssim_y', title: string): Promise<string> {
  const labels = new Map(report.pipelines.map((p) => [p.id, `${p.id}: ${p.label}`]));
  const values: { series: string; kbps: number; q: number; crf: number | null }[] = report.points.map((r) => ({ series: labels.get(r.pipeline) ?? r.pipeline, kbps: r.bitrate_kbps, q: r[metric], crf: r.crf }));
  const hullIds = report.bd.hull_anchor;
  if (hullIds.length > 1) {
    const curves = hullIds.map((id) => report.points.filter((r) => r.pipeline === id).map((r) => ({ bitrate: r.bitrate_kbps, psnr: r[metric] })));
    try {
      for (const h of bestEnvelope(curves)) values.push({ series: `best of ${hullIds.join('+')}`, kbps: h.bitrate, q: h.psnr, crf: null });
    } catch {
      // curves that cannot be interpolated (repeated quality values): no envelope line
    }
  }
  const spec: vl.TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 520,
    height: 320,
    data: { values },
    encoding: {
      x: { field: 'kbps', type: 'quantitative', scale: { type: 'log' }, title: 'bitrate (kbit/s, log scale)' },
      y: { field: 'q', type: 'quantitative', scale: { zero: false }, title: metric === 'psnr_y' ? 'PSNR-Y (dB)' : 'SSIM-Y' },
      color: { field: 'series', type: 'nominal', title: null, legend: { labelLimit: 400, orient: 'bottom', direction: 'vertical' } },
    },
    layer: [
      {
        mark: { type: 'line' },
        encoding: {
          strokeDash: { condition: { test: "indexof(datum.series, 'best of') === 0", value: [4, 3] }, value: [1, 0] },
          order: { field: 'kbps', type: 'quantitative' },
        },
      },
      {
        // markers on the measured renditions only, not on the sampled envelope
        transform: [{ filter: 'datum.crf !== null' }],
        mark: { type: 'point', filled: true, size: 36 },
        encoding: { tooltip: [{ field: 'series' }, { field: 'crf' }, { field: 'kbps', format: '.1f' }, { field: 'q', format: '.4f' }] },
      },
    ],
  };
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (v: number | null | undefined, d = 2): string => (v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(d));

export async function toHtml(report: CompareReport): Promise<string> {
  const psnrSvg = await rdChartSvg(report, 'psnr_y', 'Rate-distortion, PSNR-Y at source size');
  const ssimSvg = await rdChartSvg(report, 'ssim_y', 'Rate-distortion, SSIM-Y at source size');
  const bdRows = report.pipelines
    .map((p) => `<tr><td>${esc(p.id)}</td><td>${esc(p.label)}</td><td>${p.lr_width}x${p.lr_height}</td><td>${fmt(report.bd_rate_vs_source[p.id])}</td><td>${fmt(report.bd_psnr_vs_source[p.id], 3)}</td><td>${fmt(report.bd_rate_vs_hull[p.id])}</td><td>${fmt(report.bd_rate_vs_hull_low[p.id])}${lowNote(report, p.id)}</td><td>${fmt(report.bd_rate_other_metrics.psnr_yuv.vs_source[p.id])}</td><td>${fmt(report.bd_rate_other_metrics.ssim_y.vs_source[p.id])}</td></tr>`)
    .join('\n');
  const pointRows = report.points
    .map((r) => `<tr><td>${esc(r.pipeline)}</td><td>${r.crf}</td><td>${fmt(r.bitrate_kbps, 1)}</td><td>${fmt(r.psnr_y)}</td><td>${fmt(r.psnr_yuv)}</td><td>${fmt(r.ssim_y, 4)}</td><td>${r.vmaf === null ? 'n/a' : fmt(r.vmaf)}</td><td><a href="${esc(r.file)}">${esc(r.file)}</a></td></tr>`)
    .join('\n');
  const c = report.crops;
  const crops = c
    ? `<h2>Crops at about ${fmt(c.target_kbps, 0)} kbit/s, frame ${c.frame} (${c.width}x${c.height} at ${c.x},${c.y}, shown 2x)</h2><div class="crops">` +
      Object.entries(c.files)
        .map(([id, f]) => `<figure><img src="${esc(f)}" width="${c.width * 2}" height="${c.height * 2}" alt="${esc(id)}"><figcaption>${esc(id)}${id === 'source' ? '' : ` — CRF ${c.renditions[id].crf}, ${fmt(c.renditions[id].bitrate_kbps, 1)} kbit/s; PSNR-Y ${fmt(c.psnr_y[id])} dB, SSIM-Y ${fmt(c.ssim_y[id], 4)} (BT.601, this crop)`}</figcaption></figure>`)
        .join('') +
      '</div>'
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>hcd compare — ${esc(report.input.path)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:nth-child(2){text-align:left}.charts{display:flex;flex-wrap:wrap;gap:1em}.crops{display:flex;flex-wrap:wrap;gap:1em}.crops img{image-rendering:pixelated}figure{margin:0}code{background:#f4f4f4}</style></head>
<body>
<h1>hcd compare</h1>
<p><code>${esc(report.input.path)}</code>: ${report.input.width}x${report.input.height}, ${report.input.frames} frames at ${esc(report.input.fps)} fps (${report.input.seconds.toFixed(2)} s).
x264 ${esc(String(report.x264.preset))}, keyint ${report.x264.keyint}, ${report.x264.threads} threads. Quality measured ${esc(report.metrics.where)}.
VMAF: ${report.vmaf.available ? 'measured' : `not measured — ${esc(report.vmaf.reason ?? '')}`}.</p>
<h2>BD-rate (PSNR-Y, pchip; negative = fewer bits for the same quality)</h2>
<table><tr><th>id</th><th>pipeline</th><th>encoded size</th><th>BD-rate vs A (%)</th><th>BD-PSNR vs A (dB)</th><th>BD-rate vs best of ${esc(report.bd.hull_anchor.join('+'))} (%)</th><th>the same, low-bitrate range (%)</th><th>BD-rate vs A, PSNR-YUV (%)</th><th>BD-rate vs A, SSIM-Y (%)</th></tr>
${bdRows}</table>
${Object.keys(report.bd_rate_between ?? {}).length ? `<p>Direct BD-rate, each over the pair's common range: ${Object.entries(report.bd_rate_between).map(([k, v]) => `${esc(k)} ${fmt(v)} %`).join('; ')}.</p>` : ''}
<div class="charts">${psnrSvg}${ssimSvg}</div>
<h2>RD points</h2>
<table><tr><th>id</th><th>CRF</th><th>kbit/s</th><th>PSNR-Y</th><th>PSNR-YUV</th><th>SSIM-Y</th><th>VMAF</th><th>file</th></tr>
${pointRows}</table>
${crops}
</body></html>
`;
}

/**
 * report.json, report.csv, report.html and rd.svg (the PSNR-Y chart alone, which the demo page
 * shows when this folder sits in an encoded output as compare/), written into `dir` together.
 */
export async function writeReports(dir: string, report: CompareReport): Promise<void> {
  await writeFilesAtomic([
    [join(dir, 'report.json'), toJson(report)],
    [join(dir, 'report.csv'), toCsv(report.points)],
    [join(dir, 'rd.svg'), await rdChartSvg(report, 'psnr_y', 'Rate-distortion, PSNR-Y at source size')],
    [join(dir, 'report.html'), await toHtml(report)],
  ]);
}
