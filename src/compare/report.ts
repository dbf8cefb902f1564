import { join } from 'node:path';
import { writeFilesAtomic } from '../encoder/media/files.js';
import { rdChartSvg } from './chart.js';
import { toHtml } from './html.js';
import type { CompareReport, RdRow } from './types.js';

const CSV_COLUMNS: (keyof RdRow)[] = ['pipeline', 'crf', 'bytes', 'file_bytes', 'bitrate_kbps', 'width', 'height', 'psnr_y', 'psnr_u', 'psnr_v', 'psnr_yuv', 'ssim_y', 'ssim_all', 'vmaf', 'vmaf_p5', 'file'];

/** The pipeline's BD-rates (%), repeated on each of its rows so that one CSV holds them. */
function bdColumns(report: CompareReport): [string, Record<string, number | null>][] {
  const v = report.bd_rate_other_metrics.vmaf;
  return [
    ['bd_vs_source_psnr_y', report.bd_rate_vs_source],
    ['bd_vs_hull_psnr_y', report.bd_rate_vs_hull],
    ['bd_vs_hull_low_psnr_y', report.bd_rate_vs_hull_low],
    ['bd_vs_source_vmaf', v?.vs_source ?? {}],
    ['bd_vs_hull_vmaf', v?.vs_hull ?? {}],
    ['bd_vs_hull_low_vmaf', v?.vs_hull_low ?? {}],
  ];
}

/** One row per rendition; the BD columns are empty where a figure is undefined or VMAF was not measured. */
export function toCsv(report: CompareReport): string {
  const cell = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'number' ? String(Number(v.toFixed(6))) : String(v));
  const bd = bdColumns(report);
  const header = [...CSV_COLUMNS, ...bd.map(([name]) => name)];
  const line = (r: RdRow): string => [...CSV_COLUMNS.map((c) => cell(r[c])), ...bd.map(([, t]) => cell(t[r.pipeline]))].join(',');
  return [header.join(','), ...report.points.map(line)].join('\n') + '\n';
}

/** JSON with NaN/Infinity as null (JSON has neither). */
export function toJson(report: CompareReport): string {
  return JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
}

/**
 * report.json, report.csv, report.html and rd.svg (the PSNR-Y chart alone, which the demo page
 * shows when this folder sits in an encoded output as compare/), written into `dir` together.
 */
export async function writeReports(dir: string, report: CompareReport): Promise<void> {
  await writeFilesAtomic([
    [join(dir, 'report.json'), toJson(report)],
    [join(dir, 'report.csv'), toCsv(report)],
    [join(dir, 'rd.svg'), await rdChartSvg(report, 'psnr_y', 'Rate-distortion, PSNR-Y at source size')],
    [join(dir, 'report.html'), await toHtml(report)],
  ]);
}
