// Number formatting for the dashboard. Every function takes any number
// (including NaN/Infinity/undefined from a partial message) and returns a
// short string; missing values show as an em dash.

const DASH = '—';

function bad(v: number | null | undefined): v is null | undefined {
  return v === null || v === undefined || !Number.isFinite(v);
}

/** Significant-figure rounding that never shows more than `maxFrac` decimals. */
function sig(v: number, maxFrac: number): string {
  const a = Math.abs(v);
  const frac = a === 0 ? 0 : a < 10 ? Math.min(maxFrac, 2) : a < 100 ? Math.min(maxFrac, 1) : 0;
  return v.toFixed(frac);
}

/** Milliseconds: "0.42 ms", "12.3 ms", "480 ms", "1.25 s", "2.0 min". */
export function formatMs(v: number | null | undefined): string {
  if (bad(v)) return DASH;
  const a = Math.abs(v);
  if (a < 1000) return `${sig(v, 2)} ms`;
  if (a < 60_000) return `${(v / 1000).toFixed(a < 10_000 ? 2 : 1)} s`;
  return `${(v / 60_000).toFixed(1)} min`;
}

/** A count with a k/M/G suffix past 10 000: "987", "9 876", "12.3k", "4.56M". */
export function formatCount(v: number | null | undefined): string {
  if (bad(v)) return DASH;
  const a = Math.abs(v);
  if (a < 10_000) {
    const r = Number.isInteger(v) ? v : Number(sig(v, 2));
    return r.toLocaleString('en-US').replace(/,/g, '\u202f');
  }
  if (a < 1e6) return `${(v / 1e3).toFixed(a < 1e5 ? 1 : 0)}k`;
  if (a < 1e9) return `${(v / 1e6).toFixed(a < 1e7 ? 2 : 1)}M`;
  return `${(v / 1e9).toFixed(2)}G`;
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/**
 * Bytes in binary units, each used until its number reaches 10 000 (where
 * formatCount would turn to "10.0k"), so the default 1 GiB memory budget
 * reads "1 024 MiB", in the unit its use usually has: "0 B", "9 999 B",
 * "40 KiB", "312 MiB", "1 024 MiB", "12 GiB" (one decimal below 10:
 * "9.8 KiB"). Negative or missing values are a dash. The console's
 * MemoryBudgetView::formatBytes says the same.
 */
export function formatBytes(v: number | null | undefined): string {
  if (bad(v) || v < 0) return DASH;
  let x = v;
  let unit = 0;
  // Round first, so 9 999.6 MiB moves on to GiB instead of reading "10.0k MiB".
  const rounded = (y: number) => (unit === 0 || y >= 10 ? Math.round(y) : Math.round(y * 10) / 10);
  while (unit + 1 < BYTE_UNITS.length && rounded(x) >= 10_000) {
    x /= 1024;
    unit++;
  }
  return `${formatCount(rounded(x))} ${BYTE_UNITS[unit]}`;
}

/** A rate: formatRate(12.34, 'req') → "12.3 req/s". */
export function formatRate(v: number | null | undefined, unit: string): string {
  if (bad(v)) return DASH;
  return `${formatCount(v)} ${unit}/s`;
}

/** A ratio 0..1 as a percentage: 0.1234 → "12.3 %", 1 → "100 %". */
export function formatPercent(v: number | null | undefined): string {
  if (bad(v)) return DASH;
  const p = v * 100;
  return `${Math.abs(p) >= 100 || p === 0 ? p.toFixed(0) : p.toFixed(Math.abs(p) < 10 ? 2 : 1)} %`;
}

/**
 * A ratio such as answers per upstream call, always with its decimals so it
 * reads as a factor: 1 → "1.00", 2.345 → "2.35", 12.34 → "12.3", 480 → "480".
 */
export function formatFactor(v: number | null | undefined): string {
  if (bad(v)) return DASH;
  const a = Math.abs(v);
  if (a < 10) return v.toFixed(2);
  if (a < 100) return v.toFixed(1);
  return formatCount(Math.round(v));
}

/** A countdown in whole seconds, rounded up so "in 0 s" never shows: 3200 → "4 s". */
export function formatCountdown(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return '0 s';
  const s = Math.ceil(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** Uptime: 42 → "42 s", 3725 → "1 h 2 min". */
export function formatUptime(seconds: number | null | undefined): string {
  if (bad(seconds) || seconds < 0) return DASH;
  const s = Math.floor(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

/** Axis tick label for a value with a unit, compact: 1500 ms → "1.5 s". */
export function formatAxis(v: number, unit: 'ms' | 'count' | 'rate'): string {
  if (unit === 'ms') return formatMs(v);
  return formatCount(v);
}

/**
 * US dollars, as the console's TierCostView::formatUsd: "$0.00" for 0, four
 * decimals under a dollar ("$0.0537"), two from a dollar ("$12.34"), grouped
 * thousands ("$1 234.50"); a negative amount (a saving that is an extra
 * cost) with a minus sign ("-$0.1200", as formatPercent); cents of a cent stay visible
 * ("< $0.0001" for 0.000012).
 */
export function formatUsd(v: number | null | undefined): string {
  if (bad(v)) return DASH;
  const a = Math.abs(v);
  if (a === 0) return '$0.00';
  if (a < 0.0001) return '< $0.0001';
  const sign = v < 0 ? '-' : '';
  const body =
    a < 1 ? a.toFixed(4) : a.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }).replace(/,/g, '\u202f');
  return `${sign}$${body}`;
}
