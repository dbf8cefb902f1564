import * as vega from 'vega';
import * as vl from 'vega-lite';
import { bestEnvelope } from '../shared/bdrate.js';
import { curveOf } from './bd.js';
import type { CompareReport } from './types.js';

type ChartMetric = 'psnr_y' | 'ssim_y' | 'vmaf';
const AXIS: Record<ChartMetric, string> = { psnr_y: 'PSNR-Y (dB)', ssim_y: 'SSIM-Y', vmaf: 'VMAF (mean over frames)' };

/** An RD chart (quality against bitrate on a log axis) rendered headless to SVG by vega-lite. */
export async function rdChartSvg(report: CompareReport, metric: ChartMetric, title: string): Promise<string> {
  const labels = new Map(report.pipelines.map((p) => [p.id, `${p.id}: ${p.label}`]));
  const values: { series: string; kbps: number; q: number; crf: number | null }[] = [];
  for (const r of report.points) {
    const q = r[metric];
    if (q !== null) values.push({ series: labels.get(r.pipeline) ?? r.pipeline, kbps: r.bitrate_kbps, q, crf: r.crf });
  }
  const hullIds = report.bd.hull_anchor;
  if (hullIds.length > 1) {
    const curves = hullIds.map((id) => curveOf(report.points, id, metric));
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
      y: { field: 'q', type: 'quantitative', scale: { zero: false }, title: AXIS[metric] },
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

