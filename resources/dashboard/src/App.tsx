import { useMemo } from 'react';
import { Chart } from './components/Chart';
import { ConfigTable } from './components/ConfigTable';
import { Header } from './components/Header';
import { Bars, Stat } from './components/Bits';
import { AnswerCachePanel } from './components/AnswerCachePanel';
import { FirstTokenRow } from './components/FirstTokenRow';
import { LoadTestPanel } from './components/LoadTestPanel';
import { MemoryBudgetRow } from './components/MemoryBudgetRow';
import { DriftPanel } from './components/DriftPanel';
import { PriorityClassesPanel } from './components/PriorityClassesPanel';
import { QuotaPanel } from './components/QuotaPanel';
import { TenantsPanel } from './components/TenantsPanel';
import { TiersCostPanel } from './components/TiersCostPanel';
import { formatCount, formatMs, formatPercent, formatRate } from './format';
import { coalescedPerSecond, failedAttemptsTitle } from './quota';
import { useLive } from './live';
import type { WindowStats } from './protocol';
import { useTheme } from './theme';

export function backpressureLevel(bp: number, draining: boolean): { level: string; label: string } {
  if (draining) return { level: 'refusing', label: 'draining: new requests get 503' };
  if (bp >= 1) return { level: 'refusing', label: 'full: new requests get 429' };
  if (bp >= 0.8) return { level: 'high', label: 'high' };
  if (bp >= 0.5) return { level: 'elevated', label: 'elevated' };
  return { level: 'low', label: 'low' };
}

const EMPTY_WINDOW_NOTE = 'sliding 10 s window of the newest snapshot';

