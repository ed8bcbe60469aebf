// What the priority-classes panel shows (the snapshot's `classes`: one entry
// per X-Sluice-Priority class), derived from a snapshot: pure functions, so
// the rules are tested without a browser:
//  - the three classes are always listed, in priority order (interactive,
//    standard, background), whatever order the entries come in; a name the
//    dashboard does not know is listed after them as it comes;
//  - a latency or queue wait over a window without a request (count 0, and
//    the gateway then sends 0 ms) reads "—", not a made-up 0 ms;
//  - a gateway older than the classes sends none: every figure "—", and the
//    chart has gaps, not zeros; a class the list lacks reads "—" too.
import { formatCount, formatMs } from './format';
import { type LatencySummary, type MetricsSnapshot, PRIORITY_CLASSES, type PriorityClassStats } from './protocol';

/** What each class is for, for tooltips. */
export const CLASS_MEANINGS: Record<string, string> = {
  interactive: 'a person is waiting: dispatched first, never held back for a batch to fill',
  standard: 'the default class (no X-Sluice-Priority header)',
  background: 'agents and jobs that can wait: served when the others leave room',
};

export interface ClassRow {
  name: string;
  /** The class's entry; null when the gateway does not report it. */
  stats: PriorityClassStats | null;
  queued: string;
  completed: string;
  failed: string;
  rejected: string;
  /** Latency (admission to answer) and queue wait (admission to dispatch) over the last 60 s: "120 ms", or "—". */
  latencyP50: string;
  latencyP95: string;
  waitP50: string;
  waitP95: string;
  /** "12 answered" over the last 60 s, or "—". */
  latencyCountText: string;
}

export interface ClassesView {
  /** missing: an older gateway; reported: the snapshot has `classes`. */
  kind: 'missing' | 'reported';
  rows: ClassRow[];
  /** Queued in every class together; null from an older gateway. */
  queuedTotal: number | null;
}

/** A percentile of a window's latency, or "—" when the window had no request (or is not reported). */
function percentile(l: LatencySummary | undefined, key: 'p50Ms' | 'p95Ms'): string {
  return l && l.count > 0 ? formatMs(l[key]) : '—';
}

function row(name: string, c: PriorityClassStats | null): ClassRow {
  return {
    name,
    stats: c,
    queued: formatCount(c?.queued),
    completed: formatCount(c?.completed),
    failed: formatCount(c?.failed),
    rejected: formatCount(c?.rejected),
    latencyP50: percentile(c?.latency, 'p50Ms'),
    latencyP95: percentile(c?.latency, 'p95Ms'),
    waitP50: percentile(c?.queueWait, 'p50Ms'),
    waitP95: percentile(c?.queueWait, 'p95Ms'),
    latencyCountText: c ? `${formatCount(c.latency.count)} answered` : '—',
  };
}

/** The entry of class `name` in a snapshot, or null when the snapshot does not report it. */
export function classStats(s: MetricsSnapshot | null | undefined, name: string): PriorityClassStats | null {
  return s?.classes?.find((c) => c.name === name) ?? null;
}

/** The priority-classes panel of a snapshot. */
export function classesView(s: MetricsSnapshot | null | undefined): ClassesView {
  const list = s?.classes ?? null;
  const known: readonly string[] = PRIORITY_CLASSES;
  const rows = PRIORITY_CLASSES.map((name) => row(name, classStats(s, name)));
  if (list === null) return { kind: 'missing', rows, queuedTotal: null };
  const seen = new Set<string>(known);
  for (const c of list) {
    if (seen.has(c.name)) continue;
    seen.add(c.name);
    rows.push(row(c.name, c));
  }
  return { kind: 'reported', rows, queuedTotal: list.reduce((sum, c) => sum + c.queued, 0) };
}

/** Queued in class `name` for its chart line, or null (a gap) when the snapshot does not report it. */
export function classQueued(s: MetricsSnapshot, name: string): number | null {
  return classStats(s, name)?.queued ?? null;
}
