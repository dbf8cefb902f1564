import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAdts, type AacTrack } from '../media/audio.js';
import { writeAtomic } from '../media/files.js';
import { startAudio } from '../job/chunks.js';
import type { JobPlan } from '../job/open.js';

/** Where the submitter leaves each audio group's one AAC track for the workers to slice. */
const trackFile = (outdir: string, name: string): string => join(outdir, '.work', 'audio', `${name}.aac`);

/** Encodes every audio group's track once, as a whole-input run does, and writes it under OUTDIR/.work. */
export async function writeTracks(j: JobPlan, signal?: AbortSignal): Promise<void> {
  const tracks = await startAudio(j, signal);
  for (const [name, t] of tracks) {
    mkdirSync(join(j.cfg.outdir, '.work', 'audio'), { recursive: true });
    writeAtomic(trackFile(j.cfg.outdir, name), t.data);
  }
}

/** The tracks writeTracks left, by audio rendition name. */
export async function readTracks(j: JobPlan): Promise<Map<string, AacTrack>> {
  const tracks = new Map<string, AacTrack>();
  for (const a of j.audio) tracks.set(a.name, parseAdts(readFileSync(trackFile(j.cfg.outdir, a.name))));
  return tracks;
}
