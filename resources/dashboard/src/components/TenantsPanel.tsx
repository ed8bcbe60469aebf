import type { MetricsSnapshot } from '../protocol';
import { tenantsView } from '../tenants';

/**
 * The most active tenants (an API key's digest, or X-Sluice-Tenant): weight,
 * queued and in flight now, completed and rejected since start.
 */
export function TenantsPanel({ latest }: { latest: MetricsSnapshot | null }) {
  const v = tenantsView(latest);
  return (
    <section className="card" aria-labelledby="h-tenants" data-testid="tenants" data-kind={v.kind}>
      <h2 id="h-tenants">
        Tenants <span className="unit">weight, queued and in flight now; counts since start</span>
      </h2>
      <p className="muted small" data-testid="tenants-summary">
        {v.kind === 'missing' ? (latest ? '— (this gateway does not report tenants)' : '—') : v.summary}
        {v.kind !== 'missing' ? ' · an API key (shown as its digest) or X-Sluice-Tenant names a tenant' : ''}
      </p>
      {v.rows.length > 0 ? (
        <table className="quota tenants" data-testid="tenant-table">
          <thead>
            <tr>
              <th scope="col">tenant</th>
              <th scope="col" className="num" title="Its share of the upstream within a class (weighted fair queuing)">
                weight
              </th>
              <th scope="col" className="num">queued</th>
              <th scope="col" className="num" title="Admitted and not yet answered">in flight</th>
              <th scope="col" className="num">completed</th>
              <th scope="col" className="num" title="Refused at admission, its own limits included">rejected</th>
            </tr>
          </thead>
          <tbody>
            {v.rows.map((r, i) => (
              <tr key={`${i}:${r.id}`} data-testid="tenant-row" data-tenant={r.id}>
                <th scope="row">{r.id}</th>
                <td className="num" data-testid="tenant-weight" data-value={r.stats.weight}>
                  {r.weight}
                </td>
                <td className="num" data-testid="tenant-queued" data-value={r.stats.queued}>
                  {r.queued}
                </td>
                <td className="num" data-testid="tenant-inflight" data-value={r.stats.inflight}>
                  {r.inflight}
                </td>
                <td className="num" data-testid="tenant-completed" data-value={r.stats.completed}>
                  {r.completed}
                </td>
                <td className={`num${r.rejectedHighlighted ? ' bad' : ''}`} data-testid="tenant-rejected" data-value={r.stats.rejected}>
                  {r.rejected}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
