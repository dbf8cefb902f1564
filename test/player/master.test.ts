/** The master-playlist reading the player uses without hls.js (native HLS) and when made late. */
import { describe, expect, it } from 'vitest';
import { parseAttributes, parseMasterPlaylist } from '../../src/shared/hls.js';

describe('parseMasterPlaylist', () => {
  it('reads the variants with their size and attributes, and the session data by DATA-ID', () => {
    const m = parseMasterPlaylist(
      [
        '#EXTM3U',
        '#EXT-X-VERSION:6',
        '#EXT-X-SESSION-DATA:DATA-ID="org.hcd-stream.upscaler",URI="upscaler/manifest.json"',
        '#EXT-X-STREAM-INF:BANDWIDTH=400000,RESOLUTION=320x180,CODECS="avc1.64000d,mp4a.40.2",X-UPSCALE=2,X-HCD-MODEL="hcd-x2"',
        '# a comment',
        'lr/index.m3u8',
        '#EXT-X-STREAM-INF:BANDWIDTH=900000,RESOLUTION=640x360',
        '',
        'src/index.m3u8?v=1',
        '',
      ].join('\r\n'),
    );
    expect(m.sessionData).toEqual({ 'org.hcd-stream.upscaler': { 'DATA-ID': 'org.hcd-stream.upscaler', URI: 'upscaler/manifest.json' } });
    expect(m.variants).toEqual([
      { uri: 'lr/index.m3u8', width: 320, height: 180, attrs: { BANDWIDTH: '400000', RESOLUTION: '320x180', CODECS: 'avc1.64000d,mp4a.40.2', 'X-UPSCALE': '2', 'X-HCD-MODEL': 'hcd-x2' } },
      { uri: 'src/index.m3u8?v=1', width: 640, height: 360, attrs: { BANDWIDTH: '900000', RESOLUTION: '640x360' } },
    ]);
  });

  it('a variant without a size has 0x0; a variant without a URI, or a text that is no playlist, gives nothing', () => {
    expect(parseMasterPlaylist('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n').variants[0]).toMatchObject({ width: 0, height: 0 });
    expect(parseMasterPlaylist('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,RESOLUTION=10x10\n').variants).toEqual([]);
    expect(parseMasterPlaylist('<html>not a playlist</html>')).toEqual({ variants: [], sessionData: {} });
  });

  it('parseAttributes keeps commas inside quotes', () => {
    expect(parseAttributes('A=1,B="x,y",C=z')).toEqual({ A: '1', B: 'x,y', C: 'z' });
  });
});
