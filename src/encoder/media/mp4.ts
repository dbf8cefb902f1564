/**
 * The few ISO BMFF (MP4) boxes the packager reads in the fragmented MP4 that ffmpeg writes for
 * one chunk: ftyp + moov is the rendition's init segment (EXT-X-MAP), the moof + mdat pairs that
 * follow are the media segment, and each moof's first sample is the I-frame an I-frame playlist
 * points into.
 */

interface Box {
  type: string;
  start: number;
  /** Where the payload starts (after the size, type and any 64-bit size). */
  body: number;
  end: number;
}

/** The boxes in data[start, end), each checked to lie inside it. */
function boxes(data: Uint8Array, start = 0, end = data.length): Box[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: Box[] = [];
  for (let p = start; p < end; ) {
    if (p + 8 > end) throw new Error(`MP4 box header cut short at byte ${p}`);
    let size = view.getUint32(p);
    let body = p + 8;
    if (size === 1) {
      if (p + 16 > end) throw new Error(`MP4 box header cut short at byte ${p}`);
      size = Number(view.getBigUint64(p + 8));
      body = p + 16;
    } else if (size === 0) size = end - p;
    if (size < body - p || p + size > end) throw new Error(`bad MP4 box size ${size} at byte ${p}`);
    out.push({ type: String.fromCharCode(...data.subarray(p + 4, p + 8)), start: p, body, end: p + size });
    p += size;
  }
  return out;
}

function child(data: Uint8Array, parent: Box, type: string): Box {
  const found = boxes(data, parent.body, parent.end).find((b) => b.type === type);
  if (!found) throw new Error(`MP4 '${parent.type}' at byte ${parent.start} has no '${type}'`);
  return found;
}

/** One moof + mdat: where it starts in the media segment, and what an I-frame playlist needs. */
export interface Fragment {
  offset: number;
  /** The moof, the mdat header and the fragment's first sample: the I-frame's byte range. */
  keyLength: number;
  /** Samples (frames) in the fragment. */
  samples: number;
}

export interface FragmentedMp4 {
  init: Uint8Array;
  media: Uint8Array;
  fragments: Fragment[];
}

const TRUN_DATA_OFFSET = 0x1;
const TRUN_FIRST_FLAGS = 0x4;
const TRUN_DURATION = 0x100;
const TRUN_SIZE = 0x200;
const TFHD_BASE_OFFSET = 0x1;
const TFHD_DESCRIPTION_INDEX = 0x2;
const TFHD_DEFAULT_DURATION = 0x8;
const TFHD_DEFAULT_SIZE = 0x10;
const TFHD_DEFAULT_BASE_IS_MOOF = 0x20000;
/** sample_is_non_sync_sample in the sample flags (ISO 14496-12 8.8.3.1). */
const NON_SYNC = 0x10000;

/**
 * Reads one moof's track run: samples, where its data starts relative to the moof and the first
 * sample's size. The muxer writes default-base-is-moof and data offsets, and per-sample sizes
 * unless every sample of the run has one size (then tfhd's default size, as when x264 pads every
 * frame to a rate far above what the picture needs); a file without them is not one this
 * packager made.
 */
function readMoof(data: Uint8Array, moof: Box): { samples: number; firstEnd: number } {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const traf = child(data, moof, 'traf');
  const tfhd = child(data, traf, 'tfhd');
  const tfhdFlags = view.getUint32(tfhd.body) & 0xffffff;
  if (tfhdFlags & TFHD_BASE_OFFSET || !(tfhdFlags & TFHD_DEFAULT_BASE_IS_MOOF)) throw new Error(`MP4 fragment at byte ${moof.start} is not default-base-is-moof`);
  const trun = child(data, traf, 'trun');
  const flags = view.getUint32(trun.body) & 0xffffff;
  const defaultSize = (): number | undefined => {
    if (!(tfhdFlags & TFHD_DEFAULT_SIZE)) return undefined;
    const at = tfhd.body + 8 + (tfhdFlags & TFHD_DESCRIPTION_INDEX ? 4 : 0) + (tfhdFlags & TFHD_DEFAULT_DURATION ? 4 : 0);
    return view.getUint32(at);
  };
  const fallback = flags & TRUN_SIZE ? undefined : defaultSize();
  if (!(flags & TRUN_DATA_OFFSET) || (!(flags & TRUN_SIZE) && fallback === undefined)) throw new Error(`MP4 track run at byte ${trun.start} has no data offset or sample sizes`);
  const samples = view.getUint32(trun.body + 4);
  let p = trun.body + 12; // version/flags, sample_count, data_offset
  if (flags & TRUN_FIRST_FLAGS) {
    if (view.getUint32(p) & NON_SYNC) throw new Error(`MP4 fragment at byte ${moof.start} does not start with a sync sample`);
    p += 4;
  }
  if (flags & TRUN_DURATION) p += 4;
  return { samples, firstEnd: view.getInt32(trun.body + 8) + (fallback ?? view.getUint32(p)) };
}

/** Splits a fragmented MP4 (ftyp, moov, then moof + mdat pairs) into init and media segment. */
export function splitFragmented(data: Uint8Array): FragmentedMp4 {
  const top = boxes(data);
  const moov = top.findIndex((b) => b.type === 'moov');
  const first = top.findIndex((b) => b.type === 'moof');
  if (top[0]?.type !== 'ftyp' || moov < 0 || first !== moov + 1) throw new Error('not a fragmented MP4 with ftyp, moov and fragments');
  const fragments: Fragment[] = [];
  const base = top[first].start;
  for (let i = first; i < top.length; i += 2) {
    const [moof, mdat] = [top[i], top[i + 1]];
    if (moof.type !== 'moof' || mdat?.type !== 'mdat') throw new Error(`MP4 fragment at byte ${moof.start} is not a moof followed by an mdat`);
    const run = readMoof(data, moof);
    if (run.firstEnd > mdat.end - moof.start) throw new Error(`MP4 fragment at byte ${moof.start} points past its mdat`);
    fragments.push({ offset: moof.start - base, keyLength: run.firstEnd, samples: run.samples });
  }
  return { init: data.subarray(0, base), media: data.subarray(base), fragments };
}
