/**
 * BD-rate of the same pipelines between two `hcd compare` reports (e.g. two pairs, or before and
 * after a change), over each pipeline's common quality range. Not run by `npm run bench`.
 *
 *   node --import tsx bench/_bd-between.ts OLD/report.json NEW/report.json [C,D,E]
 */
import { readFileSync } from 'node:fs';
import { bdPsnr, bdRate, type RdPoint } from '../src/shared/bdrate.js';

interface Row {
  pipeline: string;
  bitrate_kbps: number;
  psnr_y: number;
}
const [oldFile, newFile, ids = 'C,D,E'] = process.argv.slice(2);
if (!oldFile || !newFile) {
  console.error('usage: node --import tsx bench/_bd-between.ts OLD/report.json NEW/report.json [C,D,E]');
  process.exit(2);
}
const curve = (file: string, id: string): RdPoint[] =>
  (JSON.parse(readFileSync(file, 'utf8')) as { points: Row[] }).points.filter((p) => p.pipeline === id).map((p) => ({ bitrate: p.bitrate_kbps, psnr: p.psnr_y }));
for (const id of ids.split(',')) {
  const a = curve(oldFile, id);
  const b = curve(newFile, id);
  if (a.length < 2 || b.length < 2) {
    console.log(`${id}: not in both reports`);
    continue;
  }
  console.log(`${id}: new vs old BD-rate ${bdRate(a, b).toFixed(1)} %, BD-PSNR ${bdPsnr(a, b).toFixed(3)} dB`);
}
