// The tenants table.
import { describe, expect, it } from 'vitest';
import { parseSnapshot } from '../src/protocol';
import { formatWeight, tenantsView } from '../src/tenants';
import { legacySnapshotJson, snapshotJson, tenantsJson } from './fixtures';

const T0 = 1_700_000_000_000;
const snap = (over: Record<string, unknown> = {}) => parseSnapshot({ ...snapshotJson(T0), ...over });

describe('formatWeight', () => {
  it.each([
    [1, '1'],
    [2.5, '2.5'],
    [0.125, '0.125'],
    [1 / 3, '0.3333'],
    [Number.NaN, '—'],
    [null, '—'],
  ])('%s → %s', (w, text) => {
    expect(formatWeight(w)).toBe(text);
  });
});

describe('tenantsView', () => {
  it('lists the tenants in the order sent (most active first), ids as given', () => {
    const v = tenantsView(snap());
    expect(v.kind).toBe('reported');
    expect(v.summary).toBe('3 tenants shown, most active first');
    expect(v.rows.map((r) => r.id)).toEqual(['key-1a2b3c4d5e6f7a8b', 'team-search', 'nightly.jobs']);
    expect(v.rows[0]).toMatchObject({ weight: '2.5', queued: '30', inflight: '12', completed: '4\u202f000', rejected: '9', rejectedHighlighted: true });
    expect(v.rows[1]).toMatchObject({ weight: '1', rejected: '0', rejectedHighlighted: false });
    expect(v.rows[2]).toMatchObject({ weight: '0.125', completed: '12.3k' });
  });

  it('says when the gateway sent as many as it sends', () => {
    const many = Array.from({ length: 20 }, (_, i) => ({ ...tenantsJson()[1], id: `t${i}` }));
    expect(tenantsView(snap({ tenants: many })).summary).toBe('20 tenants shown, most active first (the gateway sends at most 20)');
    expect(tenantsView(snap({ tenants: [tenantsJson()[0]] })).summary).toBe('1 tenant');
  });

  it('has no rows and a note when there is no tenant yet', () => {
    expect(tenantsView(snap({ tenants: [] }))).toEqual({ kind: 'empty', rows: [], summary: 'no tenant yet' });
  });

  it('reads "—" for a gateway older than tenants', () => {
    for (const s of [parseSnapshot(legacySnapshotJson(T0)), snap({ tenants: {} }), null, undefined]) {
      expect(tenantsView(s)).toEqual({ kind: 'missing', rows: [], summary: '—' });
    }
  });

  it('reads a missing weight as 1 and wrongly typed counts as 0', () => {
    const v = tenantsView(snap({ tenants: [{ id: 'x', queued: '3' }, 'y'] }));
    expect(v.rows).toHaveLength(1);
    expect(v.rows[0]).toMatchObject({ id: 'x', weight: '1', queued: '0', inflight: '0' });
  });
});
