import type { Drift } from '../protocol';

const LABEL: Record<Drift['state'], string> = {
  ok: 'OK: latency matches the baseline',
  warn: 'Warning: latency is moving away from the baseline',
  drift: 'Drift: latency no longer matches the baseline',
  unknown: 'Unknown: not enough traffic to compare',
};

const LEVEL: Record<Drift['state'], string> = { ok: 'low', warn: 'elevated', drift: 'refusing', unknown: 'none' };

export function DriftPanel({ drift }: { drift: Drift | null }) {
  return (
    <section className="card" aria-labelledby="h-drift">
      <h2 id="h-drift">
        Latency drift <span className="unit">live window against the loaded baseline</span>
      </h2>
      {drift === null ? (
        <p className="empty" data-testid="drift-state" data-state="none">
          No drift signal yet.
        </p>
      ) : (
        <div className="drift">
          <span className={`badge big level-${LEVEL[drift.state]}`} data-testid="drift-state" data-state={drift.state}>
            {drift.state}
          </span>
          <div>
            <div>{LABEL[drift.state]}</div>
            <div className="kv-row">
              <span>
                score <b data-testid="drift-score" data-value={drift.score}>{drift.score.toFixed(3)}</b>
              </span>
              <span className="muted">
                {drift.baseline ? (
                  <>
                    baseline from <span data-testid="drift-baseline">{drift.baseline.createdAt ? new Date(drift.baseline.createdAt).toLocaleString() : 'an unknown date'}</span>
                  </>
                ) : (
                  <span data-testid="drift-baseline">no baseline loaded (capture one with sluice --capture-baseline)</span>
                )}
              </span>
            </div>
          </div>
        </div>
      )}
    </section>
  );
}
