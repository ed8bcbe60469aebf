// The memory budget's rules: the console's (tests/ui/tst_memorybudgetview.cpp
// asks the same questions of ui/memorybudgetview.h).
import { describe, expect, it } from 'vitest';
import { formatBytes } from '../src/format';
import { memoryGauge } from '../src/memory';
import { parseSnapshot } from '../src/protocol';
import { legacySnapshotJson, snapshotJson } from './fixtures';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const nn = '\u202f';
const gib = `1${nn}024 MiB`;

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [512, '512 B'],
    [9999, `9${nn}999 B`],
    // the first value past 9 999 B reads in KiB, with its decimal below 10
    [10_000, '9.8 KiB'],
    [40_960, '40 KiB'],
    [5 * MiB, `5${nn}120 KiB`],
    [312 * MiB, '312 MiB'],
    [312 * MiB + 400 * 1024, '312 MiB'],
    // the default budget (1 GiB) reads in MiB, the unit its use usually has
    [GiB, `1${nn}024 MiB`],
    [9999 * MiB, `9${nn}999 MiB`],
    // rounding decides the unit: 9 999.6 MiB is not "10.0k MiB"
    [9999 * MiB + (MiB * 6) / 10, '9.8 GiB'],
    [64 * GiB, '64 GiB'],
    [1e15, '909 TiB'],
  ])('%s → %s', (v, s) => expect(formatBytes(v)).toBe(s));

  it('shows a dash for negative or missing values', () => {
    expect(formatBytes(-1)).toBe('—');
    expect(formatBytes(Number.NaN)).toBe('—');
    expect(formatBytes(undefined)).toBe('—');
    expect(formatBytes(null)).toBe('—');
  });
});

describe('memoryGauge', () => {
  it('reads "no budget" plainly when the limit is 0, with the bytes held and no meter', () => {
    expect(memoryGauge({ usedBytes: 312 * MiB, limitBytes: 0, refusals: 0 })).toEqual({
      kind: 'unlimited',
      used: '312 MiB',
      limit: 'no budget',
      ratio: null,
      percent: '',
      level: 'none',
      refusals: 0,
      refusalsText: '0 refused',
      text: '312 MiB held, no budget',
    });
    expect(memoryGauge({ usedBytes: 0, limitBytes: 0, refusals: 0 }).text).toBe('0 B held, no budget');
  });

  it('shows used of limit with a level like the backpressure meter', () => {
    expect(memoryGauge({ usedBytes: 312 * MiB, limitBytes: GiB, refusals: 3 })).toEqual({
      kind: 'limited',
      used: '312 MiB',
      limit: `of ${gib}`,
      ratio: 312 / 1024,
      percent: '30.5 %',
      level: 'low',
      refusals: 3,
      refusalsText: '3 refused',
      text: `312 MiB of ${gib} · 30.5 %`,
    });
    expect(memoryGauge({ usedBytes: 0, limitBytes: GiB, refusals: 0 }).text).toBe(`0 B of ${gib} · 0 %`);
    expect(memoryGauge({ usedBytes: 4096, limitBytes: GiB, refusals: 0 }).text).toBe(`4${nn}096 B of ${gib} · < 0.01 %`);
    expect(memoryGauge({ usedBytes: 32 * MiB, limitBytes: 64 * MiB, refusals: 0 })).toMatchObject({ text: '32 MiB of 64 MiB · 50.0 %', level: 'elevated' });
    expect(memoryGauge({ usedBytes: 80 * 1024, limitBytes: 100 * 1024, refusals: 2 })).toMatchObject({ text: '80 KiB of 100 KiB · 80.0 %', level: 'high', refusalsText: '2 refused' });
    expect(memoryGauge({ usedBytes: 64 * MiB, limitBytes: 64 * MiB, refusals: 12_345 })).toMatchObject({ percent: '100 %', level: 'refusing', refusalsText: '12.3k refused' });
    // Answers are charged without asking, so the use may pass the limit.
    expect(memoryGauge({ usedBytes: 80 * MiB, limitBytes: 64 * MiB, refusals: 3 })).toMatchObject({ ratio: 1.25, percent: '125 %', level: 'refusing' });
    // A negative use (a release counted twice) is not shown as such.
    expect(memoryGauge({ usedBytes: -10, limitBytes: GiB, refusals: 0 })).toMatchObject({ used: '0 B', ratio: 0, percent: '0 %' });
  });

  it('shows a dash for a gateway that does not report the budget', () => {
    expect(memoryGauge(null)).toMatchObject({ kind: 'missing', used: '—', limit: '—', text: '—', refusals: null, level: 'none' });
    expect(memoryGauge(undefined).kind).toBe('missing');
  });
});

describe('the memory budget of a snapshot', () => {
  it('is read from memoryBudget, as MetricsSnapshot::toJson writes it', () => {
    const s = parseSnapshot({ ...snapshotJson(1), memoryBudget: { usedBytes: 312 * MiB, limitBytes: 1_073_741_824, refusals: 3 } });
    expect(s.memoryBudget).toEqual({ usedBytes: 312 * MiB, limitBytes: GiB, refusals: 3 });
    expect(memoryGauge(s.memoryBudget).text).toBe(`312 MiB of ${gib} · 30.5 %`);
  });

  it('is null, shown as —, from an older gateway or when its numbers are not numbers', () => {
    expect(parseSnapshot(legacySnapshotJson(1)).memoryBudget).toBeNull();
    expect(parseSnapshot({ ...snapshotJson(1), memoryBudget: 'lots' }).memoryBudget).toBeNull();
    expect(parseSnapshot({ ...snapshotJson(1), memoryBudget: { usedBytes: '5', limitBytes: 10 } }).memoryBudget).toBeNull();
    // A missing refusal count alone reads as 0: the use and the limit still tell.
    expect(parseSnapshot({ ...snapshotJson(1), memoryBudget: { usedBytes: 5, limitBytes: 10 } }).memoryBudget).toEqual({ usedBytes: 5, limitBytes: 10, refusals: 0 });
  });
});
