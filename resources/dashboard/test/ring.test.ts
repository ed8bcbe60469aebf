import { describe, expect, it } from 'vitest';
import { RingBuffer } from '../src/ring';
import { Series, capacityFor } from '../src/series';
import { snapshotJson } from './fixtures';
import { parseSnapshot } from '../src/protocol';

describe('RingBuffer', () => {
  it('keeps values oldest-first until full', () => {
    const r = new RingBuffer(3);
    expect(r.toArray()).toEqual([]);
    expect(r.last()).toBeUndefined();
    r.push(1);
    r.push(2);
    expect(r.toArray()).toEqual([1, 2]);
    expect(r.length).toBe(2);
  });

  it('overwrites the oldest value once full, and wraps many times', () => {
    const r = new RingBuffer(3);
    for (let i = 1; i <= 10; i++) r.push(i);
    expect(r.length).toBe(3);
    expect(r.toArray()).toEqual([8, 9, 10]);
    expect(r.at(0)).toBe(8);
    expect(r.at(-1)).toBe(10);
    expect(r.at(3)).toBeUndefined();
    expect(r.last()).toBe(10);
  });

  it('clear empties it', () => {
    const r = new RingBuffer(2);
    r.push(1);
    r.push(2);
    r.push(3);
    r.clear();
    expect(r.length).toBe(0);
    r.push(4);
    expect(r.toArray()).toEqual([4]);
  });

  it('rejects a capacity below one', () => {
    expect(() => new RingBuffer(0)).toThrow(RangeError);
    expect(() => new RingBuffer(1.5)).toThrow(RangeError);
  });
});

describe('Series', () => {
  it('sizes its rings for 5 minutes at the stream rate, within bounds', () => {
    expect(capacityFor(4)).toBe(1200);
    expect(capacityFor(1)).toBe(300);
    expect(capacityFor(0.01)).toBe(60);
    expect(capacityFor(1000)).toBe(7200);
    expect(capacityFor(Number.NaN)).toBe(1200);
  });

  it('keeps every column the same length when it wraps', () => {
    const s = new Series(4);
    for (let i = 0; i < 6; i++) s.append(parseSnapshot(snapshotJson(1000 * (i + 1), { queueDepth: i })));
    expect(s.length).toBe(4);
    expect(s.column('t')).toEqual([3, 4, 5, 6]);
    expect(s.column('queueDepth')).toEqual([2, 3, 4, 5]);
    expect(s.column('queueCapacity')).toEqual([2048, 2048, 2048, 2048]);
  });

  it('puts older points in front, skipping what it already has, keeping the newest that fit', () => {
    const snap = (t: number) => parseSnapshot(snapshotJson(t * 1000, { queueDepth: t }));
    const s = new Series(6);
    s.append(snap(10));
    s.append(snap(11));
    // 8.5 is out of order and 11 is charted already: both skipped.
    expect(s.prependOlder([snap(7), snap(8), snap(9), snap(8.5), snap(11)])).toBe(3);
    expect(s.column('t')).toEqual([7, 8, 9, 10, 11]);
    expect(s.column('queueDepth')).toEqual([7, 8, 9, 10, 11]);
    // Room for one more: the newest of the older points wins.
    expect(s.prependOlder([snap(4), snap(5), snap(6)])).toBe(1);
    expect(s.column('t')).toEqual([6, 7, 8, 9, 10, 11]);
    expect(s.prependOlder([snap(1)])).toBe(0);
    expect(s.column('answersPerCall').length).toBe(6);
  });

  it('prepends onto an empty series', () => {
    const s = new Series(10);
    expect(s.prependOlder([1, 2, 3].map((t) => parseSnapshot(snapshotJson(t * 1000))))).toBe(3);
    expect(s.column('t')).toEqual([1, 2, 3]);
    expect(s.lastTimestampMs()).toBe(3000);
    expect(s.firstTimestampMs()).toBe(1000);
  });
});
