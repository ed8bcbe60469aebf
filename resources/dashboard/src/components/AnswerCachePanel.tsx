import { answerCacheView } from '../cache';
import { formatCount } from '../format';
import type { MetricsSnapshot } from '../protocol';
import { Stat } from './Bits';

/**
 * The answer cache: its hit ratio over the last 60 s and since start, the
 * lookups of the last 60 s (hits, misses, bypassed), and what it holds now
 * (bytes of its limit, entries); "off" when the gateway's cache is disabled,
 * "—" from a gateway older than the cache.
 */
export function AnswerCachePanel({ latest }: { latest: MetricsSnapshot | null }) {
  const v = answerCacheView(latest);
  const c = latest?.answerCache ?? null;
  const l = v.lookups;
  const headlineSub =
    v.kind === 'off'
      ? 'answers are not cached'
      : v.kind === 'missing'
        ? latest
          ? 'not reported by this gateway'
          : undefined
        : v.hitRatio60s === null
          ? 'no lookups in the last 60 s'
          : 'hits / (hits + misses)';
  return (
    <section className="card" aria-labelledby="h-cache" data-testid="answer-cache" data-kind={v.kind}>
      <h2 id="h-cache">
        Answer cache <span className="unit">hit ratio and lookups, last 60 s; size, now</span>
      </h2>
      <div className="stats quota-stats">
        <Stat
          id="cache-hit-ratio"
          label="hit ratio"
          value={v.kind === 'on' ? (v.hitRatio60s ?? undefined) : undefined}
          text={v.headline}
          sub={headlineSub}
          emphasis
          title="Gemini model calls answered from the cache, of those looked up in it (hits + misses), in the last 60 s"
        />
        <Stat id="cache-hit-ratio-total" label="since start" value={v.hitRatioTotal ?? undefined} text={v.hitRatioTotalText} sub="hit ratio" />
      </div>
      <div className="kv-row" data-testid="cache-lookups">
        <span className="bp-label kv-label">Lookups</span>
        <span title="Answered from the cache">
          hits <b data-testid="cache-hits" data-value={l?.hits ?? ''}>{formatCount(l?.hits)}</b>
        </span>
        <span title="Looked up and not found: answered upstream">
          misses <b data-testid="cache-misses" data-value={l?.misses ?? ''}>{formatCount(l?.misses)}</b>
        </span>
        <span title="Not looked up: the cache is off, a stream, Cache-Control">
          bypassed <b data-testid="cache-bypassed" data-value={l?.bypassed ?? ''}>{formatCount(l?.bypassed)}</b>
        </span>
        <span className="muted">in the last 60 s</span>
      </div>
      <div className="bp-row" data-testid="cache-size" data-used={c?.usedBytes ?? ''} data-max={c?.maxBytes ?? ''} data-entries={c?.entries ?? ''}>
        <span className="bp-label kv-label">Size</span>
        {v.fill !== null ? (
          <div className="meter" role="meter" aria-label="answer cache used" aria-valuemin={0} aria-valuemax={1} aria-valuenow={v.fill}>
            <div className="meter-fill" style={{ width: `${Math.min(100, v.fill * 100)}%` }} />
          </div>
        ) : null}
        <span data-testid="cache-size-text">{v.text}</span>
        {v.kind === 'missing' && latest ? <span className="muted">(not reported by this gateway)</span> : null}
      </div>
    </section>
  );
}
