// What the dashboard shows of the gateway's memory budget (MemoryBudget,
// issue 17: what admitted work holds — request bodies with their parsing,
// answers not yet sent — against `server.memoryBudgetBytes`), derived from a
// snapshot: pure functions, so the rules are tested without a browser. They
// are the console's (ui/memorybudgetview.h), so both say the same thing
// about the same snapshot:
//  - a limit of 0 is "no budget": the bytes held are still shown (the
//    budget charges and counts without a limit), no meter, level none;
//  - a limit reads "used of limit" in binary units with a percentage, and
//    the level follows the backpressure meter's: 50 % elevated, 80 % high,
//    100 % refusing;
//  - refusals are counted since start (each one a 503 to its client);
//  - a gateway older than the budget sends none: "—", not a made-up 0.
import { formatBytes, formatCount, formatPercent } from './format';
import type { MemoryBudget } from './protocol';
import type { GaugeLevel } from './quota';

export interface MemoryGauge {
  /** missing: an older gateway; unlimited: limit 0 (no budget). */
  kind: 'missing' | 'unlimited' | 'limited';
  /** "312 MiB", or "—". */
  used: string;
  /** "of 1 024 MiB", "no budget", or "—". */
  limit: string;
  /** used / limit for the meter (answers are charged unasked, so it may pass 1); null without a limit. */
  ratio: number | null;
  /** "30.5 %", "< 0.01 %"; '' without a limit. */
  percent: string;
  level: GaugeLevel;
  refusals: number | null;
  /** "3 refused" (since start), or "—". */
  refusalsText: string;
  /** "312 MiB of 1 024 MiB · 30.5 %", "312 MiB held, no budget", "—". */
  text: string;
}

export function memoryGauge(m: MemoryBudget | null | undefined): MemoryGauge {
  if (!m) {
    return { kind: 'missing', used: '—', limit: '—', ratio: null, percent: '', level: 'none', refusals: null, refusalsText: '—', text: '—' };
  }
  const usedBytes = Math.max(0, m.usedBytes);
  const used = formatBytes(usedBytes);
  const refusalsText = `${formatCount(m.refusals)} refused`;
  if (m.limitBytes <= 0) {
    return { kind: 'unlimited', used, limit: 'no budget', ratio: null, percent: '', level: 'none', refusals: m.refusals, refusalsText, text: `${used} held, no budget` };
  }
  const ratio = usedBytes / m.limitBytes;
  const limit = `of ${formatBytes(m.limitBytes)}`;
  // A sliver of a large budget is not "0.00 %".
  const percent = ratio > 0 && ratio < 0.0001 ? '< 0.01 %' : formatPercent(ratio);
  const level: GaugeLevel = ratio >= 1 ? 'refusing' : ratio >= 0.8 ? 'high' : ratio >= 0.5 ? 'elevated' : 'low';
  return { kind: 'limited', used, limit, ratio, percent, level, refusals: m.refusals, refusalsText, text: `${used} ${limit} · ${percent}` };
}
