// The priority-classes panel: its rows and the chart of queue depth per class.
import { describe, expect, it } from 'vitest';
import { classQueued, classesView } from '../src/classes';
import { parseSnapshot } from '../src/protocol';
import { initialState, reduce } from '../src/store';
import { classesJson, historyJson, latencyJson, legacySnapshotJson, pagedHelloJson, snapshotJson } from './fixtures';

const T0 = 1_700_000_000_000;
const snap = (over: Record<string, unknown> = {}) => parseSnapshot({ ...snapshotJson(T0), ...over });

describe('classesView', () => {
  it('lists the three classes in priority order with their figures', () => {
    const v = classesView(snap());
    expect(v.kind).toBe('reported');
    expect(v.queuedTotal).toBe(2 + 14 + 37);
    expect(v.rows.map((r) => r.name)).toEqual(['interactive', 'standard', 'background']);
    expect(v.rows[0]).toMatchObject({
      queued: '2',
      latencyP50: '40.0 ms',
      latencyP95: '90.0 ms',
      waitP50: '1.00 ms',
      waitP95: '4.00 ms',
      completed: '1\u202f200',
      failed: '3',
      rejected: '0',
      latencyCountText: '100 answered',
    });
    expect(v.rows[1]).toMatchObject({ queued: '14', latencyP95: '650 ms', waitP95: '120 ms', rejected: '7' });
  });

  it('shows a dash, not 0 ms, for a class without a request in the window', () => {
    const bg = classesView(snap()).rows[2];
    expect(bg).toMatchObject({ queued: '37', latencyP50: '—', latencyP95: '—', latencyCountText: '0 answered' });
    // Its queue wait was measured (12 dispatched): shown.
    expect(bg).toMatchObject({ waitP50: '2.50 s', waitP95: '9.00 s' });
    // A measured 0 ms is 0 ms.
    const zero = snap({ classes: [{ ...classesJson()[0], queueWait: { ...latencyJson(0, 0, 0), count: 5 } }] });
    expect(classesView(zero).rows[0]).toMatchObject({ waitP50: '0 ms', waitP95: '0 ms' });
  });

  it('keeps priority order whatever order the entries come in, and lists unknown classes after', () => {
    const [i, s, b] = classesJson();
    const v = classesView(snap({ classes: [b, { ...s, name: 'batch-only', queued: 4 }, i, s] }));
    expect(v.rows.map((r) => r.name)).toEqual(['interactive', 'standard', 'background', 'batch-only']);
    expect(v.rows[3]?.queued).toBe('4');
  });

  it('reads "—" for a class the list lacks (an engine that does not report classes yet)', () => {
    const v = classesView(snap({ classes: [] }));
    expect(v.kind).toBe('reported');
    expect(v.queuedTotal).toBe(0);
    for (const r of v.rows) {
      expect(r.stats).toBeNull();
      expect([r.queued, r.latencyP95, r.waitP95, r.completed, r.failed, r.rejected, r.latencyCountText]).toEqual(['—', '—', '—', '—', '—', '—', '—']);
    }
  });

  it('reads "—" everywhere for a gateway older than the classes, or before the first snapshot', () => {
    for (const s of [parseSnapshot(legacySnapshotJson(T0)), snap({ classes: 'three' }), null, undefined]) {
      const v = classesView(s);
      expect(v.kind).toBe('missing');
      expect(v.queuedTotal).toBeNull();
      expect(v.rows.map((r) => r.name)).toEqual(['interactive', 'standard', 'background']);
      expect(v.rows.every((r) => r.stats === null && r.queued === '—' && r.latencyP50 === '—')).toBe(true);
    }
  });

  it('reads wrongly typed figures as 0 and skips entries that are not objects', () => {
    const v = classesView(snap({ classes: [7, { name: 'interactive', queued: 'many', latency: null }] }));
    expect(v.rows[0]).toMatchObject({ queued: '0', latencyP50: '—', completed: '0' });
    expect(v.rows[1]?.stats).toBeNull();
  });
});

describe('queue depth per class in the series', () => {
  it('plots each class from snapshots and history pages, with gaps where a snapshot does not report it', () => {
    expect(classQueued(snap(), 'background')).toBe(37);
    expect(classQueued(parseSnapshot(legacySnapshotJson(T0)), 'background')).toBeNull();

    let s = reduce(initialState(), pagedHelloJson(snapshotJson(T0 + 1000), 3));
    s = reduce(s, { type: 'snapshot', snapshot: legacySnapshotJson(T0 + 1250) });
    s = reduce(s, { type: 'snapshot', snapshot: { ...snapshotJson(T0 + 1500), classes: [{ ...classesJson()[0], queued: 9 }] } });
    // History entries keep the top-level `classes`.
    s = reduce(s, historyJson(T0 + 1000, [T0 + 500, T0 + 750], false));
    expect(s.series.columnWithGaps('queuedInteractive')).toEqual([2, 2, 2, null, 9]);
    expect(s.series.columnWithGaps('queuedStandard')).toEqual([14, 14, 14, null, null]);
    expect(s.series.columnWithGaps('queuedBackground')).toEqual([37, 37, 37, null, null]);
  });
});