export function App() {
  const { state, conn, retryNow, setToken } = useLive();
  const [theme, toggleTheme] = useTheme();
  const { latest, series, seriesRev, config } = state;
  const w: WindowStats | null = latest?.last10s ?? null;
  const stale = conn.state !== 'live';

  const cols = useMemo(() => {
    const c = (k: Parameters<typeof series.column>[0]) => series.column(k);
    const t = c('t');
    return {
      latency: [t, c('p50Ms'), c('p95Ms'), c('p99Ms'), series.columnWithGaps('ttftP95Ms')],
      queue: [t, c('queueDepth'), c('queueCapacity')],
      throughput: [t, c('rps'), c('promptTps'), c('outputTps')],
      upstream: [t, c('upstreamCallsPs'), c('upstreamErrorsPs'), c('rejectedPs')],
      quota: [t, series.columnWithGaps('answersPerCall'), series.columnWithGaps('upstream429Ps')],
      classes: [t, series.columnWithGaps('queuedInteractive'), series.columnWithGaps('queuedStandard'), series.columnWithGaps('queuedBackground')],
    };
    // series is mutated in place; seriesRev says when
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [series, seriesRev]);

  const coalescedPs = coalescedPerSecond(w);
  const bp = backpressureLevel(latest?.backpressure ?? 0, latest?.draining ?? false);
  const capacity = latest?.queueCapacity ?? 0;

  const batchBars = useMemo(() => {
    const sizes = w?.batchSizes ?? [];
    let lastNonZero = sizes.reduce((acc, b, i) => (b.batches > 0 ? i : acc), -1);
    lastNonZero = Math.max(lastNonZero, 4);
    return sizes.slice(0, lastNonZero + 1).map((b) => ({ key: b.size, label: b.size, value: b.batches }));
  }, [w]);

  const rejectionBars = useMemo(
    () =>
      Object.entries(w?.rejections ?? {})
        .sort((a, b) => b[1] - a[1])
        .map(([reason, n]) => ({ key: reason, label: reason.replace(/_/g, ' '), value: n })),
    [w],
  );

  return (
    <div className={`app${stale ? ' stale' : ''}`}>
      <Header state={state} conn={conn} retryNow={retryNow} setToken={setToken} theme={theme} toggleTheme={toggleTheme} />

      <main>
        <section className="stats" aria-label="Current figures">
          <Stat id="stat-p50-ms" label="p50 latency" value={w?.latency.p50Ms} text={formatMs(w?.latency.p50Ms)} />
          <Stat id="stat-p95-ms" label="p95 latency" value={w?.latency.p95Ms} text={formatMs(w?.latency.p95Ms)} />
          <Stat id="stat-p99-ms" label="p99 latency" value={w?.latency.p99Ms} text={formatMs(w?.latency.p99Ms)} emphasis />
          <Stat id="stat-rps" label="requests" value={w?.requestsPerSecond} text={formatRate(w?.requestsPerSecond, 'req')} emphasis />
          <Stat
            id="stat-queue-depth"
            label="queue depth"
            value={latest?.queueDepth}
            text={latest ? formatCount(latest.queueDepth) : '—'}
            sub={latest ? `of ${formatCount(capacity)}` : undefined}
          />
          <Stat id="stat-backpressure" label="backpressure" value={latest?.backpressure} text={formatPercent(latest?.backpressure)} sub={latest ? bp.label : undefined} level={latest ? bp.level : undefined} />
          <Stat id="stat-prompt-tps" label="prompt tokens" value={w?.promptTokensPerSecond} text={formatRate(w?.promptTokensPerSecond, 'tok')} />
          <Stat id="stat-output-tps" label="output tokens" value={w?.outputTokensPerSecond} text={formatRate(w?.outputTokensPerSecond, 'tok')} />
        </section>
        <p className="window-note" data-testid="window-note">
          Figures: {EMPTY_WINDOW_NOTE} (the quota panel's and the priority classes': 60 s)
          {latest ? <> (snapshot <span data-testid="snapshot-time" data-value={latest.timestampMs}>{new Date(latest.timestampMs).toLocaleTimeString()}</span>)</> : null}. Charts: one point per snapshot, last 5 minutes.
        </p>

        <div className="grid">
          <section className="card" aria-labelledby="h-latency">
            <h2 id="h-latency">End-to-end latency <span className="unit">ms, 10 s window; dashed: time to first token p95</span></h2>
            <FirstTokenRow latest={latest} />
            <Chart
              testId="chart-latency"
              ariaLabel="Latency p50, p95 and p99, and the p95 time to first token of streams, over time"
              theme={theme}
              data={cols.latency}
              xUnit="time"
              yUnits={['ms']}
              series={[
                { label: 'p50', color: '--c-p50' },
                { label: 'p95', color: '--c-p95' },
                { label: 'p99', color: '--c-p99', width: 2.25 },
                { label: 'first token p95 (streams)', color: '--c-ttft', dash: true },
              ]}
            />
          </section>

          <section className="card" aria-labelledby="h-queue">
            <h2 id="h-queue">
              Queue depth <span className="unit">requests; capacity {formatCount(capacity)}</span>
            </h2>
            <div className="bp-row">
              <span className="bp-label">Backpressure</span>
              <div className="meter" role="meter" aria-valuemin={0} aria-valuemax={1} aria-valuenow={latest?.backpressure ?? 0}>
                <div className={`meter-fill level-${bp.level}`} style={{ width: `${Math.min(100, (latest?.backpressure ?? 0) * 100)}%` }} />
              </div>
              <span className={`badge level-${bp.level}`} data-testid="backpressure-level">
                {bp.label}
              </span>
              <span className="muted">
                in flight <b data-testid="stat-inflight" data-value={latest?.inflightBatches ?? ''}>{latest ? formatCount(latest.inflightBatches) : '—'}</b> / {latest ? formatCount(latest.maxInflightBatches) : '—'} batches
              </span>
            </div>
            <MemoryBudgetRow latest={latest} />
            <Chart
              testId="chart-queue"
              ariaLabel="Queue depth and capacity over time"
              theme={theme}
              data={cols.queue}
              xUnit="time"
              yUnits={['req']}
              height={168}
              // Depth is usually far below capacity: scale to the depth and let
              // the dashed capacity line come into view only as the queue fills.
              yMax={(data) => {
                const depthMax = Math.max(0, ...(data[1] ?? []).map((v) => v ?? 0));
                return depthMax >= capacity * 0.5 && capacity > 0 ? capacity * 1.05 : Math.max(10, depthMax * 1.25);
              }}
              series={[
                { label: 'depth', color: '--c-queue', width: 2 },
                { label: 'capacity', color: '--c-capacity', dash: true },
              ]}
            />
          </section>

          <section className="card" aria-labelledby="h-throughput">
            <h2 id="h-throughput">Throughput <span className="unit">req/s (left), tokens/s (right), 10 s window</span></h2>
            <Chart
              testId="chart-throughput"
              ariaLabel="Requests per second and tokens per second over time"
              theme={theme}
              data={cols.throughput}
              xUnit="time"
              yUnits={['req/s', 'tok/s']}
              series={[
                { label: 'requests', color: '--c-rps', width: 2.25 },
                { label: 'prompt tokens', color: '--c-prompt', axis: 1 },
                { label: 'output tokens', color: '--c-output', axis: 1 },
              ]}
            />
          </section>

          <section className="card" aria-labelledby="h-upstream">
            <h2 id="h-upstream">Upstream calls, errors and rejections <span className="unit">per second, 10 s window</span></h2>
            <div className="kv-row">
              <span>
                calls <b data-testid="stat-upstream-calls" data-value={w?.upstreamCalls ?? ''}>{formatCount(w?.upstreamCalls)}</b>
              </span>
              <span title="Requests answered by another identical request's upstream call (in-flight coalescing): answers that cost no upstream call of their own">
                coalesced <b data-testid="stat-coalesced-ps" data-value={coalescedPs ?? ''}>{formatRate(coalescedPs, 'req')}</b>{' '}
                <span className="muted small">
                  (<span data-testid="stat-coalesced-total" data-value={latest?.total.coalesced ?? ''}>{formatCount(latest?.total.coalesced)}</span> since start)
                </span>
              </span>
              <span title="Batches with at least one member that failed after its retries">
                errors <b data-testid="stat-upstream-errors" data-value={w?.upstreamErrors ?? ''} className={w && w.upstreamErrors > 0 ? 'bad' : ''}>{formatCount(w?.upstreamErrors)}</b>
              </span>
              <span title={failedAttemptsTitle('the last 10 s', w?.upstreamAttemptsByOutcome)}>
                failed attempts{' '}
                <b
                  data-testid="stat-upstream-attempts-failed"
                  data-value={w?.upstreamAttemptsFailed ?? ''}
                  className={w && w.upstreamAttemptsFailed !== null && w.upstreamAttemptsFailed > 0 ? 'bad' : ''}
                >
                  {formatCount(w?.upstreamAttemptsFailed)}
                </b>{' '}
                <span className="muted small">(each retry counted)</span>
              </span>
              <span>
                upstream p95 <b data-testid="stat-upstream-p95-ms" data-value={w?.upstream.p95Ms ?? ''}>{formatMs(w?.upstream.p95Ms)}</b>
              </span>
              <span className="muted">in the last 10 s</span>
            </div>
            <Chart
              testId="chart-upstream"
              ariaLabel="Upstream calls, upstream errors and rejections per second over time"
              theme={theme}
              data={cols.upstream}
              xUnit="time"
              yUnits={['calls/s']}
              height={168}
              series={[
                { label: 'upstream calls', color: '--c-calls', width: 2 },
                { label: 'upstream errors', color: '--c-errors' },
                { label: 'rejections', color: '--c-rejected', dash: true },
              ]}
            />
          </section>

          <QuotaPanel latest={latest} config={config} chart={cols.quota} theme={theme} />

          <AnswerCachePanel latest={latest} />

          <PriorityClassesPanel latest={latest} chart={cols.classes} theme={theme} />
          <TiersCostPanel latest={latest} />
          <TenantsPanel latest={latest} />

          <section className="card" aria-labelledby="h-batches">
            <h2 id="h-batches">Batch sizes <span className="unit">batches per size, 10 s window</span></h2>
            <div className="kv-row">
              <span>
                batches <b data-testid="stat-batches" data-value={w?.batches ?? ''}>{formatCount(w?.batches)}</b>
              </span>
              <span>
                mean size <b data-testid="stat-mean-batch-size" data-value={w?.meanBatchSize ?? ''}>{formatCount(w?.meanBatchSize)}</b>
              </span>
              <span className="muted">maxBatchSize {config && typeof config.maxBatchSize === 'number' ? config.maxBatchSize : '—'}</span>
            </div>
            <Bars testId="batch-sizes" items={batchBars} unit="batches" xLabel="requests per batch" empty="No batches in the last 10 s." />
          </section>

          <section className="card" aria-labelledby="h-rejections">
            <h2 id="h-rejections">Rejections by reason <span className="unit">requests, 10 s window</span></h2>
            <div className="kv-row">
              <span>
                rejected <b data-testid="stat-rejected" data-value={w?.rejected ?? ''} className={w && w.rejected > 0 ? 'bad' : ''}>{formatCount(w?.rejected)}</b>
              </span>
              <span className="muted">
                since start <span data-testid="stat-rejected-total" data-value={latest?.total.rejected ?? ''}>{formatCount(latest?.total.rejected)}</span>
              </span>
            </div>
            <Bars testId="rejections" items={rejectionBars} unit="requests" empty="No rejections in the last 10 s." tone="bad" />
          </section>

          <LoadTestPanel loadtest={state.loadtest} theme={theme} />
          <DriftPanel drift={state.drift} />
          <ConfigTable config={config} />
        </div>
      </main>
    </div>
  );
}
