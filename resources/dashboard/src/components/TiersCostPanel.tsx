import { TIER_MEANINGS, batchModeView, costView, tiersView } from '../cost';
import type { MetricsSnapshot } from '../protocol';
import { Stat } from './Bits';

/**
 * The upstream service tiers and what the answers cost (since start): per
 * tier requests, flex's shed calls, tokens and cost; the total, what it
 * would have cost all on the standard tier and the saving; Batch Mode now.
 * "—" from a gateway older than these fields.
 */
export function TiersCostPanel({ latest }: { latest: MetricsSnapshot | null }) {
  const tiers = tiersView(latest);
  const cost = costView(latest);
  const batch = batchModeView(latest);
  const c = latest?.cost ?? null;
  const b = batch.state;
  const notReported = latest ? 'not reported by this gateway' : undefined;
  return (
    <section className="card" aria-labelledby="h-tiers" data-testid="tiers-cost" data-kind={tiers.kind}>
      <h2 id="h-tiers">
        Tiers &amp; cost <span className="unit">USD at the configured prices, since start</span>
      </h2>
      <div className="stats quota-stats">
        <Stat id="cost-usd" label="cost" value={c?.usd} text={cost.actual} sub={cost.kind === 'missing' ? notReported : 'what the answers cost'} emphasis />
        <Stat id="cost-standard-usd" label="all on standard" value={c?.standardUsd} text={cost.standard} sub={cost.kind === 'missing' ? undefined : 'the same answers on the standard tier'} />
        <Stat
          id="cost-saving-usd"
          label="saving"
          value={c?.savingUsd}
          text={cost.saving}
          sub={cost.kind === 'missing' ? undefined : cost.negative ? 'dearer tiers cost more than they saved' : 'all standard − cost'}
          level={cost.negative ? 'refusing' : undefined}
        />
        <Stat
          id="cost-saving-ratio"
          label="saving share"
          value={cost.savingRatio ?? undefined}
          text={cost.savingPercent}
          sub={cost.kind === 'none' ? 'nothing cost yet' : cost.kind === 'missing' ? undefined : 'of the all-standard cost'}
          level={cost.negative ? 'refusing' : undefined}
        />
      </div>
      <table className="quota tiers" data-testid="tier-table">
        <thead>
          <tr>
            <th scope="col">tier</th>
            <th scope="col" className="num">requests</th>
            <th scope="col" className="num" title="Flex calls the upstream shed (503), sent on as standard">shed</th>
            <th scope="col" className="num">prompt tokens</th>
            <th scope="col" className="num">output tokens</th>
            <th scope="col" className="num">cost</th>
          </tr>
        </thead>
        <tbody>
          {tiers.rows.map((r) => {
            const t = r.stats;
            return (
              <tr key={r.name} data-testid="tier-row" data-tier={r.name} data-reported={t ? 'true' : 'false'} title={TIER_MEANINGS[r.name]}>
                <th scope="row">{r.name}</th>
                <td className="num" data-testid="tier-requests" data-value={t?.requests ?? ''}>
                  {r.requests}
                </td>
                <td className={`num${r.shedHighlighted ? ' warn' : ''}`} data-testid="tier-shed" data-value={t?.shed ?? ''}>
                  {r.shed}
                </td>
                <td className="num" data-testid="tier-prompt-tokens" data-value={t?.promptTokens ?? ''}>
                  {r.promptTokens}
                </td>
                <td className="num" data-testid="tier-output-tokens" data-value={t?.outputTokens ?? ''}>
                  {r.outputTokens}
                </td>
                <td className="num" data-testid="tier-cost" data-value={t?.costUsd ?? ''}>
                  {r.cost}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <div
        className="kv-row batch-mode"
        data-testid="batch-mode"
        data-kind={batch.kind}
        data-gathering={b?.gathering ?? ''}
        data-jobs-running={b?.jobsRunning ?? ''}
        data-waiting={b?.waiting ?? ''}
        data-jobs-submitted={b?.jobsSubmitted ?? ''}
        data-requests-submitted={b?.requestsSubmitted ?? ''}
        title="Gemini Batch Mode: requests gathered for the next job, upstream jobs not finished, clients waiting for an answer from one, and what was submitted since start"
      >
        <span className="kv-label">Batch Mode</span>
        <span data-testid="batch-mode-text">{batch.text}</span>
        {batch.kind === 'missing' && latest ? <span className="muted">(not reported by this gateway)</span> : null}
      </div>
    </section>
  );
}
