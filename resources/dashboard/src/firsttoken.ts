// What the dashboard shows of the time to first token (a window's
// `firstToken`: streamGenerateContent answers, from arrival at the gateway to
// the first SSE event written to the client), derived from a window: pure
// functions, so the rules are tested without a browser:
//  - a window without a stream has count 0 and the gateway sends 0 ms for its
//    percentiles: "—", not a made-up 0 ms, and a gap in the chart;
//  - a gateway older than the figure sends none: "—" too, "not reported".
import { formatCount, formatMs } from './format';
import type { WindowStats } from './protocol';

export interface FirstTokenFigures {
  /** missing: an older gateway; none: no stream in the window; measured: at least one. */
  kind: 'missing' | 'none' | 'measured';
  /** "120 ms", or "—". */
  p50: string;
  p95: string;
  p99: string;
  /** Streams measured in the window; null from an older gateway. */
  count: number | null;
  /** "12 streams", "1 stream", "0 streams", or "—". */
  countText: string;
}

/** The time-to-first-token percentiles of a window (the dashboard shows last10s). */
export function firstTokenFigures(w: WindowStats | null | undefined): FirstTokenFigures {
  const ft = w?.firstToken ?? null;
  if (!ft) return { kind: 'missing', p50: '—', p95: '—', p99: '—', count: null, countText: '—' };
  const countText = `${formatCount(ft.count)} ${ft.count === 1 ? 'stream' : 'streams'}`;
  if (ft.count <= 0) return { kind: 'none', p50: '—', p95: '—', p99: '—', count: ft.count, countText };
  return { kind: 'measured', p50: formatMs(ft.p50Ms), p95: formatMs(ft.p95Ms), p99: formatMs(ft.p99Ms), count: ft.count, countText };
}

/** The p95 time to first token for the latency chart, or null (a gap) when no stream was measured or the gateway does not say. */
export function firstTokenP95(w: WindowStats | null | undefined): number | null {
  const ft = w?.firstToken ?? null;
  return ft && ft.count > 0 ? ft.p95Ms : null;
}
