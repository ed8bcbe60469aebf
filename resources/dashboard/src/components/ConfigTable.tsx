import type { ConfigValue, EngineConfig } from '../protocol';

/** Units and meanings of the knobs we know (core/engine/engineconfig.cpp); others are shown as they come. */
export const KNOWN: Record<string, { unit?: string; meaning: string }> = {
  maxBatchSize: { unit: 'requests', meaning: 'dispatch a batch as soon as it is this full' },
  maxWaitMs: { unit: 'ms', meaning: 'longest wait of the oldest request for its batch to fill' },
  maxQueue: { unit: 'requests', meaning: 'queue capacity; beyond it new work gets 429' },
  maxInflightBatches: { unit: 'batches', meaning: 'upstream calls at once' },
  requestTimeoutMs: { unit: 'ms', meaning: 'default deadline, admission to answer' },
  rpmLimit: { unit: 'calls/min', meaning: "upstream calls per minute and model, every call counted (0 = learned from the upstream's 429s)" },
  tpmLimit: { unit: 'tokens/min', meaning: "upstream input tokens per minute and model (0 = learned from the upstream's 429s)" },
  rpdLimit: { unit: 'calls/day', meaning: "upstream calls per day and model (0 = learned from the upstream's 429s)" },
  quotaProbeRpm: { unit: 'calls/min', meaning: "calls per minute assumed while a model's quota is unknown, doubled while they hold work back (0 = unlimited)" },
  packing: { meaning: 'auto: fanout while the upstream budget keeps up, packs sized by a latency model when it binds; pack: compatible requests in one JSON-mode call; fanout: one call per request' },
  maxPackSize: { unit: 'requests', meaning: 'members in one pack call; under quota pressure auto packs beyond maxBatchSize up to this' },
  adaptive: { meaning: 'dispatch early when waiting is predicted not to pay' },
  targetP95Ms: { unit: 'ms', meaning: 'adaptive mode: p95 above which batches stop waiting' },
  'retry.maxAttempts': { unit: 'attempts', meaning: 'upstream attempts per call, first included' },
  'retry.initialBackoffMs': { unit: 'ms', meaning: 'first retry backoff (doubles, with jitter)' },
  'retry.maxBackoffMs': { unit: 'ms', meaning: 'cap on one retry backoff' },
};

const ORDER = Object.keys(KNOWN);

export function flattenConfig(c: EngineConfig, prefix = ''): [string, Exclude<ConfigValue, object>][] {
  const out: [string, Exclude<ConfigValue, object>][] = [];
  for (const [k, v] of Object.entries(c)) {
    const key = prefix + k;
    if (v !== null && typeof v === 'object') out.push(...flattenConfig(v, `${key}.`));
    else out.push([key, v]);
  }
  return out.sort((a, b) => {
    const ia = ORDER.indexOf(a[0]);
    const ib = ORDER.indexOf(b[0]);
    return (ia < 0 ? 999 : ia) - (ib < 0 ? 999 : ib) || a[0].localeCompare(b[0]);
  });
}

function show(v: Exclude<ConfigValue, object>): string {
  if (v === null) return '—';
  if (typeof v === 'number') return v.toLocaleString('en-US').replace(/,/g, '\u202f');
  return String(v);
}

export function ConfigTable({ config }: { config: EngineConfig | null }) {
  return (
    <section className="card" aria-labelledby="h-config">
      <h2 id="h-config">
        Configuration <span className="unit">read-only; change with PATCH /api/v1/config</span>
      </h2>
      {config ? (
        <table className="config" data-testid="config-table">
          <tbody>
            {flattenConfig(config).map(([k, v]) => (
              <tr key={k}>
                <th scope="row" title={KNOWN[k]?.meaning}>
                  {k}
                </th>
                <td className="num" data-testid={`config-${k}`} data-value={String(v)}>
                  {show(v)}
                </td>
                <td className="muted">{KNOWN[k]?.unit ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="empty">Waiting for the server's configuration…</p>
      )}
    </section>
  );
}
