import { firstTokenFigures } from '../firsttoken';
import type { MetricsSnapshot } from '../protocol';

const MEANING =
  'Time to first token of streamGenerateContent answers: from the request’s arrival at the gateway to the first ' +
  'SSE event written to the client, over the streams of the last 10 s. Plain generateContent answers are not in it.';

/**
 * The time-to-first-token figures above the latency chart: p50 / p95 / p99
 * of the newest snapshot's last10s window and how many streams they cover;
 * "—" without a stream in the window or from an older gateway.
 */
export function FirstTokenRow({ latest }: { latest: MetricsSnapshot | null }) {
  const ft = latest?.last10s.firstToken ?? null;
  const f = firstTokenFigures(latest?.last10s);
  const measured = f.kind === 'measured';
  return (
    <div className="kv-row" data-testid="first-token" data-kind={f.kind} title={MEANING}>
      <span className="kv-label">Time to first token (streams)</span>
      <span>
        p50 <b data-testid="stat-ttft-p50-ms" data-value={measured ? ft?.p50Ms : ''}>{f.p50}</b>
      </span>
      <span>
        p95 <b data-testid="stat-ttft-p95-ms" data-value={measured ? ft?.p95Ms : ''}>{f.p95}</b>
      </span>
      <span>
        p99 <b data-testid="stat-ttft-p99-ms" data-value={measured ? ft?.p99Ms : ''}>{f.p99}</b>
      </span>
      {f.kind !== 'missing' ? (
        <span className="muted" data-testid="stat-ttft-count" data-value={f.count ?? ''}>
          {f.countText}
        </span>
      ) : latest ? (
        <span className="muted">(not reported by this gateway)</span>
      ) : null}
    </div>
  );
}
