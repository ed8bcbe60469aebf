// What the tenants table shows (the snapshot's `tenants`: an API key's digest
// "key-" + 16 hex digits, or an X-Sluice-Tenant name; the most active, at
// most 20), derived from a snapshot: pure functions, so the rules are tested
// without a browser (the console's TenantView says the same):
//  - one row per tenant in the snapshot's order (most active first), ids as
//    given (keys arrive hashed; the dashboard never sees a key);
//  - weight is its share of the upstream within a class: "1", "2.5", "0.125";
//    queued and in flight are now; completed and rejected since start;
//  - no tenant yet: no rows and a note; a gateway older than tenants: "—".
import { formatCount } from './format';
import type { MetricsSnapshot, TenantStats } from './protocol';

/** The gateway sends at most this many tenants. */
export const MAX_TENANTS_SHOWN = 20;

/** A weight in four significant figures, as the console's TenantView: 1 → "1", 2.5 → "2.5", 0.125 → "0.125", 1/3 → "0.3333"; not finite → "—". */
export function formatWeight(w: number | null | undefined): string {
  if (w === null || w === undefined || !Number.isFinite(w)) return '—';
  return String(Number(w.toPrecision(4)));
}

export interface TenantRow {
  id: string;
  stats: TenantStats;
  weight: string;
  queued: string;
  inflight: string;
  completed: string;
  rejected: string;
  rejectedHighlighted: boolean;
}

export interface TenantsView {
  /** missing: an older gateway; empty: no tenant yet; reported: at least one. */
  kind: 'missing' | 'empty' | 'reported';
  rows: TenantRow[];
  /** "12 tenants shown, most active first", "1 tenant", "no tenant yet", or "—". */
  summary: string;
}

/** The tenants table of a snapshot. */
export function tenantsView(s: MetricsSnapshot | null | undefined): TenantsView {
  const list = s?.tenants ?? null;
  if (list === null) return { kind: 'missing', rows: [], summary: '—' };
  if (list.length === 0) return { kind: 'empty', rows: [], summary: 'no tenant yet' };
  const rows = list.map((t) => ({
    id: t.id,
    stats: t,
    weight: formatWeight(t.weight),
    queued: formatCount(t.queued),
    inflight: formatCount(t.inflight),
    completed: formatCount(t.completed),
    rejected: formatCount(t.rejected),
    rejectedHighlighted: t.rejected > 0,
  }));
  const summary =
    list.length === 1
      ? '1 tenant'
      : `${list.length} tenants shown, most active first${list.length >= MAX_TENANTS_SHOWN ? ` (the gateway sends at most ${MAX_TENANTS_SHOWN})` : ''}`;
  return { kind: 'reported', rows, summary };
}
