// The time to first token of streams: figures above the latency chart and
// its p95 line in it.
import { describe, expect, it } from 'vitest';
import { firstTokenFigures, firstTokenP95 } from '../src/firsttoken';
import { parseWindow } from '../src/protocol';
import { initialState, reduce } from '../src/store';
import { historyJson, latencyJson, legacySnapshotJson, legacyWindowJson, pagedHelloJson, snapshotJson, windowJson } from './fixtures';

const T0 = 1_700_000_000_000;

describe('firstTokenFigures', () => {
  it('shows p50 / p95 / p99 of the window with the streams they cover', () => {
    expect(firstTokenFigures(parseWindow(windowJson(10)))).toEqual({
      kind: 'measured',
      p50: '120 ms',
      p95: '300 ms',
      p99: '450 ms',
      count: 100,
      countText: '100 streams',
    });
    const one = parseWindow({ ...windowJson(10), firstToken: { ...latencyJson(850, 1250, 12_500), count: 1 } });
    expect(firstTokenFigures(one)).toMatchObject({ p50: '850 ms', p95: '1.25 s', p99: '12.5 s', count: 1, countText: '1 stream' });
    expect(firstTokenFigures(parseWindow({ ...windowJson(10), firstToken: { ...latencyJson(), count: 12_345 } })).countText).toBe('12.3k streams');
  });

  it('shows a dash, not 0 ms, for a window without a stream', () => {
    // What the gateway sends for an empty window: every field 0.
    const idle = parseWindow({ ...windowJson(10), firstToken: { count: 0, meanMs: 0, p50Ms: 0, p95Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0 } });
    expect(firstTokenFigures(idle)).toEqual({ kind: 'none', p50: '—', p95: '—', p99: '—', count: 0, countText: '0 streams' });
  });

  it('shows a dash for a gateway that does not report it', () => {
    const missing = { kind: 'missing', p50: '—', p95: '—', p99: '—', count: null, countText: '—' };
    expect(firstTokenFigures(parseWindow(legacyWindowJson(10)))).toEqual(missing);
    expect(firstTokenFigures(parseWindow({ ...windowJson(10), firstToken: 'fast' }))).toEqual(missing);
    expect(firstTokenFigures(null)).toEqual(missing);
    expect(firstTokenFigures(undefined)).toEqual(missing);
  });
});

describe('firstTokenP95 and the latency chart', () => {
  it('is the p95, or null when no stream was measured or the gateway does not say', () => {
    expect(firstTokenP95(parseWindow(windowJson(10)))).toBe(300);
    expect(firstTokenP95(parseWindow({ ...windowJson(10), firstToken: { ...latencyJson(0, 0, 0), count: 0 } }))).toBeNull();
    expect(firstTokenP95(parseWindow(legacyWindowJson(10)))).toBeNull();
    expect(firstTokenP95(null)).toBeNull();
  });

  it('plots last10s.firstToken.p95Ms of each snapshot and of the history pages, with gaps where it cannot be told', () => {
    let s = reduce(initialState(), pagedHelloJson(snapshotJson(T0 + 1000), 3));
    // History entries keep last10s, so the line has a past too.
    s = reduce(s, historyJson(T0 + 1000, [T0 + 500, T0 + 750], false));
    const idle = { ...snapshotJson(T0 + 1250), last10s: { ...windowJson(10), firstToken: { ...latencyJson(0, 0, 0), count: 0 } } };
    s = reduce(s, { type: 'snapshot', snapshot: idle });
    s = reduce(s, { type: 'snapshot', snapshot: legacySnapshotJson(T0 + 1500) });
    expect(s.series.columnWithGaps('ttftP95Ms')).toEqual([300, 300, 300, null, null]);
    // The other latency lines are unchanged by it.
    expect(s.series.column('p95Ms')).toEqual([20, 20, 20, 20, 20]);
  });
});
