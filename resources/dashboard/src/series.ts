import { classQueued } from './classes';
import { firstTokenP95 } from './firsttoken';
import type { MetricsSnapshot } from './protocol';
import { answersPerCall } from './quota';
import { RingBuffer } from './ring';

/** The chart series, one ring buffer each, all the same length; x is `t` (seconds since the epoch). */
export const SERIES_KEYS = [
  't',
  'p50Ms',
  'p95Ms',
  'p99Ms',
  'queueDepth',
  'queueCapacity',
  'backpressure',
  'inflightBatches',
  'rps',
  'promptTps',
  'outputTps',
  'upstreamCallsPs',
  'upstreamErrorsPs',
  'rejectedPs',
  // NaN where the snapshot cannot tell (no upstream call, an older gateway): a gap in the chart.
  'answersPerCall',
  'upstream429Ps',
  // NaN where no stream was measured or the gateway is older: a gap.
  'ttftP95Ms',
  // Queued per priority class (top-level `classes`, kept in history entries);
  // NaN where the snapshot does not report the class: a gap.
  'queuedInteractive',
  'queuedStandard',
  'queuedBackground',
] as const;

export type SeriesKey = (typeof SERIES_KEYS)[number];

/** Seconds of history the charts keep. */
export const HISTORY_SECONDS = 300;

export function capacityFor(rateHz: number): number {
  const n = Math.ceil(HISTORY_SECONDS * (Number.isFinite(rateHz) && rateHz > 0 ? rateHz : 4));
  return Math.min(7200, Math.max(60, n));
}

/**
 * Every chart point comes from one snapshot: the gauges (queue depth,
 * capacity, backpressure, in-flight) as they were at that instant, the rest
 * from that snapshot's `last10s` window, the same window the numbers show.
 */
export class Series {
  readonly rings: Record<SeriesKey, RingBuffer>;

  constructor(readonly capacity: number) {
    const rings = {} as Record<SeriesKey, RingBuffer>;
    for (const k of SERIES_KEYS) rings[k] = new RingBuffer(capacity);
    this.rings = rings;
  }

  get length(): number {
    return this.rings.t.length;
  }

  /** Timestamp (ms) of the newest point, or -Infinity when empty. */
  lastTimestampMs(): number {
    const t = this.rings.t.last();
    return t === undefined ? -Infinity : Math.round(t * 1000);
  }

  /** Timestamp (ms) of the oldest point, or Infinity when empty. */
  firstTimestampMs(): number {
    const t = this.rings.t.at(0);
    return t === undefined ? Infinity : Math.round(t * 1000);
  }

  clear(): void {
    for (const k of SERIES_KEYS) this.rings[k].clear();
  }

  /**
   * Appends one snapshot. A snapshot with the same timestamp as the newest
   * point is not appended; an older one (the server's clock went back) starts
   * the series afresh so x stays increasing. Returns whether a point was added.
   */
  append(s: MetricsSnapshot): boolean {
    const last = this.lastTimestampMs();
    if (s.timestampMs === last) return false;
    if (s.timestampMs < last) this.clear();
    this.push(s);
    return true;
  }

  /**
   * Puts a page of history in front of the series: of `points` (oldest
   * first), those older than the oldest point, in increasing time, as many
   * of the newest of them as still fit. Returns how many were added.
   */
  prependOlder(points: readonly MetricsSnapshot[]): number {
    const first = this.firstTimestampMs();
    const older: MetricsSnapshot[] = [];
    for (const p of points) {
      const prev = older[older.length - 1];
      if (p.timestampMs < first && (prev === undefined || p.timestampMs > prev.timestampMs)) older.push(p);
    }
    const take = older.slice(Math.max(0, older.length - (this.capacity - this.length)));
    if (take.length === 0) return 0;
    const kept = SERIES_KEYS.map((k) => this.rings[k].toArray());
    this.clear();
    for (const p of take) this.push(p);
    const n = kept[0]?.length ?? 0;
    for (let i = 0; i < n; i++) SERIES_KEYS.forEach((k, j) => this.rings[k].push(kept[j]?.[i] ?? Number.NaN));
    return take.length;
  }

  private push(s: MetricsSnapshot): void {
    const w = s.last10s;
    const secs = w.seconds > 0 ? w.seconds : 10;
    const r = this.rings;
    r.t.push(s.timestampMs / 1000);
    r.p50Ms.push(w.latency.p50Ms);
    r.p95Ms.push(w.latency.p95Ms);
    r.p99Ms.push(w.latency.p99Ms);
    r.queueDepth.push(s.queueDepth);
    r.queueCapacity.push(s.queueCapacity);
    r.backpressure.push(s.backpressure);
    r.inflightBatches.push(s.inflightBatches);
    r.rps.push(w.requestsPerSecond);
    r.promptTps.push(w.promptTokensPerSecond);
    r.outputTps.push(w.outputTokensPerSecond);
    r.upstreamCallsPs.push(w.upstreamCalls / secs);
    r.upstreamErrorsPs.push(w.upstreamErrors / secs);
    r.rejectedPs.push(w.rejected / secs);
    r.answersPerCall.push(answersPerCall(w) ?? Number.NaN);
    r.upstream429Ps.push(w.upstream429 === null ? Number.NaN : w.upstream429 / secs);
    r.ttftP95Ms.push(firstTokenP95(w) ?? Number.NaN);
    r.queuedInteractive.push(classQueued(s, 'interactive') ?? Number.NaN);
    r.queuedStandard.push(classQueued(s, 'standard') ?? Number.NaN);
    r.queuedBackground.push(classQueued(s, 'background') ?? Number.NaN);
  }

  column(k: SeriesKey): number[] {
    return this.rings[k].toArray();
  }

  /** The column with NaN as null, which uPlot draws as a gap (a NaN would spoil its scale). */
  columnWithGaps(k: SeriesKey): (number | null)[] {
    return this.rings[k].toArray().map((v) => (Number.isNaN(v) ? null : v));
  }
}
