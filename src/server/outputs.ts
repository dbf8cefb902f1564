import { existsSync, promises as fsp, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { HcdError } from '../shared/errors.js';
import { resolveInside } from './files.js';
import { readHeadline, type ReportHeadline } from './report.js';

/** One encoded output as `/api/outputs` lists it; every path is a URL on this server. */
export interface OutputInfo {
  name: string;
  master: string;
  report?: string;
  reportHtml?: string;
  chart?: string;
  /** The BD-rate headline of compare/report.json, when it has one. */
  bd?: ReportHeadline;
  /** The per-title ladder's decision (ladder.json) and its picture, when the encode chose its ladder. */
  ladder?: string;
  ladderChart?: string;
}

/**
 * What `hcd serve DIR` was pointed at: DIR itself is one output (it has master.m3u8), or DIR
 * holds outputs as subfolders. Either way media URLs are `/media/<name>/...`.
 */
export type Layout =
  | { kind: 'single'; rootReal: string; name: string }
  | { kind: 'folder'; rootReal: string };

export function detectLayout(root: string): Layout {
  let rootReal: string;
  try {
    rootReal = realpathSync(root);
  } catch {
    throw new HcdError(`serve: ${root} does not exist`);
  }
  if (!statSync(rootReal).isDirectory()) throw new HcdError(`serve: ${root} is not a folder`);
  if (existsSync(path.join(rootReal, 'master.m3u8'))) {
    return { kind: 'single', rootReal, name: path.basename(rootReal) };
  }
  return { kind: 'folder', rootReal };
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await fsp.stat(p)).isFile();
  } catch {
    return false;
  }
}

/** A real (not symlinked) folder with a master playlist: the test for being listed and served. */
async function isOutputFolder(dir: string): Promise<boolean> {
  try {
    if (!(await fsp.lstat(dir)).isDirectory()) return false;
  } catch {
    return false;
  }
  return isFile(path.join(dir, 'master.m3u8'));
}

/**
 * The folder on disk that `/media/<name>/` maps to, or null unless it is an output that
 * `/api/outputs` lists right now (dot-folders are scratch space and never listed).
 */
export async function outputDir(layout: Layout, name: string): Promise<string | null> {
  if (layout.kind === 'single') {
    return name === layout.name && (await isFile(path.join(layout.rootReal, 'master.m3u8'))) ? layout.rootReal : null;
  }
  if (name.startsWith('.') || name.includes('/') || name.includes(path.sep)) return null;
  const dir = path.join(layout.rootReal, name);
  return (await isOutputFolder(dir)) ? dir : null;
}

async function describe(rootReal: string, dir: string, name: string): Promise<OutputInfo | null> {
  if (!(await isFile(path.join(dir, 'master.m3u8')))) return null;
  const base = `/media/${encodeURIComponent(name)}`;
  const info: OutputInfo = { name, master: `${base}/master.m3u8` };
  if (await isFile(path.join(dir, 'compare', 'report.json'))) {
    info.report = `${base}/compare/report.json`;
    // read here only what /media would serve: a report.json symlinked out of DIR stays unread
    const found = await resolveInside(rootReal, path.relative(rootReal, path.join(dir, 'compare', 'report.json')).split(path.sep));
    const bd = found.kind === 'file' ? await readHeadline(found.file) : null;
    if (bd) info.bd = bd;
  }
  if (await isFile(path.join(dir, 'compare', 'report.html'))) info.reportHtml = `${base}/compare/report.html`;
  if (await isFile(path.join(dir, 'compare', 'rd.svg'))) info.chart = `${base}/compare/rd.svg`;
  if (await isFile(path.join(dir, 'ladder.json'))) info.ladder = `${base}/ladder.json`;
  if (await isFile(path.join(dir, 'ladder.svg'))) info.ladderChart = `${base}/ladder.svg`;
  return info;
}

/** Read on every request, so outputs that appear while the server runs are listed. */
export async function listOutputs(layout: Layout): Promise<OutputInfo[]> {
  if (layout.kind === 'single') {
    const one = await describe(layout.rootReal, layout.rootReal, layout.name);
    return one ? [one] : [];
  }
  const entries = await fsp.readdir(layout.rootReal, { withFileTypes: true });
  const names = entries
    // Real subfolders only: a symlinked one could lead out of DIR, and dot-folders are scratch space.
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
  const found = await Promise.all(names.map((n) => describe(layout.rootReal, path.join(layout.rootReal, n), n)));
  return found.filter((o): o is OutputInfo => o !== null);
}
