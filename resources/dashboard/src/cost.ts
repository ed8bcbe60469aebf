// What the tiers & cost panel shows (the snapshot's `tiers`, `cost` and
// `batchMode`), derived from a snapshot: pure functions, so the rules are
// tested without a browser (the console's TierCostView says the same):
//  - the four tiers are always listed in their order (standard, flex,
//    priority, batch), then any other tier the snapshot names; a tier the
//    list lacks reads "—";
//  - shed is flex's alone (answers the upstream shed with 503 and Sluice sent
//    on as standard): "—" on the other tiers unless they report some;
//  - the saving is what the answers would have cost all on the standard tier
//    minus what they cost, in USD and as a share of the former: "—" when
//    nothing cost (no share of 0); a negative saving (the priority tier costs
//    more) is shown as such;
//  - Batch Mode reads "off" when not enabled;
//  - a gateway older than these fields sends none: "—", not made-up zeros.
import { formatCount, formatPercent, formatUsd } from './format';
import { type BatchModeState, type MetricsSnapshot, SERVICE_TIERS, type TierStats } from './protocol';

/** What each tier is, for tooltips. */
export const TIER_MEANINGS: Record<string, string> = {
  standard: 'the default synchronous tier',
  flex: 'cheaper synchronous tier the upstream may shed (503); shed calls are sent on as standard',
  priority: 'dearer synchronous tier, served first upstream',
  batch: "Gemini's asynchronous Batch Mode (batchGenerateContent)",
};

export interface TierRow {
  name: string;
  /** The tier's entry; null when the gateway does not report it. */
  stats: TierStats | null;
  requests: string;
  shed: string;
  /** Shed calls: worth a colour. */
  shedHighlighted: boolean;
  promptTokens: string;
  outputTokens: string;
  cost: string;
}

export interface TiersView {
  /** missing: an older gateway; reported: the snapshot has `tiers`. */
  kind: 'missing' | 'reported';
  rows: TierRow[];
}

function tierRow(name: string, t: TierStats | null): TierRow {
  const shedShown = t !== null && (name === 'flex' || t.shed > 0);
  return {
    name,
    stats: t,
    requests: formatCount(t?.requests),
    shed: shedShown ? formatCount(t.shed) : '—',
    shedHighlighted: shedShown && t.shed > 0,
    promptTokens: formatCount(t?.promptTokens),
    outputTokens: formatCount(t?.outputTokens),
    cost: t ? formatUsd(t.costUsd) : '—',
  };
}

/** The tier table of a snapshot. */
export function tiersView(s: MetricsSnapshot | null | undefined): TiersView {
  const list = s?.tiers ?? null;
  const rows = SERVICE_TIERS.map((name) => tierRow(name, list?.find((t) => t.name === name) ?? null));
  if (list === null) return { kind: 'missing', rows };
  const seen = new Set<string>(SERVICE_TIERS);
  for (const t of list) {
    if (seen.has(t.name)) continue;
    seen.add(t.name);
    rows.push(tierRow(t.name, t));
  }
  return { kind: 'reported', rows };
}

export interface CostView {
  /** missing: an older gateway; none: nothing cost yet; reported: something did. */
  kind: 'missing' | 'none' | 'reported';
  /** What the answers cost since start: "$1.23", or "—". */
  actual: string;
  /** What they would have cost all on the standard tier. */
  standard: string;
  /** standard − actual: "$0.77", "-$0.1000", or "—". */
  saving: string;
  /** Its share of the standard cost: "38.5 %", or "—" when nothing cost. */
  savingPercent: string;
  /** The saving in USD and its ratio; null when it cannot be told. */
  savingUsd: number | null;
  savingRatio: number | null;
  /** The saving is an extra cost (dearer tiers outweigh the cheaper ones). */
  negative: boolean;
  /** "cost $1.23 · all standard $2.00 · saving $0.77 (38.5 %)", or "—". */
  text: string;
}

/** The cost summary of a snapshot. */
export function costView(s: MetricsSnapshot | null | undefined): CostView {
  const c = s?.cost ?? null;
  if (!c) {
    return { kind: 'missing', actual: '—', standard: '—', saving: '—', savingPercent: '—', savingUsd: null, savingRatio: null, negative: false, text: '—' };
  }
  const anything = c.standardUsd > 0;
  const actual = formatUsd(c.usd);
  const standard = formatUsd(c.standardUsd);
  const saving = formatUsd(c.savingUsd);
  const savingRatio = anything ? c.savingRatio : null;
  const savingPercent = formatPercent(savingRatio);
  return {
    kind: anything || c.usd > 0 ? 'reported' : 'none',
    actual,
    standard,
    saving,
    savingPercent,
    savingUsd: c.savingUsd,
    savingRatio,
    negative: c.savingUsd < 0,
    text: `cost ${actual} · all standard ${standard} · saving ${saving} (${savingPercent})`,
  };
}

export interface BatchModeView {
  /** missing: an older gateway; off: not enabled; on: enabled. */
  kind: 'missing' | 'off' | 'on';
  state: BatchModeState | null;
  /** "gathering 12 · jobs running 2 · clients waiting 40 · submitted 5 jobs, 500 requests", "off", or "—". */
  text: string;
}

/** The Batch Mode line of a snapshot. */
export function batchModeView(s: MetricsSnapshot | null | undefined): BatchModeView {
  const b = s?.batchMode ?? null;
  if (!b) return { kind: 'missing', state: null, text: '—' };
  if (!b.enabled) return { kind: 'off', state: b, text: 'off' };
  const jobs = `${formatCount(b.jobsSubmitted)} ${b.jobsSubmitted === 1 ? 'job' : 'jobs'}`;
  const requests = `${formatCount(b.requestsSubmitted)} ${b.requestsSubmitted === 1 ? 'request' : 'requests'}`;
  return {
    kind: 'on',
    state: b,
    text:
      `gathering ${formatCount(b.gathering)} · jobs running ${formatCount(b.jobsRunning)} · ` +
      `clients waiting ${formatCount(b.waiting)} · submitted ${jobs}, ${requests}`,
  };
}
