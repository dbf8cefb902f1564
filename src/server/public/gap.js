// A guard for one stall hls.js 1.7.4 does not get out of. Plain ES module, like demo.js.
//
// Why it is needed: an immediate level switch (`hls.currentLevel = i`, the demo's rendition
// buttons) flushes the buffer, and when the playhead is within `maxFragLookUpTolerance` (0.25 s)
// of the next fragment's start hls.js loads that fragment, not the one under the playhead. If
// playback then freezes a few hundredths of a second before that start (a loaded machine runs
// out of decoded frames sooner), the hole ahead of the playhead is shorter than
// `maxBufferHole` (0.1 s). hls.js's gap controller merges such holes when it judges a stall, so
// it sees the playhead as buffered and never nudges it; Chromium does not play across a hole in
// MSE. Playback would wait there for ever.
//
// What it does: a playhead held still while playing for `holdMs`, outside every buffered range,
// with a range starting at most `maxHole` seconds ahead, is moved just inside that range. The
// hold is longer than hls.js's own watchdog (`highBufferWatchdogPeriod`, 2 s), so the holes
// hls.js does fix are left to it.
/* global setInterval, clearInterval, performance */

/** Past a range's start by this much, so that rounding of the seek cannot land before it. */
const INSIDE = 0.01;

/**
 * Where to move a playhead stuck at `t`: just inside the first range of `ranges` (a TimeRanges)
 * that starts after `t` and at most `maxHole` ahead; undefined when `t` is in a range or no
 * range is that close.
 */
function holeTarget(t, ranges, maxHole) {
  for (let i = 0; i < ranges.length; i++) {
    const start = ranges.start(i);
    if (start <= t && t < ranges.end(i)) return undefined;
    if (start > t) return start - t <= maxHole ? start + INSIDE : undefined;
  }
  return undefined;
}

/** Watches `video` until the returned stop function is called; `onSkip(from, to)` is told of each move. */
export function startGapGuard(video, { holdMs = 2500, maxHole = 0.5, pollMs = 250, onSkip = () => {} } = {}) {
  let last = NaN;
  let since = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const t = video.currentTime;
    if (video.paused || video.seeking || video.ended || t !== last) {
      last = t;
      since = now;
      return;
    }
    if (now - since < holdMs) return;
    const to = holeTarget(t, video.buffered, maxHole);
    since = now;
    if (to === undefined) return;
    onSkip(t, to);
    video.currentTime = to;
  }, pollMs);
  return () => clearInterval(timer);
}
