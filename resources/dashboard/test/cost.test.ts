// The tiers & cost panel: the tier table, the cost summary and Batch Mode.
import { describe, expect, it } from 'vitest';
import { batchModeView, costView, tiersView } from '../src/cost';
import { formatUsd } from '../src/format';
import { parseSnapshot } from '../src/protocol';
import { batchModeJson, costJson, legacySnapshotJson, snapshotJson, tiersJson } from './fixtures';

const T0 = 1_700_000_000_000;
const snap = (over: Record<string, unknown> = {}) => parseSnapshot({ ...snapshotJson(T0), ...over });
const legacy = parseSnapshot(legacySnapshotJson(T0));

describe('formatUsd', () => {
  it.each([
    [0, '$0.00'],
    [0.0537, '$0.0537'],
    [0.004213, '$0.0042'],
    [0.000012, '< $0.0001'],
    [1.5, '$1.50'],
    [12.345, '$12.35'],
    [1234.5, '$1\u202f234.50'],
    [1_234_567.891, '$1\u202f234\u202f567.89'],
    [-0.12, '-$0.1200'],
    [-3.5, '-$3.50'],
    [Number.NaN, '—'],
    [null, '—'],
    [undefined, '—'],
  ])('%s → %s', (v, text) => {
    expect(formatUsd(v)).toBe(text);
  });
});

describe('tiersView', () => {
  it('lists the four tiers in their order with requests, shed, tokens and cost', () => {
    const v = tiersView(snap());
    expect(v.kind).toBe('reported');
    expect(v.rows.map((r) => r.name)).toEqual(['standard', 'flex', 'priority', 'batch']);
    expect(v.rows[0]).toMatchObject({ requests: '5\u202f000', shed: '—', promptTokens: '1.20M', outputTokens: '300k', cost: '$1.20' });
    expect(v.rows[1]).toMatchObject({ requests: '2\u202f000', shed: '12', shedHighlighted: true, promptTokens: '500k', cost: '$0.2500' });
    expect(v.rows[2]).toMatchObject({ shed: '—', cost: '$0.0537' });
    expect(v.rows[3]).toMatchObject({ requests: '300', cost: '$0.0300' });
  });

  it('shows flex shed 0 as 0, and shed on another tier only when it reports some', () => {
    const tiers = tiersJson().map((t) => (t.name === 'flex' ? { ...t, shed: 0 } : t.name === 'batch' ? { ...t, shed: 2 } : t));
    const v = tiersView(snap({ tiers }));
    expect(v.rows[1]).toMatchObject({ shed: '0', shedHighlighted: false });
    expect(v.rows[3]).toMatchObject({ shed: '2', shedHighlighted: true });
  });

  it('keeps the order whatever order the entries come in; a tier the list lacks reads "—"; unknown tiers come last', () => {
    const [standard, flex] = tiersJson();
    const v = tiersView(snap({ tiers: [{ ...flex, name: 'scale' }, flex, standard] }));
    expect(v.rows.map((r) => r.name)).toEqual(['standard', 'flex', 'priority', 'batch', 'scale']);
    expect(v.rows[2]).toMatchObject({ stats: null, requests: '—', shed: '—', promptTokens: '—', cost: '—' });
    expect(tiersView(snap({ tiers: [] })).rows.every((r) => r.stats === null)).toBe(true);
  });

  it('reads "—" everywhere for a gateway older than the tiers', () => {
    for (const s of [legacy, snap({ tiers: { standard: 1 } }), null]) {
      const v = tiersView(s);
      expect(v.kind).toBe('missing');
      expect(v.rows.map((r) => [r.name, r.requests, r.cost])).toEqual([
        ['standard', '—', '—'],
        ['flex', '—', '—'],
        ['priority', '—', '—'],
        ['batch', '—', '—'],
      ]);
    }
  });
});

describe('costView', () => {
  it('shows the cost, the all-standard cost and the saving in USD and percent', () => {
    expect(costView(snap())).toEqual({
      kind: 'reported',
      actual: '$1.53',
      standard: '$2.50',
      saving: '$0.9663',
      savingPercent: '38.7 %',
      savingUsd: expect.closeTo(0.9663, 6),
      savingRatio: expect.closeTo(0.38652, 5),
      negative: false,
      text: 'cost $1.53 · all standard $2.50 · saving $0.9663 (38.7 %)',
    });
  });

  it('shows a negative saving as such when dearer tiers outweigh the cheaper ones', () => {
    const v = costView(snap({ cost: costJson(2.75, 2.5) }));
    expect(v).toMatchObject({ saving: '-$0.2500', savingPercent: '-10.0 %', negative: true });
  });

  it('has no share when nothing cost: "—", not 0 %', () => {
    const v = costView(snap({ cost: costJson(0, 0) }));
    expect(v).toMatchObject({ kind: 'none', actual: '$0.00', standard: '$0.00', saving: '$0.00', savingPercent: '—', savingRatio: null });
  });

  it('reads "—" for a gateway older than the cost, or a cost without a number', () => {
    for (const s of [legacy, snap({ cost: { usd: 'lots' } }), snap({ cost: 3 }), null]) {
      expect(costView(s)).toMatchObject({ kind: 'missing', actual: '—', standard: '—', saving: '—', savingPercent: '—', text: '—' });
    }
  });
});

describe('batchModeView', () => {
  it('says what is gathering, running, waiting and submitted when on', () => {
    expect(batchModeView(snap())).toMatchObject({
      kind: 'on',
      text: 'gathering 12 · jobs running 2 · clients waiting 40 · submitted 5 jobs, 500 requests',
    });
    const one = snap({ batchMode: { ...batchModeJson(), jobsSubmitted: 1, requestsSubmitted: 1 } });
    expect(batchModeView(one).text).toMatch(/submitted 1 job, 1 request$/);
  });

  it('reads "off" when not enabled, "—" from an older gateway', () => {
    expect(batchModeView(snap({ batchMode: batchModeJson(false) }))).toMatchObject({ kind: 'off', text: 'off' });
    for (const s of [legacy, snap({ batchMode: { gathering: 3 } }), null]) {
      expect(batchModeView(s)).toEqual({ kind: 'missing', state: null, text: '—' });
    }
  });
});
