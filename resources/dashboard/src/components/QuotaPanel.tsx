import { formatCount, formatFactor } from '../format';
import { type EngineConfig, type MetricsSnapshot, type ModelQuota, QUOTA_DIMENSIONS, type QuotaDimensionKey } from '../protocol';
import { answersPerCall, callKindBars, DIMENSIONS, failedAttemptsTitle, quotaGauge } from '../quota';
import type { Theme } from '../theme';
import { Bars, Stat } from './Bits';
import { Chart } from './Chart';

/** A knob's value for a sentence: a number formatted, a string as it is, anything else a dash. */
function knob(config: EngineConfig | null, key: string): string {
  const v = config?.[key];
  if (typeof v === 'number') return formatCount(v);
  return typeof v === 'string' ? v : '—';
}

function DimensionGauge({ model, dim }: { model: ModelQuota; dim: QuotaDimensionKey }) {
  const d = model[dim];
  const g = quotaGauge(d);
  const meta = DIMENSIONS[dim];
  return (
    <td
      className="gauge"
      data-testid={`quota-${dim}`}
      data-kind={g.kind}
      data-limit={d?.limit ?? ''}
      data-used={d?.used ?? ''}
      data-source={g.source}
      data-blocked-ms={d?.blockedForMs ?? ''}
      title={`${meta.name}: ${meta.meaning}`}
    >
      <div className="gauge-text">
        <b data-testid={`quota-${dim}-used`}>{g.used}</b>
        {g.kind === 'unlimited' ? <span className="muted"> used,</span> : null}{' '}
        <span className="muted" data-testid={`quota-${dim}-limit`}>
          {g.limit}
        </span>
        {g.percent ? <span className="gauge-pct">{g.percent}</span> : null}
      </div>
      {g.kind === 'limited' ? (
        <div className="meter thin" role="meter" aria-label={`${model.model} ${meta.name} used`} aria-valuemin={0} aria-valuemax={1} aria-valuenow={g.ratio ?? 0}>
          <div className={`meter-fill level-${g.level}`} style={{ width: `${Math.min(100, (g.ratio ?? 0) * 100)}%` }} />
        </div>
      ) : null}
      {g.kind !== 'missing' && (g.source !== 'none' || g.blocked) ? (
        <div className="gauge-badges">
          {g.source !== 'none' ? (
            <span className={`chip source source-${g.source}`} data-testid={`quota-${dim}-source`} title={g.sourceTitle}>
              {g.source}
            </span>
          ) : null}
          {g.blocked ? (
            <span className="badge level-refusing" data-testid={`quota-${dim}-blocked`}>
              {g.blocked}
            </span>
          ) : null}
        </div>
      ) : null}
    </td>
  );
}

/**
 * Quota efficiency: what the upstream calls bought (answers per call, calls
 * by kind, 429s, failed attempts, pack members; the snapshot's last60s
 * window), and each
 * model's upstream budget (UpstreamBudget) per dimension.
 */
