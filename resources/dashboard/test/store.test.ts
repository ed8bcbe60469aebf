import { describe, expect, it } from 'vitest';
import { initialState, reduce } from '../src/store';
import { parseMessage } from '../src/protocol';
import { configJson, helloJson, historyJson, legacySnapshotJson, pagedHelloJson, snapshotJson, windowJson } from './fixtures';

const T0 = 1_700_000_000_000;

describe('snapshot reducer', () => {
  it('a paged hello starts the charts from its snapshot; history pages go in front', () => {
    let s = reduce(initialState(), pagedHelloJson(snapshotJson(T0 + 1000, { rps: 14 }), 5, 4));
    expect(s.latest?.timestampMs).toBe(T0 + 1000);
    expect(s.series.column('t')).toEqual([(T0 + 1000) / 1000]);
    expect(s.config?.maxBatchSize).toBe(16);
    expect(s.sessions).toBe(1);
    // A snapshot arrives before the page does.
    s = reduce(s, { type: 'snapshot', snapshot: snapshotJson(T0 + 1250) });
    const rev = s.seriesRev;
    s = reduce(s, historyJson(T0 + 1000, [T0, T0 + 250, T0 + 500, T0 + 750], false));
    expect(s.seriesRev).toBe(rev + 1);
    expect(s.series.column('t')).toEqual([0, 250, 500, 750, 1000, 1250].map((d) => (T0 + d) / 1000));
    expect(s.latest?.timestampMs).toBe(T0 + 1250); // history never replaces the newest figures
    // A page with nothing older changes nothing.
    const same = reduce(s, historyJson(T0, [T0 + 500], false));
    expect(same).toBe(s);
  });

  it('a paged hello before the first tick has no snapshot and no points', () => {
    const s = reduce(initialState(), pagedHelloJson(null, 0));
    expect(s.latest).toBeNull();
    expect(s.series.length).toBe(0);
    expect(s.version).toBe('0.1.0');
  });

  it('hello sets config, upstream, rate and the history as chart series', () => {
    const history = [0, 250, 500].map((d) => snapshotJson(T0 + d, { rps: 10 + d / 250 }));
    const s = reduce(initialState(), helloJson(history, 4));
    expect(s.version).toBe('0.1.0');
    expect(s.upstream).toEqual({ kind: 'simulator', model: 'gemini-2.0-flash' });
    expect(s.rateHz).toBe(4);
    expect(s.config?.maxBatchSize).toBe(16);
    expect(s.config?.retry).toEqual({ maxAttempts: 4, initialBackoffMs: 250, maxBackoffMs: 8000 });
    expect(s.latest?.timestampMs).toBe(T0 + 500);
    expect(s.series.length).toBe(3);
    expect(s.series.column('t')).toEqual([T0 / 1000, (T0 + 250) / 1000, (T0 + 500) / 1000]);
    expect(s.series.column('rps')).toEqual([10, 11, 12]);
    expect(s.sessions).toBe(1);
  });

  it('hello with an empty history leaves no latest snapshot', () => {
    const s = reduce(initialState(), helloJson([]));
    expect(s.latest).toBeNull();
    expect(s.series.length).toBe(0);
  });

  it('hello keeps only as much history as the ring holds (5 min at rateHz)', () => {
    const history = Array.from({ length: 1500 }, (_, i) => snapshotJson(T0 + i * 250));
    const s = reduce(initialState(), helloJson(history, 4));
    expect(s.series.capacity).toBe(1200);
    expect(s.series.length).toBe(1200);
    expect(s.series.column('t')[0]).toBe((T0 + 300 * 250) / 1000);
  });

  it('a second hello (reconnect) replaces the old session', () => {
    let s = reduce(initialState(), helloJson([snapshotJson(T0)]));
    s = reduce(s, { type: 'dropped', count: 3 });
    s = reduce(s, { ...helloJson([snapshotJson(T0 + 10_000)]), config: configJson(7) });
    expect(s.series.length).toBe(1);
    expect(s.config?.maxBatchSize).toBe(7);
    expect(s.droppedFrames).toBe(0);
    expect(s.sessions).toBe(2);
  });

  it('snapshot appends a point and becomes the latest', () => {
    let s = reduce(initialState(), helloJson([snapshotJson(T0)]));
    const rev = s.seriesRev;
    s = reduce(s, { type: 'snapshot', snapshot: snapshotJson(T0 + 250, { p99: 99, queueDepth: 42 }) });
    expect(s.series.length).toBe(2);
    expect(s.latest?.last10s.latency.p99Ms).toBe(99);
    expect(s.latest?.queueDepth).toBe(42);
    expect(s.series.column('p99Ms')).toEqual([30, 99]);
    expect(s.series.column('queueDepth')).toEqual([5, 42]);
    expect(s.series.column('upstreamErrorsPs')).toEqual([0.2, 0.2]); // 2 errors in a 10 s window
    expect(s.seriesRev).toBeGreaterThan(rev);
  });

  it('a repeated timestamp updates latest without a new point; an older one restarts the series', () => {
    let s = reduce(initialState(), helloJson([snapshotJson(T0), snapshotJson(T0 + 250)]));
    s = reduce(s, { type: 'snapshot', snapshot: snapshotJson(T0 + 250, { p99: 77 }) });
    expect(s.series.length).toBe(2);
    expect(s.latest?.last10s.latency.p99Ms).toBe(77);
    s = reduce(s, { type: 'snapshot', snapshot: snapshotJson(T0 - 3_600_000) });
    expect(s.series.length).toBe(1);
    expect(s.series.column('t')).toEqual([(T0 - 3_600_000) / 1000]);
  });

  it('config replaces the whole configuration', () => {
    let s = reduce(initialState(), helloJson([]));
    s = reduce(s, { type: 'config', config: { maxBatchSize: 7, packing: 'fanout' } });
    expect(s.config).toEqual({ maxBatchSize: 7, packing: 'fanout' });
  });

  it('loadtest and drift messages update their panels', () => {
    let s = reduce(initialState(), helloJson([]));
    s = reduce(s, {
      type: 'loadtest',
      state: 'running',
      step: 2,
      steps: 5,
      users: 40,
      curve: [{ users: 20, offeredRps: 100, achievedRps: 98, p50Ms: 10, p95Ms: 30, p99Ms: 50, queueDepthMean: 2, queueDepthMax: 9, errorRate: 0 }],
      inflection: null,
    });
    expect(s.loadtest).toMatchObject({ state: 'running', step: 2, steps: 5, users: 40, inflection: null, error: null });
    expect(s.loadtest?.curve[0]?.achievedRps).toBe(98);
    s = reduce(s, { type: 'loadtest', state: 'failed', step: 2, steps: 5, users: 40, curve: [], inflection: { users: 20, queueDepth: 9, throughputRps: 98, p95Ms: 30 }, error: 'locust exited with 1' });
    expect(s.loadtest?.state).toBe('failed');
    expect(s.loadtest?.error).toBe('locust exited with 1');
    expect(s.loadtest?.inflection?.throughputRps).toBe(98);

    s = reduce(s, { type: 'drift', state: 'warn', score: 0.31, baseline: { createdAt: '2026-01-01T00:00:00Z', schema: 'x' } });
    expect(s.drift).toEqual({ state: 'warn', score: 0.31, baseline: { createdAt: '2026-01-01T00:00:00Z', schema: 'x' } });
    s = reduce(s, { type: 'drift', state: 'bogus', score: 'high', baseline: null });
    expect(s.drift).toEqual({ state: 'unknown', score: 0, baseline: null });
  });

  it('dropped accumulates the frames the server dropped', () => {
    let s = reduce(initialState(), helloJson([]));
    s = reduce(s, { type: 'dropped', count: 2 });
    s = reduce(s, { type: 'dropped', count: 5 });
    expect(s.droppedFrames).toBe(7);
  });

  it('unknown types, malformed messages and non-objects leave the state untouched', () => {
    const s = reduce(initialState(), helloJson([snapshotJson(T0)]));
    for (const raw of [
      { type: 'future-thing', x: 1 },
      { type: 'snapshot' },
      { type: 'config', config: 'nope' },
      { notype: true },
      null,
      42,
      'hello',
      [{ type: 'hello' }],
    ]) {
      expect(reduce(s, raw)).toBe(s);
    }
    expect(parseMessage('{not json')).toBeNull();
  });

  it('unknown fields are ignored and missing numbers read as 0', () => {
    const snap = { ...snapshotJson(T0), brandNew: { nested: true }, queueDepth: 'many' } as Record<string, unknown>;
    delete snap.last60s;
    const s = reduce(reduce(initialState(), helloJson([])), { type: 'snapshot', snapshot: snap, extra: 1 });
    expect(s.latest?.queueDepth).toBe(0);
    expect(s.latest?.last60s.requests).toBe(0);
    expect(s.latest?.last10s.requestsPerSecond).toBe(50);
    expect((s.latest as unknown as Record<string, unknown>).brandNew).toBeUndefined();
  });

  it('hello without history or rateHz falls back to 4 Hz and no points', () => {
    const s = reduce(initialState(), { type: 'hello', config: {} });
    expect(s.rateHz).toBe(4);
    expect(s.series.length).toBe(0);
    expect(s.upstream).toEqual({ kind: 'unknown', model: '' });
  });

  it('hello and snapshots carry the quota figures: windows, budget per model and the new knobs', () => {
    // History entries from the gateway keep the gauges, last10s and quota only.
    const { last1s: _1, last60s: _60, total: _t, ...compact } = snapshotJson(T0);
    let s = reduce(initialState(), helloJson([compact]));
    expect(s.config).toMatchObject({ packing: 'auto', maxPackSize: 64, rpdLimit: 0, quotaProbeRpm: 60 });
    expect(s.latest?.quota?.[0]?.model).toBe('gemini-2.0-flash');
    expect(s.latest?.last10s.answersPerUpstreamCall).toBe(25); // 500 ok / 20 calls
    expect(s.latest?.last60s.answersPerUpstreamCall).toBeNull(); // not in history: "—" until the first snapshot

    s = reduce(s, { type: 'snapshot', snapshot: snapshotJson(T0 + 250) });
    const w = s.latest?.last60s;
    expect(w?.upstreamCalls).toBe(20);
    expect(w?.upstreamCallsByKind).toEqual({ single: 4, pack: 12, repack: 3, retry: 1 });
    expect(w?.upstream429).toBe(1);
    expect(w?.packMembers).toEqual({ answered: 40, repacked: 5, failed: 1 });
    expect(w?.answersPerUpstreamCall).toBe(150);
    expect(s.latest?.quota).toEqual([
      {
        model: 'gemini-2.0-flash',
        rpm: { limit: 15, source: 'learned', used: 12, usedRatio: 0.8, blockedForMs: 2500 },
        tpm: { limit: 1_000_000, source: 'config', used: 250_000, usedRatio: 0.25, blockedForMs: 0 },
        rpd: { limit: 0, source: 'none', used: 900, usedRatio: 0, blockedForMs: 0 },
      },
    ]);
    expect(s.series.column('answersPerCall')).toEqual([25, 25]);
    expect(s.series.column('upstream429Ps')).toEqual([0.1, 0.1]); // 1 in a 10 s window
  });

  it('snapshots carry the memory budget, the attempts by outcome and the failed attempts', () => {
    let s = reduce(initialState(), helloJson([]));
    s = reduce(s, { type: 'snapshot', snapshot: snapshotJson(T0) });
    expect(s.latest?.memoryBudget).toEqual({ usedBytes: 312 * 1024 * 1024, limitBytes: 1_073_741_824, refusals: 3 });
    for (const w of [s.latest?.last10s, s.latest?.last60s, s.latest?.total]) {
      expect(w?.upstreamAttemptsByOutcome).toEqual({ ok: 16, '429': 1, '5xx': 2, timeout: 1 });
      expect(w?.upstreamAttemptsFailed).toBe(4);
    }
    expect(s.latest?.upstreamAttempts).toEqual([
      { model: 'gemini-2.0-flash', outcome: 'ok', attempts: 900 },
      { model: 'gemini-2.0-flash', outcome: '429', attempts: 4 },
      { model: '', outcome: 'ok', attempts: 1 },
    ]);
    // A window without failures reports 0, which is a real 0.
    const calm = { ...snapshotJson(T0 + 250), last10s: { ...windowJson(10), upstreamAttemptsByOutcome: { ok: 20 }, upstreamAttemptsFailed: 0 } };
    s = reduce(s, { type: 'snapshot', snapshot: calm });
    expect(s.latest?.last10s.upstreamAttemptsFailed).toBe(0);
    expect(s.latest?.last10s.upstreamAttemptsByOutcome).toEqual({ ok: 20 });
  });

  it('snapshots carry the time to first token, the coalesced requests and the answer cache', () => {
    let s = reduce(initialState(), helloJson([]));
    s = reduce(s, { type: 'snapshot', snapshot: snapshotJson(T0) });
    expect(s.latest?.answerCache).toEqual({ enabled: true, usedBytes: 12 * 1024 * 1024, maxBytes: 64 * 1024 * 1024, entries: 1234 });
    for (const w of [s.latest?.last1s, s.latest?.last10s, s.latest?.last60s, s.latest?.total]) {
      expect(w?.firstToken).toEqual({ count: 100, meanMs: 132, p50Ms: 120, p95Ms: 300, p99Ms: 450, p999Ms: 540, maxMs: 675 });
      expect(w?.coalesced).toBe(5);
      expect(w?.cache).toEqual({ hits: 30, misses: 10, bypassed: 8, hitRatio: 0.75 });
    }
    expect(s.series.columnWithGaps('ttftP95Ms')).toEqual([300]);
  });

  it('wrongly typed attempt and memory fields read as missing', () => {
    const snap = {
      ...snapshotJson(T0),
      memoryBudget: [1, 2],
      upstreamAttempts: { model: 'm' },
      last10s: { ...windowJson(10), upstreamAttemptsFailed: '4', upstreamAttemptsByOutcome: 'many' },
    };
    const s = reduce(reduce(initialState(), helloJson([])), { type: 'snapshot', snapshot: snap });
    expect(s.latest?.memoryBudget).toBeNull();
    expect(s.latest?.upstreamAttempts).toBeNull();
    expect(s.latest?.last10s.upstreamAttemptsFailed).toBeNull();
    expect(s.latest?.last10s.upstreamAttemptsByOutcome).toBeNull();
    const odd = reduce(s, { type: 'snapshot', snapshot: { ...snapshotJson(T0 + 250), upstreamAttempts: ['x', { outcome: 5, attempts: 'n' }] } });
    expect(odd.latest?.upstreamAttempts).toEqual([{ model: '', outcome: '?', attempts: 0 }]);
  });

  it('a snapshot from an older gateway leaves the quota figures null (shown as —) and gaps in their chart', () => {
    let s = reduce(initialState(), helloJson([snapshotJson(T0)]));
    s = reduce(s, { type: 'snapshot', snapshot: legacySnapshotJson(T0 + 250) });
    expect(s.latest?.quota).toBeNull();
    expect(s.latest?.memoryBudget).toBeNull();
    expect(s.latest?.upstreamAttempts).toBeNull();
    const w = s.latest?.last60s;
    expect(w?.upstreamCallsByKind).toBeNull();
    expect(w?.upstream429).toBeNull();
    expect(w?.upstreamAttemptsByOutcome).toBeNull();
    expect(w?.upstreamAttemptsFailed).toBeNull();
    expect(w?.packMembers).toBeNull();
    expect(w?.answersPerUpstreamCall).toBeNull();
    expect(w?.firstToken).toBeNull();
    expect(w?.coalesced).toBeNull();
    expect(w?.cache).toBeNull();
    expect(s.latest?.answerCache).toBeNull();
    expect(s.latest?.classes).toBeNull();
    expect(s.latest?.tiers).toBeNull();
    expect(s.latest?.cost).toBeNull();
    expect(s.latest?.tenants).toBeNull();
    expect(s.latest?.batchMode).toBeNull();
    expect(w?.upstreamCalls).toBe(20); // an old field: still read
    expect(s.series.columnWithGaps('answersPerCall')).toEqual([25, null]);
    expect(s.series.columnWithGaps('upstream429Ps')).toEqual([0.1, null]);
  });

  it('reads the priority classes, tiers, cost, tenants and Batch Mode of a snapshot', () => {
    const s = reduce(initialState(), pagedHelloJson(snapshotJson(T0), 1));
    const l = s.latest;
    expect(l?.classes?.map((c) => [c.name, c.queued, c.latency.p95Ms, c.queueWait.count])).toEqual([
      ['interactive', 2, 90, 100],
      ['standard', 14, 650, 100],
      ['background', 37, 0, 12],
    ]);
    expect(l?.tiers?.map((t) => [t.name, t.requests, t.shed, t.costUsd])).toEqual([
      ['standard', 5000, 0, 1.2],
      ['flex', 2000, 12, 0.25],
      ['priority', 100, 0, 0.0537],
      ['batch', 300, 0, 0.03],
    ]);
    expect(l?.cost).toEqual({ usd: 1.5337, standardUsd: 2.5, savingUsd: expect.closeTo(0.9663, 9), savingRatio: expect.closeTo(0.38652, 9) });
    expect(l?.tenants?.[0]).toEqual({ id: 'key-1a2b3c4d5e6f7a8b', weight: 2.5, queued: 30, inflight: 12, completed: 4000, rejected: 9 });
    expect(l?.batchMode).toEqual({ enabled: true, gathering: 12, jobsRunning: 2, waiting: 40, jobsSubmitted: 5, requestsSubmitted: 500 });
  });

  it('a window without upstream calls is a gap in the answers-per-call chart, not a 0', () => {
    let s = reduce(initialState(), helloJson([]));
    const idle = { ...snapshotJson(T0), last10s: { ...windowJson(10, 0), ok: 0, upstreamCalls: 0, answersPerUpstreamCall: 0, upstream429: 0 } };
    s = reduce(s, { type: 'snapshot', snapshot: idle });
    s = reduce(s, { type: 'snapshot', snapshot: snapshotJson(T0 + 250) });
    expect(s.series.columnWithGaps('answersPerCall')).toEqual([null, 25]);
    expect(s.series.columnWithGaps('upstream429Ps')).toEqual([0, 0.1]);
  });

  it('wrongly typed quota fields read as missing, not as made-up numbers', () => {
    const snap = {
      ...snapshotJson(T0),
      quota: [
        'not a model',
        { model: 'm', rpm: 'lots', tpm: { limit: '9', source: 7, used: null }, rpd: { limit: 10, source: 'header', used: 2, usedRatio: 0.2, blockedForMs: -1 } },
      ],
      last60s: { ...windowJson(60), upstream429: 'many', packMembers: 5, upstreamCallsByKind: { pack: 'x', single: 3 }, answersPerUpstreamCall: null },
    };
    const s = reduce(reduce(initialState(), helloJson([])), { type: 'snapshot', snapshot: snap });
    expect(s.latest?.quota).toEqual([
      { model: 'm', rpm: null, tpm: { limit: 0, source: 'none', used: 0, usedRatio: 0, blockedForMs: 0 }, rpd: { limit: 10, source: 'header', used: 2, usedRatio: 0.2, blockedForMs: -1 } },
    ]);
    expect(s.latest?.last60s.upstream429).toBeNull();
    expect(s.latest?.last60s.packMembers).toBeNull();
    expect(s.latest?.last60s.upstreamCallsByKind).toEqual({ pack: 0, single: 3 });
    expect(s.latest?.last60s.answersPerUpstreamCall).toBeNull();
    expect(reduce(s, { type: 'snapshot', snapshot: { ...snapshotJson(T0 + 250), quota: { model: 'm' } } }).latest?.quota).toBeNull();
  });
});
