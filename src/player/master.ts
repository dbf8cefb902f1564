import { parseMasterPlaylist, type MasterPlaylist } from '../shared/hls.js';

/** The master playlist at `url` (absolute), parsed; throws why it cannot be read. */
export async function fetchMaster(url: string): Promise<MasterPlaylist> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`cannot fetch the master playlist ${url}: ${(e as Error).message}`);
  }
  if (!res.ok) throw new Error(`cannot fetch the master playlist ${url}: HTTP ${res.status}`);
  return parseMasterPlaylist(await res.text());
}
