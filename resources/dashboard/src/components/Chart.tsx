import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatCount, formatMs } from '../format';

export type AxisUnit = 'ms' | 'req' | 'req/s' | 'tok/s' | 'calls/s' | 'answers/call' | 'users' | 'time';

export interface ChartSeries {
  label: string;
  /** A CSS custom property from styles.css, e.g. "--c-p99". */
  color: string;
  /** Which y axis: the left one (0) or the right one (1). */
  axis?: 0 | 1;
  dash?: boolean;
  width?: number;
}

export interface Marker {
  x: number;
  label: string;
}

export interface ChartProps {
  testId: string;
  /** x first, then one column per series, all the same length; null is a gap. */
  data: (number | null)[][];
  series: ChartSeries[];
  xUnit: AxisUnit;
  yUnits: [AxisUnit] | [AxisUnit, AxisUnit];
  height?: number;
  /** Vertical lines at x (e.g. the load test's inflection point). */
  markers?: Marker[];
  /** Top of the left axis, from the plotted columns; default: 10 % above the data's max. */
  yMax?: (data: (number | null)[][]) => number;
  /** Changes when the theme changes, so the colours are read again. */
  theme: string;
  ariaLabel: string;
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

function tick(unit: AxisUnit): (v: number) => string {
  switch (unit) {
    case 'ms':
      return formatMs;
    default:
      return formatCount;
  }
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
function clock(seconds: number): string {
  return timeFmt.format(new Date(seconds * 1000));
}

function axisLabel(unit: AxisUnit): string {
  switch (unit) {
    case 'time':
      return 'local time';
    case 'req':
      return 'requests';
    default:
      return unit;
  }
}

/** A uPlot line chart that follows its container's width. */
export function Chart(props: ChartProps) {
  const { data, series, xUnit, yUnits, height = 200, markers, theme, testId, ariaLabel, yMax } = props;
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const markerRef = useRef<Marker[] | undefined>(markers);
  markerRef.current = markers;
  const yMaxRef = useRef(yMax);
  yMaxRef.current = yMax;
  const seriesKey = series.map((s) => `${s.label}${s.axis ?? 0}`).join('|') + yUnits.join('|');

  // Create (and re-create on theme or layout change).
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const fg = cssVar('--fg-muted');
    const grid = cssVar('--grid');
    const yScales = yUnits.map((_, i) => (i === 0 ? 'y' : 'y2'));
    const axisFont = '11px system-ui, sans-serif';
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      // Labels only: the current values are in the big numbers above the charts.
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: xUnit === 'time' },
        y: {
          range: (u, _min, max) => {
            const f = yMaxRef.current;
            return [0, f ? f(u.data as (number | null)[][]) : max > 0 ? max * 1.1 : 1];
          },
        },
        ...(yUnits.length > 1 ? { y2: { range: (_u: uPlot, _min: number, max: number) => [0, max > 0 ? max * 1.1 : 1] as uPlot.Range.MinMax } } : {}),
      },
      axes: [
        {
          stroke: fg,
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid, width: 1 },
          font: axisFont,
          label: axisLabel(xUnit),
          labelFont: axisFont,
          labelSize: 16,
          size: 36,
          space: xUnit === 'time' ? 80 : 40,
          values: (_u: uPlot, splits: number[]) => splits.map(xUnit === 'time' ? clock : tick(xUnit)),
        },
        ...yUnits.map((unit, i) => ({
          scale: yScales[i] as string,
          side: i === 0 ? 3 : 1,
          stroke: fg,
          grid: { show: i === 0, stroke: grid, width: 1 },
          ticks: { stroke: grid, width: 1 },
          font: axisFont,
          label: axisLabel(unit),
          labelFont: axisFont,
          labelSize: 16,
          size: unit === 'ms' ? 78 : 62,
          values: (_u: uPlot, splits: number[]) => splits.map(tick(unit)),
        })),
      ],
      series: [
        { label: xUnit === 'time' ? 'time' : axisLabel(xUnit), value: xUnit === 'time' ? '{HH}:{mm}:{ss}' : (_u, v) => (v == null ? '—' : tick(xUnit)(v)) },
        ...series.map((s) => {
          const unit = yUnits[s.axis ?? 0] as AxisUnit;
          return {
            label: s.label,
            scale: s.axis === 1 ? 'y2' : 'y',
            stroke: cssVar(s.color),
            width: s.width ?? 1.75,
            dash: s.dash ? [6, 4] : undefined,
            points: { show: xUnit !== 'time' },
            value: (_u: uPlot, v: number | null) => (v == null ? '—' : `${tick(unit)(v)}${unit === 'ms' ? '' : ` ${unit === 'req' ? '' : unit}`}`.trim()),
          } satisfies uPlot.Series;
        }),
      ],
      hooks: {
        draw: [
          (u) => {
            const ms = markerRef.current;
            if (!ms || ms.length === 0) return;
            const ctx = u.ctx;
            ctx.save();
            ctx.strokeStyle = cssVar('--c-marker');
            ctx.fillStyle = cssVar('--c-marker');
            ctx.lineWidth = 2 * uPlot.pxRatio;
            ctx.setLineDash([4 * uPlot.pxRatio, 3 * uPlot.pxRatio]);
            ctx.font = `${11 * uPlot.pxRatio}px system-ui, sans-serif`;
            for (const m of ms) {
              const x = Math.round(u.valToPos(m.x, 'x', true));
              ctx.beginPath();
              ctx.moveTo(x, u.bbox.top);
              ctx.lineTo(x, u.bbox.top + u.bbox.height);
              ctx.stroke();
              ctx.fillText(m.label, x + 4 * uPlot.pxRatio, u.bbox.top + 12 * uPlot.pxRatio);
            }
            ctx.restore();
          },
        ],
      },
    };
    const u = new uPlot(opts, data as uPlot.AlignedData, el);
    plot.current = u;
    const ro = new ResizeObserver(() => {
      const w = Math.max(200, el.clientWidth);
      if (Math.abs(w - u.width) > 1) u.setSize({ width: w, height });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
    // data is pushed by the effect below; recreating on every update would be wasteful
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [theme, seriesKey, height, xUnit]);

  useEffect(() => {
    plot.current?.setData(data as uPlot.AlignedData);
  }, [data]);

  const points = data[0]?.length ?? 0;
  return <div className="chart" ref={host} data-testid={testId} data-points={points} role="img" aria-label={ariaLabel} />;
}
