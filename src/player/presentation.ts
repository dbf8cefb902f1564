/**
 * What the <video> element would otherwise do for the viewer, for a page that shows the canvas
 * instead: full screen (of the element holding both, so the canvas stays visible) and captions
 * (the video's showing text tracks, drawn over the canvas). The video keeps playing underneath,
 * so its own controls, picture-in-picture and audio work as usual.
 */
export class Presentation {
  private overlay?: HTMLDivElement;
  private readonly watched = new Set<TextTrack>();

  constructor(
    private readonly video: HTMLVideoElement,
    private readonly container: HTMLElement | undefined,
    captions: boolean,
  ) {
    if (!captions || !container) return;
    const tracks = video.textTracks;
    tracks.addEventListener('change', this.sync);
    tracks.addEventListener('addtrack', this.sync);
    tracks.addEventListener('removetrack', this.sync);
    this.sync();
  }

  /** Full screen for the container (the canvas alone when there is none). */
  requestFullscreen(canvas: HTMLCanvasElement): Promise<void> {
    return (this.container ?? canvas).requestFullscreen();
  }

  destroy(): void {
    const tracks = this.video.textTracks;
    tracks.removeEventListener('change', this.sync);
    tracks.removeEventListener('addtrack', this.sync);
    tracks.removeEventListener('removetrack', this.sync);
    for (const t of this.watched) t.removeEventListener('cuechange', this.render);
    this.watched.clear();
    this.overlay?.remove();
    this.overlay = undefined;
  }

  /** Follows the tracks that are showing. */
  private readonly sync = (): void => {
    const showing = new Set([...this.video.textTracks].filter((t) => t.mode === 'showing'));
    for (const t of this.watched) if (!showing.has(t)) t.removeEventListener('cuechange', this.render);
    for (const t of showing) if (!this.watched.has(t)) t.addEventListener('cuechange', this.render);
    this.watched.clear();
    for (const t of showing) this.watched.add(t);
    this.render();
  };

  private readonly render = (): void => {
    const cues = [...this.watched].flatMap((t) => [...(t.activeCues ?? [])]);
    if (cues.length === 0 && !this.overlay) return; // the page gets no element until there is a caption
    const box = (this.overlay ??= this.makeOverlay());
    box.replaceChildren(...cues.map(cueLine));
    box.style.fontSize = `${Math.max(12, Math.round((this.container?.clientHeight ?? 0) * 0.05))}px`;
  };

  private makeOverlay(): HTMLDivElement {
    const box = document.createElement('div');
    box.className = 'hcd-captions';
    // set through CSSOM, which a page's style-src policy allows (inline style attributes it may not)
    Object.assign(box.style, {
      position: 'absolute', left: '0', right: '0', bottom: '6%', textAlign: 'center', pointerEvents: 'none',
      color: '#fff', textShadow: '0 0 4px #000, 0 0 2px #000', lineHeight: '1.3', whiteSpace: 'pre-line', zIndex: '1',
    });
    this.container?.append(box);
    return box;
  }
}

/** One cue as a line: WebVTT's markup as the browser parses it (no scripts), else its text. */
function cueLine(cue: TextTrackCue): HTMLElement {
  const line = document.createElement('div');
  const vtt = cue as VTTCue;
  if (typeof vtt.getCueAsHTML === 'function') line.append(vtt.getCueAsHTML());
  else line.textContent = (cue as unknown as { text?: string }).text ?? '';
  return line;
}
