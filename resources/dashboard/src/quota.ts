// What the quota panel shows, derived from a snapshot: pure functions, so the
// rules (what counts as "no limit", when a gauge turns red, what an older
// gateway's snapshot shows) are tested without a browser.
import type { BarItem } from './components/Bits';
import { formatCount, formatCountdown, formatPercent } from './format';
import type { QuotaDimension, QuotaDimensionKey, WindowStats } from './protocol';

export const DIMENSIONS: Record<QuotaDimensionKey, { name: string; unit: string; meaning: string }> = {
  rpm: { name: 'RPM', unit: 'calls/min', meaning: 'upstream calls in the last minute' },
  tpm: { name: 'TPM', unit: 'tokens/min', meaning: 'input tokens sent upstream in the last minute' },
  rpd: { name: 'RPD', unit: 'calls/day', meaning: 'upstream calls in the last 24 h' },
};

/** Labels of the limit sources UpstreamBudget reports; any other is shown as it comes. */
export const SOURCES: Record<string, string> = {
  none: 'no limit known or configured',
  config: 'configured (rpmLimit, tpmLimit, rpdLimit)',
  learned: 'learned from an upstream 429',
  probe: 'assumed while the quota is unknown, raised until the first 429 teaches the real one',
};

/** Upstream call kinds (UpstreamCallKind), in the order the panel lists them. */
export const CALL_KINDS: Record<string, string> = {
  single: 'single',
  pack: 'pack',
  repack: 'repack',
  retry: 'retry',
  embed_merge: 'embed merge',
};

/** How an upstream attempt ended (UpstreamAttemptOutcome), in its order; "ok" is not a failure. */
export const ATTEMPT_OUTCOMES = ['ok', '429', '4xx', '5xx', 'timeout', 'connection_error', 'cancelled', 'other'] as const;

export type GaugeLevel = 'none' | 'low' | 'elevated' | 'high' | 'refusing';

export interface Gauge {
  /** missing: an older gateway or an entry without this dimension; unlimited: limit 0. */
  kind: 'missing' | 'unlimited' | 'limited';
  used: string;
  /** "of 2 000", "no limit", or "—". */
  limit: string;
  /** used / limit, for the meter (may pass 1 when a learned limit fell below the window's use); null without a limit. */
  ratio: number | null;
  percent: string;
  level: GaugeLevel;
  source: string;
  sourceTitle: string;
  /** "blocked for 4 s" while a 429's RetryInfo holds the dimension; null otherwise. */
  blocked: string | null;
}

/**
 * The gauge of one quota dimension. Levels follow the backpressure meter's
 * (50 % elevated, 80 % high, 100 % refusing); a blocked dimension is refusing
 * whatever its use.
 */
export function quotaGauge(d: QuotaDimension | null | undefined): Gauge {
  if (!d) {
    return { kind: 'missing', used: '—', limit: '—', ratio: null, percent: '', level: 'none', source: '', sourceTitle: '', blocked: null };
  }
  const blocked = d.blockedForMs > 0 ? `blocked for ${formatCountdown(d.blockedForMs)}` : null;
  const source = d.source || 'none';
  const sourceTitle = SOURCES[source] ?? source;
  if (d.limit <= 0) {
    return {
      kind: 'unlimited',
      used: formatCount(d.used),
      limit: 'no limit',
      ratio: null,
      percent: '',
      level: blocked ? 'refusing' : 'none',
      source,
      sourceTitle,
      blocked,
    };
  }
  const ratio = d.usedRatio;
  const level: GaugeLevel = blocked || ratio >= 1 ? 'refusing' : ratio >= 0.8 ? 'high' : ratio >= 0.5 ? 'elevated' : 'low';
  return {
    kind: 'limited',
    used: formatCount(d.used),
    limit: `of ${formatCount(d.limit)}`,
    ratio,
    // A sliver of a large limit is not "0.00 %".
    percent: ratio > 0 && ratio < 0.0001 ? '< 0.01 %' : formatPercent(ratio),
    level,
    source,
    sourceTitle,
    blocked,
  };
}

/**
 * Answers per upstream call in a window (the pack factor in practice), or
 * null when it cannot be told: an older gateway, no window, or no upstream
 * call in it (the gateway then sends 0, which would read as "calls buy nothing").
 */
export function answersPerCall(w: WindowStats | null | undefined): number | null {
  if (!w || w.answersPerUpstreamCall === null || w.upstreamCalls <= 0) return null;
  return w.answersPerUpstreamCall;
}

/**
 * Requests per second of a 10 s window (last10s) that another identical
 * request's upstream call answered (in-flight coalescing: they cost no call
 * of their own), or null from an older gateway.
 */
export function coalescedPerSecond(w: WindowStats | null | undefined): number | null {
  if (!w || w.coalesced === null) return null;
  return w.coalesced / (w.seconds > 0 ? w.seconds : 10);
}

/** Bars of upstream calls by kind: the known kinds in their order (zeros included), then any others by count. */
export function callKindBars(byKind: Record<string, number> | null | undefined): BarItem[] {
  if (!byKind) return [];
  const known = Object.entries(CALL_KINDS).map(([key, label]) => ({ key, label, value: byKind[key] ?? 0 }));
  const other = Object.entries(byKind)
    .filter(([k]) => !(k in CALL_KINDS))
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([key, value]) => ({ key, label: key.replace(/_/g, ' '), value }));
  return [...known, ...other];
}

/**
 * Failed upstream attempts by how they ended (a window's
 * upstreamAttemptsByOutcome without "ok"): the known outcomes that occurred,
 * in their order, then any other by count: "429 3 · 5xx 1 · connection error 2".
 * '' when none failed; null when the gateway does not report outcomes.
 */
export function failedAttemptOutcomes(byOutcome: Record<string, number> | null | undefined): string | null {
  if (!byOutcome) return null;
  const known: readonly string[] = ATTEMPT_OUTCOMES;
  const rows = known.filter((k) => k !== 'ok' && (byOutcome[k] ?? 0) > 0).map((k) => [k, byOutcome[k] ?? 0] as const);
  const other = Object.entries(byOutcome)
    .filter(([k, n]) => !known.includes(k) && n > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return [...rows, ...other].map(([k, n]) => `${k.replace(/_/g, ' ')} ${formatCount(n)}`).join(' · ');
}

/** What the failed-attempts figure means, with its outcomes, for a tooltip. */
export function failedAttemptsTitle(window: string, byOutcome: Record<string, number> | null | undefined): string {
  const outcomes = failedAttemptOutcomes(byOutcome);
  return (
    `HTTP attempts sent upstream in ${window} that did not end ok (429, other 4xx, 5xx, timeout, connection error, cancelled), ` +
    'each attempt counted, retries included: what the upstream counts as failed calls, so it can exceed the requests that failed.' +
    (outcomes === null ? '' : outcomes === '' ? ' None failed.' : ` By outcome: ${outcomes}.`)
  );
}
