import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { rdChartSvg, type RdValue } from '../ladder/chart.js';
import { qualityAt, type Prediction } from '../ladder/choose.js';
import type { LadderReport, MeasuredRung } from '../ladder/report.js';
import { measureShown } from '../ladder/shown.js';
import { fileArg, rawRgbInput } from '../media/ffmpeg.js';
import { framesAhead } from './frames.js';
import { writeAtomic } from '../media/files.js';
import { resolveVmaf } from '../media/vmaf.js';
import { PairNetwork } from '../pairs/network.js';
import { writeLadder } from './ladder.js';
import { initName, segmentName } from './names.js';
import type { ClaimedJob } from './open.js';
import { videoSegments } from './segments.js';
import type { Rendition } from './state.js';

export const LADDER_CHART = 'ladder.svg';

/** The rendition as one file, init segment then media segments, as a player plays it. */
function wholeRendition(j: ClaimedJob, r: Rendition): string {
  const file = join(j.work, `measure-${r.name}.mp4`);
  const parts = [readFileSync(join(j.out, r.name, initName(j.tag))), ...[...j.state.chunks].sort((a, b) => a.index - b.index).map((c) => readFileSync(join(j.out, r.name, segmentName(j.tag, c.index))))];
  writeFileSync(file, Buffer.concat(parts));
  return file;
}

/**
 * The source's frames exactly as the encoder read them (framesAhead: crop, reading rate, held
 * last frame), as raw RGB in a work file: the reference every rung is measured against. Decoding
 * the input again inside the measurement would have to repeat the reading rate's rounding,
 * which a source whose video starts after 0 s (Sintel's at 33 ms) makes differ by a frame.
 */
async function writeReference(j: ClaimedJob, file: string): Promise<void> {
  const out = createWriteStream(file);
  try {
    for await (const f of framesAhead(j)) if (!out.write(f)) await once(out, 'drain');
  } finally {
    out.end();
    await once(out, 'close');
  }
}

const sizeOf = (j: ClaimedJob, r: Rendition) => (r.kind === 'lr' ? j.lr : (r.size ?? j.geo));

/**
 * Every shipped rung measured on the whole encode as the viewer sees it, beside the probe's
 * prediction for it where an auto ladder has one (its check of itself).
 */
export async function measureRungs(j: ClaimedJob, report: LadderReport | undefined): Promise<MeasuredRung[]> {
  const vmaf = (await resolveVmaf(j.cfg.auto.vmafModel)).model;
  const up = j.renditions.some((r) => r.kind === 'lr') ? await PairNetwork.up(j.pair, '420', { ep: j.cfg.ep }) : undefined;
  const seconds = (j.state.totalFrames * j.src.fpsDen) / j.src.fpsNum;
  const out: MeasuredRung[] = [];
  const rate = `${j.src.fpsNum}/${j.src.fpsDen}`;
  const reference = join(j.work, 'measure-reference.rgb');
  const referenceInput = rawRgbInput(j.geo.width, j.geo.height, rate).slice(0, -1).concat(fileArg(reference));
  try {
    await writeReference(j, reference);
    for (const r of j.renditions) {
      const file = wholeRendition(j, r);
      try {
        const q = await measureShown(r.kind, file, sizeOf(j, r), { reference, referenceInput, referenceFilter: 'null', hr: j.geo, rate, up, vmaf });
        if (q.frames !== j.state.totalFrames) throw new Error(`measuring ${r.name}: ${q.frames} frames compared, the encode has ${j.state.totalFrames}`);
        const bytes = videoSegments(j, r.name).reduce((a, s) => a + s.bytes, 0);
        const rung = report?.rungs.find((x) => x.rendition === r.name);
        const predicted = rung?.predicted ?? null;
        const kbps = (bytes * 8) / seconds / 1000;
        const curve = report?.candidates.find((c) => c.id === rung?.candidate.id)?.curve ?? [];
        const atRate = qualityAt(curve, kbps) ?? null;
        const diff = (p: Prediction) => ({ psnr_y: q.psnr_y - p.psnr_y, vmaf: q.vmaf === null || p.vmaf === null ? null : q.vmaf - p.vmaf });
        out.push({ rendition: r.name, kbps, psnr_y: q.psnr_y, vmaf: q.vmaf, predicted, error: predicted && diff(predicted), predictedAtRate: atRate, errorAtRate: atRate && diff(atRate) });
      } finally {
        await rm(file, { force: true });
      }
    }
  } finally {
    await up?.close();
    await rm(reference, { force: true });
  }
  return out;
}

/** The candidates' curves, the chosen rungs as predicted and the shipped rungs as measured, as one picture. */
export async function ladderChart(report: LadderReport): Promise<string> {
  const of = report.probe.windows.length;
  const stopped = (c: LadderReport['candidates'][number]) => (c.windows ? `, ${c.windows.length} of ${of} windows: stopped` : '');
  const values: RdValue[] = report.candidates.flatMap((c) => c.curve.map((p) => ({ series: `${c.id} (${c.width}x${c.height}${c.kind === 'lr' ? ', neural' : ''}${stopped(c)})`, kbps: p.kbps, q: p.psnr_y, crf: p.crf })));
  for (const m of report.measured ?? []) values.push({ series: 'shipped rungs, measured', kbps: m.kbps, q: m.psnr_y, crf: 0 });
  const marks = report.rungs.map((r) => ({ kbps: r.target / 1000, q: r.predicted.psnr_y, label: r.rendition }));
  return rdChartSvg(values, { title: 'per-title ladder: probe curves (PSNR-Y), chosen rungs (diamonds)', axis: 'PSNR-Y (dB), probe windows', dashed: (s) => s.startsWith('shipped'), marks });
}

const noteOf = (m: MeasuredRung): string =>
  `  ${m.rendition}: measured ${m.psnr_y.toFixed(2)} dB PSNR-Y${m.vmaf === null ? '' : `, VMAF ${m.vmaf.toFixed(2)}`} at ${m.kbps.toFixed(0)} kb/s` +
  (m.predicted ? `; predicted ${m.predicted.psnr_y.toFixed(2)} dB at the target${m.predictedAtRate ? `, ${m.predictedAtRate.psnr_y.toFixed(2)} dB at this rate` : ''}` : '');

/**
 * The shipped rungs' quality, where it is wanted (`measure`): an auto ladder's goes into
 * ladder.json beside the prediction (once: a finished encode's report is left as it is) and its
 * picture into ladder.svg.
 */
export async function finishLadder(j: ClaimedJob, onNote?: (line: string) => void): Promise<MeasuredRung[] | undefined> {
  const report = j.ladderReport;
  if (!j.cfg.measure) return report?.measured;
  const measured = report?.measured ?? (await measureRungs(j, report));
  if (!report?.measured) for (const m of measured) onNote?.(noteOf(m));
  if (!report) return measured;
  if (!report.measured) {
    report.measured = measured;
    writeLadder(j.out, report);
  }
  writeAtomic(join(j.out, LADDER_CHART), await ladderChart(report));
  return measured;
}
