/** report.html: the BD tables, the RD charts, the measured points and the crops, in one page. */
import { rdChartSvg } from './chart.js';
import type { CompareReport, OtherMetricBd } from './types.js';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (v: number | null | undefined, d = 2): string => (v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(d));
const row = (cells: string[]): string => `<tr>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
const head = (cells: string[]): string => `<tr>${cells.map((c) => `<th>${c}</th>`).join('')}</tr>`;

/** The low-bitrate range of a pipeline, and how much of it the hull only extrapolates. */
function lowNote(report: CompareReport, id: string): string {
  const r = report.bd_low_range[id];
  if (!r) return '';
  const gap = report.hull_gap_share[id]?.low;
  const g = gap ? `; hull extrapolated over ${Math.round(gap * 100)} %` : '';
  return ` <small>(${r.kbps[0].toFixed(0)}-${r.kbps[1].toFixed(0)} kbit/s${g})</small>`;
}

function hullName(report: CompareReport): string {
  const missing = report.bd.hull_missing ?? [];
  return `best of ${esc(report.bd.hull_anchor.join('+'))}${missing.length ? ` (${esc(missing.join(', '))} not run)` : ''}`;
}

function psnrTable(report: CompareReport): string {
  const o = report.bd_rate_other_metrics;
  const rows = report.pipelines.map((p) =>
    row([esc(p.id), esc(p.label), `${p.lr_width}x${p.lr_height}`, fmt(report.bd_rate_vs_source[p.id]), fmt(report.bd_psnr_vs_source[p.id], 3), fmt(report.bd_rate_vs_hull[p.id]), `${fmt(report.bd_rate_vs_hull_low[p.id])}${lowNote(report, p.id)}`, fmt(o.psnr_yuv.vs_source[p.id]), fmt(o.ssim_y.vs_source[p.id])]),
  );
  return `<h2>BD-rate (PSNR-Y, pchip; negative = fewer bits for the same quality)</h2>
<table>${head(['id', 'pipeline', 'encoded size', 'BD-rate vs A (%)', 'BD-PSNR vs A (dB)', `BD-rate vs ${hullName(report)} (%)`, 'the same, low-bitrate range (%)', 'BD-rate vs A, PSNR-YUV (%)', 'BD-rate vs A, SSIM-Y (%)'])}
${rows.join('\n')}</table>`;
}

function vmafTable(report: CompareReport, v: OtherMetricBd): string {
  const rows = report.pipelines.map((p) => {
    const r = v.low_range[p.id];
    const range = r ? ` <small>(VMAF ${r[0].toFixed(1)}-${r[1].toFixed(1)})</small>` : '';
    return row([esc(p.id), esc(p.label), fmt(v.vs_source[p.id]), fmt(v.vs_hull[p.id]), `${fmt(v.vs_hull_low[p.id])}${range}`]);
  });
  return `<h2>BD-rate (VMAF, ${esc(report.vmaf.model ?? '')})</h2>
<table>${head(['id', 'pipeline', 'BD-rate vs A (%)', `BD-rate vs ${hullName(report)} (%)`, 'the same, low-bitrate range (%)'])}
${rows.join('\n')}</table>`;
}

function pointsTable(report: CompareReport): string {
  const vmaf = (x: number | null): string => (x === null ? 'n/a' : fmt(x));
  const rows = report.points.map((r) => row([esc(r.pipeline), String(r.crf), fmt(r.bitrate_kbps, 1), fmt(r.psnr_y), fmt(r.psnr_yuv), fmt(r.ssim_y, 4), vmaf(r.vmaf), vmaf(r.vmaf_p5 ?? null), `<a href="${esc(r.file)}">${esc(r.file)}</a>`]));
  return `<h2>RD points</h2>
<table>${head(['id', 'CRF', 'kbit/s', 'PSNR-Y', 'PSNR-YUV', 'SSIM-Y', 'VMAF', 'VMAF p5', 'file'])}
${rows.join('\n')}</table>`;
}

function cropsSection(report: CompareReport): string {
  const c = report.crops;
  if (!c) return '';
  const figure = ([id, f]: [string, string]): string =>
    `<figure><img src="${esc(f)}" width="${c.width * 2}" height="${c.height * 2}" alt="${esc(id)}"><figcaption>${esc(id)}${id === 'source' ? '' : ` — CRF ${c.renditions[id].crf}, ${fmt(c.renditions[id].bitrate_kbps, 1)} kbit/s; PSNR-Y ${fmt(c.psnr_y[id])} dB, SSIM-Y ${fmt(c.ssim_y[id], 4)} (BT.601, this crop)`}</figcaption></figure>`;
  return `<h2>Crops at about ${fmt(c.target_kbps, 0)} kbit/s, frame ${c.frame} (${c.width}x${c.height} at ${c.x},${c.y}, shown 2x)</h2><div class="crops">${Object.entries(c.files).map(figure).join('')}</div>`;
}

function vmafLine(report: CompareReport): string {
  const v = report.vmaf;
  if (!v.available) return `VMAF: not measured — ${esc(v.reason ?? '')}.`;
  return `VMAF: ${esc(v.model ?? '')} (from ${esc(v.model_from ?? '?')}, libvmaf ${esc(v.libvmaf ?? '?')}); ${esc(v.pooling ?? '')}.`;
}

export async function toHtml(report: CompareReport): Promise<string> {
  const charts = [await rdChartSvg(report, 'psnr_y', 'Rate-distortion, PSNR-Y at source size'), await rdChartSvg(report, 'ssim_y', 'Rate-distortion, SSIM-Y at source size')];
  const v = report.bd_rate_other_metrics.vmaf;
  if (v) charts.push(await rdChartSvg(report, 'vmaf', 'Rate-distortion, VMAF at source size'));
  const between = Object.entries(report.bd_rate_between ?? {});
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>hcd compare — ${esc(report.input.path)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:nth-child(2){text-align:left}.charts{display:flex;flex-wrap:wrap;gap:1em}.crops{display:flex;flex-wrap:wrap;gap:1em}.crops img{image-rendering:pixelated}figure{margin:0}code{background:#f4f4f4}</style></head>
<body>
<h1>hcd compare</h1>
<p><code>${esc(report.input.path)}</code>: ${report.input.width}x${report.input.height}, ${report.input.frames} frames at ${esc(report.input.fps)} fps (${report.input.seconds.toFixed(2)} s).
x264 ${esc(String(report.x264.preset))}, keyint ${report.x264.keyint}, ${report.x264.threads} threads. Quality measured ${esc(report.metrics.where)}.
${vmafLine(report)}</p>
${psnrTable(report)}
${v ? vmafTable(report, v) : ''}
${between.length ? `<p>Direct BD-rate (PSNR-Y), each over the pair's common range: ${between.map(([k, x]) => `${esc(k)} ${fmt(x)} %`).join('; ')}.</p>` : ''}
<div class="charts">${charts.join('')}</div>
${pointsTable(report)}
${cropsSection(report)}
</body></html>
`;
}
