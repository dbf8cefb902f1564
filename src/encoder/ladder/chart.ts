import * as vega from 'vega';
import * as vl from 'vega-lite';

/** One point of an RD chart: a series' quality at a rate; `crf` null for a drawn-only point (an envelope). */
export interface RdValue {
  series: string;
  kbps: number;
  q: number;
  crf: number | null;
}

/**
 * An RD chart (quality against bitrate on a log axis) rendered headless to SVG by vega-lite:
 * lines per series, dashed for series named in `dashed`, markers on measured points, and where
 * given, `marks` drawn on top as large labelled points (a ladder's chosen rungs).
 */
export async function rdChartSvg(values: RdValue[], o: { title: string; axis: string; dashed?: (series: string) => boolean; marks?: { kbps: number; q: number; label: string }[] }): Promise<string> {
  const dashedSeries = [...new Set(values.map((v) => v.series))].filter((s) => o.dashed?.(s));
  const spec: vl.TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: o.title,
    width: 520,
    height: 320,
    layer: [
      {
        data: { values },
        encoding: {
          x: { field: 'kbps', type: 'quantitative', scale: { type: 'log' }, title: 'bitrate (kbit/s, log scale)' },
          y: { field: 'q', type: 'quantitative', scale: { zero: false }, title: o.axis },
          color: { field: 'series', type: 'nominal', title: null, legend: { labelLimit: 400, orient: 'bottom', direction: 'vertical' } },
        },
        layer: [
          {
            mark: { type: 'line' },
            encoding: {
              strokeDash: { condition: { test: { field: 'series', oneOf: dashedSeries }, value: [4, 3] }, value: [1, 0] },
              order: { field: 'kbps', type: 'quantitative' },
            },
          },
          {
            // markers on the measured points only, not on sampled lines
            transform: [{ filter: 'datum.crf !== null' }],
            mark: { type: 'point', filled: true, size: 36 },
            encoding: { tooltip: [{ field: 'series' }, { field: 'crf' }, { field: 'kbps', format: '.1f' }, { field: 'q', format: '.4f' }] },
          },
        ],
      },
      ...(o.marks?.length
        ? [
            {
              data: { values: o.marks },
              encoding: { x: { field: 'kbps', type: 'quantitative' as const }, y: { field: 'q', type: 'quantitative' as const } },
              layer: [
                { mark: { type: 'point' as const, shape: 'diamond', size: 160, color: 'black', filled: false } },
                { mark: { type: 'text' as const, dy: -12, fontSize: 10 }, encoding: { text: { field: 'label', type: 'nominal' as const } } },
              ],
            },
          ]
        : []),
    ],
  };
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
