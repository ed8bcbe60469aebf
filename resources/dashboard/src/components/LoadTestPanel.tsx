import { useMemo } from 'react';
import { formatCount, formatMs, formatPercent, formatRate } from '../format';
import type { LoadTest } from '../protocol';
import type { Theme } from '../theme';
import { Chart } from './Chart';

const LEVEL: Record<LoadTest['state'], string> = { idle: 'none', running: 'elevated', finished: 'low', failed: 'refusing' };

export function LoadTestPanel({ loadtest, theme }: { loadtest: LoadTest | null; theme: Theme }) {
  const data = useMemo(() => {
    const c = [...(loadtest?.curve ?? [])].sort((a, b) => a.users - b.users);
    return [c.map((p) => p.users), c.map((p) => p.offeredRps), c.map((p) => p.achievedRps), c.map((p) => p.p95Ms)];
  }, [loadtest]);
  const inf = loadtest?.inflection ?? null;
  const markers = useMemo(() => (inf ? [{ x: inf.users, label: `inflection: ${formatCount(inf.users)} users` }] : []), [inf]);
  const pct = loadtest && loadtest.steps > 0 ? Math.min(1, loadtest.step / loadtest.steps) : 0;

  return (
    <section className="card wide" aria-labelledby="h-loadtest">
      <h2 id="h-loadtest">
        Load test <span className="unit">throughput curve: req/s (left) and p95 ms (right) against users</span>
      </h2>
      {loadtest === null ? (
        <p className="empty" data-testid="loadtest-state" data-state="none">
          No load test since the server started. Start one with POST /api/v1/loadtests or <code>sluice --capture-baseline</code>.
        </p>
      ) : (
        <>
          <div className="kv-row">
            <span className={`badge level-${LEVEL[loadtest.state]}`} data-testid="loadtest-state" data-state={loadtest.state}>
              {loadtest.state}
            </span>
            <span>
              step <b data-testid="loadtest-step" data-value={loadtest.step}>{loadtest.step}</b> of {loadtest.steps}
            </span>
            <div className="meter small" role="progressbar" aria-valuemin={0} aria-valuemax={loadtest.steps} aria-valuenow={loadtest.step}>
              <div className="meter-fill level-low" style={{ width: `${pct * 100}%` }} />
            </div>
            <span>
              users <b data-testid="loadtest-users" data-value={loadtest.users}>{formatCount(loadtest.users)}</b>
            </span>
            {inf ? (
              <span data-testid="loadtest-inflection">
                inflection at <b>{formatCount(inf.users)} users</b>: {formatRate(inf.throughputRps, 'req')}, p95 {formatMs(inf.p95Ms)}, queue depth {formatCount(inf.queueDepth)}
              </span>
            ) : (
              <span className="muted">no inflection found yet</span>
            )}
            {loadtest.curve.length > 0 ? (
              <span className="muted">
                errors at last step {formatPercent(loadtest.curve[loadtest.curve.length - 1]?.errorRate)}
              </span>
            ) : null}
          </div>
          {loadtest.error ? (
            <p className="banner-inline level-refusing" data-testid="loadtest-error">
              {loadtest.error}
            </p>
          ) : null}
          <Chart
            testId="chart-loadtest"
            ariaLabel="Throughput curve of the load test with its inflection point"
            theme={theme}
            data={data}
            xUnit="users"
            yUnits={['req/s', 'ms']}
            markers={markers}
            series={[
              { label: 'offered', color: '--c-capacity', dash: true },
              { label: 'achieved', color: '--c-rps', width: 2.25 },
              { label: 'p95', color: '--c-p95', axis: 1 },
            ]}
          />
        </>
      )}
    </section>
  );
}
