// What the dashboard shows of the answer cache (the snapshot's `answerCache`,
// and the lookups in each window's `cache`), derived from a snapshot: pure
// functions, so the rules are tested without a browser:
//  - the hit ratio is hits / (hits + misses): "—" for a window without a
//    lookup (the gateway then sends 0, which would read as "never hits");
//    lookups the cache bypassed (streams, Cache-Control) are not in it;
//  - a cache that is off reads "off" (nothing is looked up or counted);
//  - a gateway older than the cache sends none: "—", not made-up zeros.
import { formatBytes, formatCount, formatPercent } from './format';
import type { CacheLookups, MetricsSnapshot } from './protocol';

/** hits / (hits + misses) of a window, or null when it had no lookup or the gateway does not report lookups. */
export function cacheHitRatio(c: CacheLookups | null | undefined): number | null {
  if (!c || c.hits + c.misses <= 0) return null;
  return c.hitRatio;
}

export interface AnswerCacheView {
  /** missing: an older gateway; off: answerCache.enabled false; on: caching. */
  kind: 'missing' | 'off' | 'on';
  /** The tile's big figure: the last 60 s hit ratio ("42.0 %", "—"), or "off". */
  headline: string;
  /** Hit ratio of the last 60 s and since start; null when it cannot be told. */
  hitRatio60s: number | null;
  hitRatioTotal: number | null;
  /** "42.0 %" or "—". */
  hitRatio60sText: string;
  hitRatioTotalText: string;
  /** Lookups in the last 60 s; null from a gateway that does not report them. */
  lookups: CacheLookups | null;
  /** "12 MiB", or "—" (also when the cache is off). */
  used: string;
  /** "of 64 MiB", or "—". */
  max: string;
  /** usedBytes / maxBytes for the meter; null when off, missing or without a size. */
  fill: number | null;
  /** "1 234 entries", "1 entry", or "—". */
  entriesText: string;
  /** "12 MiB of 64 MiB · 1 234 entries", "off", or "—". */
  text: string;
}

/** The answer cache tile of a snapshot: its state now, and the lookups of last60s and total. */
export function answerCacheView(s: MetricsSnapshot | null | undefined): AnswerCacheView {
  const lookups = s?.last60s.cache ?? null;
  const hitRatio60s = cacheHitRatio(lookups);
  const hitRatioTotal = cacheHitRatio(s?.total.cache);
  const ratios = { hitRatio60s, hitRatioTotal, hitRatio60sText: formatPercent(hitRatio60s), hitRatioTotalText: formatPercent(hitRatioTotal), lookups };
  const c = s?.answerCache ?? null;
  if (!c) return { kind: 'missing', headline: '—', ...ratios, used: '—', max: '—', fill: null, entriesText: '—', text: '—' };
  if (!c.enabled) return { kind: 'off', headline: 'off', ...ratios, used: '—', max: '—', fill: null, entriesText: '—', text: 'off' };
  const used = formatBytes(Math.max(0, c.usedBytes));
  const max = c.maxBytes > 0 ? `of ${formatBytes(c.maxBytes)}` : '—';
  const entriesText = `${formatCount(c.entries)} ${c.entries === 1 ? 'entry' : 'entries'}`;
  return {
    kind: 'on',
    headline: ratios.hitRatio60sText,
    ...ratios,
    used,
    max,
    fill: c.maxBytes > 0 ? Math.max(0, c.usedBytes) / c.maxBytes : null,
    entriesText,
    text: c.maxBytes > 0 ? `${used} ${max} · ${entriesText}` : `${used} · ${entriesText}`,
  };
}
