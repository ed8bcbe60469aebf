import { formatCount } from '../format';
import { memoryGauge } from '../memory';
import type { MetricsSnapshot } from '../protocol';

const MEANING =
  'Memory that admitted work holds (request bodies with their parsing, answers not yet sent) against the ' +
  "gateway's memory budget (--memory-budget-bytes, server.memoryBudgetBytes). A request that does not fit is " +
  'answered 503 with Retry-After instead of being read.';

/**
 * The memory budget under the backpressure meter: what admitted work holds
 * of the budget, a meter with the backpressure levels, and the refusals
 * since start; "no budget" when the limit is 0, "—" from an older gateway.
 */
export function MemoryBudgetRow({ latest }: { latest: MetricsSnapshot | null }) {
  const m = latest?.memoryBudget ?? null;
  const g = memoryGauge(m);
  const title =
    g.kind === 'limited'
      ? `${MEANING} Now ${g.text}; ${g.refusalsText} since start.`
      : g.kind === 'unlimited'
        ? `${MEANING} No budget is set (limit 0): the bytes are counted, nothing is refused for memory.`
        : MEANING;
  return (
    <div
      className="bp-row"
      data-testid="memory-budget"
      data-kind={g.kind}
      data-used={m?.usedBytes ?? ''}
      data-limit={m?.limitBytes ?? ''}
      data-level={g.level}
      title={title}
    >
      <span className="bp-label">Memory budget</span>
      {g.kind === 'limited' ? (
        <div className="meter" role="meter" aria-label="memory budget used" aria-valuemin={0} aria-valuemax={1} aria-valuenow={g.ratio ?? 0}>
          <div className={`meter-fill level-${g.level}`} style={{ width: `${Math.min(100, (g.ratio ?? 0) * 100)}%` }} />
        </div>
      ) : null}
      <span data-testid="memory-budget-text">{g.text}</span>
      {m ? (
        <span className="muted">
          <b data-testid="memory-budget-refusals" data-value={m.refusals} className={m.refusals > 0 ? 'bad' : ''}>
            {formatCount(m.refusals)}
          </b>{' '}
          refused since start
        </span>
      ) : latest ? (
        <span className="muted">(not reported by this gateway)</span>
      ) : null}
    </div>
  );
}
