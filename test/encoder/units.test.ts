import { describe, expect, it } from 'vitest';
import { parseBitrate, parseBitrates } from '../../src/cli/flags.js';
import { AAC_PRIMING, audioSlice, parseAdts } from '../../src/encoder/media/audio.js';
import { fitToScale } from '../../src/encoder/media/probe.js';
import { SceneCutDetector } from '../../src/encoder/media/scenecut.js';
import { parseSps } from '../../src/encoder/media/codecs.js';
import { masterPlaylist } from '../../src/encoder/job/master.js';
import { bandwidths, mediaPlaylist, parseAttributes } from '../../src/encoder/job/playlist.js';
import { HcdError } from '../../src/shared/errors.js';

/** A fake ADTS stream: `n` frames of `len` bytes at 48 kHz. */
function adts(n: number, len: number): Buffer {
  const frames: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const b = Buffer.alloc(len, i & 0xff);
    b[0] = 0xff;
    b[1] = 0xf1;
    b[2] = 0x40 | (3 << 2); // AAC-LC, sampling index 3 = 48 kHz
    b[3] = 0x80 | ((len >> 11) & 0x03);
    b[4] = (len >> 3) & 0xff;
    b[5] = ((len & 0x07) << 5) | 0x1f;
    b[6] = 0xfc;
    frames.push(b);
  }
  return Buffer.concat(frames);
}

describe('encoder building blocks', () => {
  it('crops to a multiple of 2*scale (even LR sides for 4:2:0)', () => {
    expect(fitToScale(640, 360, 2)).toEqual({ width: 640, height: 360, crop: undefined });
    expect(fitToScale(168, 94, 2)).toEqual({ width: 168, height: 92, crop: 'crop=168:92:0:0' });
    expect(fitToScale(853, 480, 4)).toEqual({ width: 848, height: 480, crop: 'crop=848:480:0:0' });
  });

  it('parses bitrates and rejects nonsense', () => {
    expect(parseBitrates('150k,1.5M,800000')).toEqual([150_000, 1_500_000, 800_000]);
    expect(parseBitrates('')).toEqual([]);
    expect(() => parseBitrate('fast')).toThrow(HcdError);
    expect(() => parseBitrate('0.5k')).toThrow(/too low/);
  });

  it('reads profile, constraints and level from an SPS', () => {
    // start code, NAL header 0x67 (SPS), profile 100, constraints 0, level 30
    const sps = Uint8Array.from([0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x67, 0x64, 0x00, 0x1e, 0xac]);
    expect(parseSps(sps)).toEqual({ profile: 0x64, constraints: 0, level: 0x1e });
    expect(parseSps(Uint8Array.from([0, 0, 1, 0x68, 1, 2, 3, 4]))).toBeUndefined();
  });

  it('measures peak and average bandwidth over segments', () => {
    const segs = [
      { uri: 'a', duration: 4, bytes: 100_000 },
      { uri: 'b', duration: 2, bytes: 100_000 },
    ];
    expect(bandwidths(segs)).toEqual({ peak: 400_000, average: Math.ceil(1_600_000 / 6) });
  });

  it('writes media playlists that are EVENT until complete', () => {
    const segs = [{ uri: 'seg-0-00000.m4s', duration: 4, bytes: 1 }, { uri: 'seg-0-00001.m4s', duration: 1.5, bytes: 1 }];
    const open = mediaPlaylist(segs, false, 'init-0.mp4');
    expect(open).toContain('#EXT-X-PLAYLIST-TYPE:EVENT');
    expect(open).not.toContain('#EXT-X-ENDLIST');
    const done = mediaPlaylist(segs, true, 'init-0.mp4');
    expect(done).toContain('#EXT-X-TARGETDURATION:4\n');
    expect(done).toContain('#EXTINF:1.500000,\nseg-0-00001.m4s\n#EXT-X-ENDLIST\n');
  });

  it('writes the master playlist contract', () => {
    const text = masterPlaylist({
      variants: [{ uri: 'lr-150k/index.m3u8', bandwidth: 200_000, averageBandwidth: 180_000, width: 320, height: 180, codecs: 'avc1.64000d,mp4a.40.2', frameRate: 24, audio: 'audio-20k', upscale: { scale: 2, model: 'rdn-x2' } }],
      audio: [{ group: 'audio-20k', uri: 'audio-20k/index.m3u8' }],
      iframes: [],
      upscaler: 'upscaler/manifest.json',
    });
    const lines = text.split('\n');
    expect(lines[3]).toBe('#EXT-X-SESSION-DATA:DATA-ID="org.hcd-stream.upscaler",URI="upscaler/manifest.json"');
    expect(parseAttributes(lines[5])).toEqual({
      BANDWIDTH: '200000', 'AVERAGE-BANDWIDTH': '180000', RESOLUTION: '320x180', CODECS: 'avc1.64000d,mp4a.40.2', 'FRAME-RATE': '24.000', AUDIO: 'audio-20k', 'CLOSED-CAPTIONS': 'NONE', 'X-UPSCALE': '2', 'X-HCD-MODEL': 'rdn-x2',
    });
    expect(lines[6]).toBe('lr-150k/index.m3u8');
  });

  it('cuts one AAC stream into chunks without overlap or gap', () => {
    const track = parseAdts(adts(100, 20));
    expect(track.frames.length).toBe(100);
    expect(track.sampleRate).toBe(48000);
    const bounds = [0, 0.5, 1, 1.5, 2.5];
    let bytes = 0;
    let prevEnd = -Infinity;
    for (let i = 0; i + 1 < bounds.length; i++) {
      const s = audioSlice(track, bounds[i], bounds[i + 1])!;
      bytes += s.bytes.length;
      const first = bounds[i] + s.offset;
      // the first frame starts in its chunk, or is the priming frame of the first chunk
      if (i === 0) expect(s.offset).toBeCloseTo(-AAC_PRIMING / 48000, 9);
      else expect(s.offset).toBeGreaterThanOrEqual(0);
      expect(s.offset).toBeLessThan(1024 / 48000);
      expect(first).toBeGreaterThan(prevEnd - 1e-9);
      prevEnd = first + (s.bytes.length / 20) * (1024 / 48000);
    }
    expect(bytes).toBe(track.data.length);
    expect(() => parseAdts(Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]))).toThrow(/sync/);
  });

  it('flags scene cuts, not motion', () => {
    const frame = (f: (x: number, y: number) => number) => {
      const data = new Uint8Array(64 * 64 * 3);
      for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) data.fill(f(x, y), (y * 64 + x) * 3, (y * 64 + x) * 3 + 3);
      return { width: 64, height: 64, data };
    };
    const d = new SceneCutDetector();
    expect(d.next(frame((x) => x * 4))).toBe(true);
    expect(d.next(frame((x) => (x + 1) * 4))).toBe(false);
    expect(d.next(frame((x, y) => 255 - y * 4))).toBe(true);
    d.reset();
    expect(d.next(frame((x, y) => 255 - y * 4))).toBe(true);
  });
});
