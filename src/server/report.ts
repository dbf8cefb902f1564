import { promises as fsp } from 'node:fs';

/** One pipeline's headline figures from an `hcd compare` report.json. */
export interface HeadlineRow {
  id: string;
  label: string;
  /** BD-rate (%) against the best of the conventional pipelines at each quality; null: no overlap. */
  vsHull: number | null;
  /** The same over the pipeline's low-bitrate range (null when report.json has no bd_rate_vs_hull_low). */
  vsHullLow: number | null;
  /** BD-rate (%) against A, the source resolution. */
  vsSource: number | null;
  /** BD-PSNR (dB) against A. */
  bdPsnr: number | null;
}

/** What the demo page shows next to the RD chart; `/api/outputs` carries it as `bd`. */
export interface ReportHeadline {
  /** The quality axis the BD-rates integrate over (psnr_y). */
  metric: string;
  /** The pipelines the "hull" is the best of, e.g. ["A", "B"]. */
  hullAnchor: string[];
  rows: HeadlineRow[];
  /** What was measured: file name, seconds, size. */
  input: { name: string; seconds: number | null; width: number | null; height: number | null };
  created: string | null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const table = (v: unknown): Record<string, unknown> => (isObject(v) ? v : {});

/**
 * The BD-rate headline of a report.json, or null when the file is not a report with BD-rates
 * (half-written by hand, from an older tool): the page then shows the chart and links only.
 * Read on every `/api/outputs` request, so a compare that finishes while the server runs shows up.
 */
export async function readHeadline(file: string): Promise<ReportHeadline | null> {
  let report: unknown;
  try {
    report = JSON.parse(await fsp.readFile(file, 'utf8'));
  } catch {
    return null;
  }
  if (!isObject(report) || !Array.isArray(report.pipelines) || !isObject(report.bd_rate_vs_hull)) return null;
  const hull = table(report.bd_rate_vs_hull);
  const hullLow = table(report.bd_rate_vs_hull_low);
  const source = table(report.bd_rate_vs_source);
  const psnr = table(report.bd_psnr_vs_source);
  const bd = table(report.bd);
  const hullAnchor = Array.isArray(bd.hull_anchor) ? bd.hull_anchor.filter((x): x is string => typeof x === 'string') : [];
  const rows: HeadlineRow[] = [];
  for (const p of report.pipelines) {
    if (!isObject(p) || typeof p.id !== 'string') continue;
    // A is the reference of both tables (0 against itself, >= 0 against its own envelope)
    if (p.id === 'A') continue;
    rows.push({ id: p.id, label: typeof p.label === 'string' ? p.label : p.id, vsHull: num(hull[p.id]), vsHullLow: num(hullLow[p.id]), vsSource: num(source[p.id]), bdPsnr: num(psnr[p.id]) });
  }
  const input = table(report.input);
  const path = typeof input.path === 'string' ? input.path : '';
  return {
    metric: typeof bd.metric === 'string' ? bd.metric : 'psnr_y',
    hullAnchor,
    rows,
    input: { name: path.split(/[\\/]/).pop() ?? '', seconds: num(input.seconds), width: num(input.width), height: num(input.height) },
    created: typeof report.created === 'string' ? report.created : null,
  };
}
