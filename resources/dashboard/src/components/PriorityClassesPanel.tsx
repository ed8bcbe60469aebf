import { CLASS_MEANINGS, classesView } from '../classes';
import { formatCount } from '../format';
import type { MetricsSnapshot } from '../protocol';
import type { Theme } from '../theme';
import { Chart } from './Chart';

/**
 * The priority classes (X-Sluice-Priority): per class what waits now,
 * latency and queue wait p50 / p95 over the last 60 s, and completed,
 * failed and rejected since start; a chart of each class's queue depth.
 * "—" from a gateway older than the classes.
 */
export function PriorityClassesPanel({
  latest,
  chart,
  theme,
}: {
  latest: MetricsSnapshot | null;
  /** [t, queued interactive, queued standard, queued background], one point per snapshot. */
  chart: (number | null)[][];
  theme: Theme;
}) {
  const v = classesView(latest);
  return (
    <section className="card wide" aria-labelledby="h-classes" data-testid="priority-classes" data-kind={v.kind}>
      <h2 id="h-classes">
        Priority classes <span className="unit">queued now; latency and queue wait, last 60 s; counts since start</span>
      </h2>
      <div className="quota-top">
        <div className="table-scroll">
          <table className="quota classes" data-testid="class-table">
            <thead>
              <tr>
                <th scope="col">class</th>
                <th scope="col" className="num">
                  queued
                </th>
                <th scope="col" className="num" title="Admission to answer, successful requests, last 60 s">
                  latency <span className="muted">p50 / p95</span>
                </th>
                <th scope="col" className="num" title="Admission to dispatch, last 60 s">
                  queue wait <span className="muted">p50 / p95</span>
                </th>
                <th scope="col" className="num">
                  completed
                </th>
                <th scope="col" className="num" title="Answered with an error, expired or cancelled">
                  failed
                </th>
                <th scope="col" className="num" title="Refused at admission: queue, tenant limits, budget">
                  rejected
                </th>
              </tr>
            </thead>
            <tbody>
              {v.rows.map((r) => {
                const c = r.stats;
                return (
                  <tr key={r.name} data-testid="class-row" data-class={r.name} data-reported={c ? 'true' : 'false'} title={CLASS_MEANINGS[r.name]}>
                    <th scope="row">{r.name}</th>
                    <td className="num" data-testid="class-queued" data-value={c?.queued ?? ''}>
                      {r.queued}
                    </td>
                    <td className="num" title={r.latencyCountText}>
                      <span data-testid="class-latency-p50" data-value={c && c.latency.count > 0 ? c.latency.p50Ms : ''}>
                        {r.latencyP50}
                      </span>
                      {' / '}
                      <b data-testid="class-latency-p95" data-value={c && c.latency.count > 0 ? c.latency.p95Ms : ''}>
                        {r.latencyP95}
                      </b>
                    </td>
                    <td className="num">
                      <span data-testid="class-wait-p50" data-value={c && c.queueWait.count > 0 ? c.queueWait.p50Ms : ''}>
                        {r.waitP50}
                      </span>
                      {' / '}
                      <b data-testid="class-wait-p95" data-value={c && c.queueWait.count > 0 ? c.queueWait.p95Ms : ''}>
                        {r.waitP95}
                      </b>
                    </td>
                    <td className="num" data-testid="class-completed" data-value={c?.completed ?? ''}>
                      {r.completed}
                    </td>
                    <td className={`num${c && c.failed > 0 ? ' bad' : ''}`} data-testid="class-failed" data-value={c?.failed ?? ''}>
                      {r.failed}
                    </td>
                    <td className={`num${c && c.rejected > 0 ? ' bad' : ''}`} data-testid="class-rejected" data-value={c?.rejected ?? ''}>
                      {r.rejected}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <p className="muted small" data-testid="class-note">
            {v.kind === 'missing'
              ? latest
                ? '— (this gateway does not report priority classes)'
                : '—'
              : `${formatCount(v.queuedTotal)} queued in all classes; a request picks its class with X-Sluice-Priority.`}
          </p>
        </div>
        <Chart
          testId="chart-classes"
          ariaLabel="Queue depth of each priority class over time"
          theme={theme}
          data={chart}
          xUnit="time"
          yUnits={['req']}
          height={150}
          yMax={(data) => Math.max(10, ...data.slice(1).flatMap((col) => col.map((x) => x ?? 0))) * 1.1}
          series={[
            { label: 'interactive queued', color: '--c-interactive', width: 2 },
            { label: 'standard queued', color: '--c-standard' },
            { label: 'background queued', color: '--c-background', dash: true },
          ]}
        />
      </div>
    </section>
  );
}
