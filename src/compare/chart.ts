import { bestEnvelope } from '../shared/bdrate.js';
import { rdChartSvg as drawRd, type RdValue } from '../encoder/ladder/chart.js';
import { curveOf } from './bd.js';
import type { CompareReport } from './types.js';

type ChartMetric = 'psnr_y' | 'ssim_y' | 'vmaf';
const AXIS: Record<ChartMetric, string> = { psnr_y: 'PSNR-Y (dB)', ssim_y: 'SSIM-Y', vmaf: 'VMAF (mean over frames)' };

/** A comparison's RD chart: every pipeline's points, and the hull's envelope dashed. */
export async function rdChartSvg(report: CompareReport, metric: ChartMetric, title: string): Promise<string> {
  const labels = new Map(report.pipelines.map((p) => [p.id, `${p.id}: ${p.label}`]));
  const values: RdValue[] = [];
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
  return drawRd(values, { title, axis: AXIS[metric], dashed: (s) => s.startsWith('best of') });
}