export function QuotaPanel({
  latest,
  config,
  chart,
  theme,
}: {
  latest: MetricsSnapshot | null;
  config: EngineConfig | null;
  /** [t, answers per call, upstream 429/s], from the 10 s window of each snapshot. */
  chart: (number | null)[][];
  theme: Theme;
}) {
  const w = latest?.last60s ?? null;
  const apc = answersPerCall(w);
  const pm = w?.packMembers ?? null;
  const byKind = w?.upstreamCallsByKind ?? null;
  const quota = latest?.quota ?? null;
  const u429 = w?.upstream429 ?? null;
  const failedAttempts = w?.upstreamAttemptsFailed ?? null;

  return (
    <section className="card wide" aria-labelledby="h-quota">
      <h2 id="h-quota">
        Upstream quota <span className="unit">what a unit of quota buys, last 60 s; budget per model, now</span>
      </h2>
      <div className="quota-top">
        <div>
          <div className="stats quota-stats">
            <Stat
              id="quota-answers-per-call"
              label="answers per upstream call"
              value={apc ?? undefined}
              text={formatFactor(apc)}
              sub={w && w.answersPerUpstreamCall !== null && w.upstreamCalls === 0 ? 'no upstream calls' : 'the pack factor: ok answers / calls'}
              emphasis
            />
            <Stat id="quota-upstream-calls" label="upstream calls" value={w?.upstreamCalls} text={formatCount(w?.upstreamCalls)} sub="HTTP calls sent, every attempt" />
            <Stat id="quota-upstream-429" label="upstream 429s" value={u429 ?? undefined} text={formatCount(u429)} sub="calls the upstream refused" level={u429 !== null && u429 > 0 ? 'refusing' : undefined} />
            <Stat
              id="quota-upstream-attempts-failed"
              label="failed attempts"
              value={failedAttempts ?? undefined}
              text={formatCount(failedAttempts)}
              sub="every attempt not ok, retries incl."
              level={failedAttempts !== null && failedAttempts > 0 ? 'refusing' : undefined}
              title={failedAttemptsTitle('the last 60 s', w?.upstreamAttemptsByOutcome)}
            />
            <Stat id="quota-ok" label="answers" value={w?.ok} text={formatCount(w?.ok)} sub="requests answered ok" />
          </div>
          <Chart
            testId="chart-quota"
            ariaLabel="Answers per upstream call and upstream 429s per second over time"
            theme={theme}
            data={chart}
            xUnit="time"
            yUnits={['answers/call', 'calls/s']}
            height={150}
            yMax={(data) => Math.max(2, ...(data[1] ?? []).map((v) => v ?? 0)) * 1.1}
            series={[
              { label: 'answers per call (10 s window)', color: '--c-calls', width: 2.25 },
              { label: 'upstream 429s/s', color: '--c-errors', axis: 1 },
            ]}
          />
        </div>
        <div>
          <h3>Upstream calls by kind</h3>
          {byKind ? (
            <Bars testId="quota-calls-by-kind" items={callKindBars(byKind)} unit="calls" empty="No upstream calls in the last 60 s." />
          ) : (
            <p className="empty" data-testid="quota-calls-by-kind" data-empty="true">
              — (not reported by this gateway)
            </p>
          )}
          <h3>Pack members</h3>
          <div className="kv-row">
            <span>
              answered <b data-testid="quota-pack-answered" data-value={pm?.answered ?? ''}>{formatCount(pm?.answered)}</b>
            </span>
            <span>
              repacked <b data-testid="quota-pack-repacked" data-value={pm?.repacked ?? ''}>{formatCount(pm?.repacked)}</b>
            </span>
            <span>
              failed <b data-testid="quota-pack-failed" data-value={pm?.failed ?? ''} className={pm && pm.failed > 0 ? 'bad' : ''}>{formatCount(pm?.failed)}</b>
            </span>
          </div>
          <p className="muted small" data-testid="quota-packing">
            packing <b data-testid="quota-packing-mode">{knob(config, 'packing')}</b>, up to {knob(config, 'maxPackSize')} per pack;{' '}
            {config?.quotaProbeRpm === 0 ? 'an unknown RPM is not limited' : `an unknown RPM is probed from ${knob(config, 'quotaProbeRpm')} calls/min`}
          </p>
        </div>
      </div>

      <h3>Budget per model</h3>
      {quota === null ? (
        <p className="empty" data-testid="quota-models" data-state="missing">
          — (this gateway does not report its upstream budget)
        </p>
      ) : quota.length === 0 ? (
        <p className="empty" data-testid="quota-models" data-state="empty">
          No model has been called yet.
        </p>
      ) : (
        <table className="quota" data-testid="quota-models" data-state="models">
          <thead>
            <tr>
              <th scope="col">model</th>
              {QUOTA_DIMENSIONS.map((dim) => (
                <th scope="col" key={dim} title={DIMENSIONS[dim].meaning}>
                  {DIMENSIONS[dim].name} <span className="muted">{DIMENSIONS[dim].unit}</span>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {quota.map((m) => (
              <tr key={m.model} data-testid="quota-model" data-model={m.model}>
                <th scope="row">{m.model}</th>
                {QUOTA_DIMENSIONS.map((dim) => (
                  <DimensionGauge key={dim} model={m} dim={dim} />
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
