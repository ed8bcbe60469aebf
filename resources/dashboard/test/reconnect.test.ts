import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF, ReconnectPolicy } from '../src/reconnect';

describe('ReconnectPolicy', () => {
  it('doubles from 500 ms up to the 30 s cap without jitter (r = 0)', () => {
    const p = new ReconnectPolicy(DEFAULT_BACKOFF, () => 0);
    const seq = Array.from({ length: 9 }, () => p.nextDelay());
    expect(seq).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    expect(p.attempts).toBe(9);
  });

  it('jitter takes at most half of the ceiling off, never adds', () => {
    for (const r of [0, 0.25, 0.5, 0.999999, 1]) {
      const p = new ReconnectPolicy(DEFAULT_BACKOFF, () => r);
      for (let n = 0; n < 12; n++) {
        const ceiling = p.ceiling(n);
        const d = p.nextDelay();
        expect(d).toBeLessThanOrEqual(ceiling);
        expect(d).toBeGreaterThanOrEqual(ceiling * 0.5);
      }
    }
  });

  it('jitter with Math.random stays within bounds and actually varies', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const p = new ReconnectPolicy();
      for (let n = 0; n < 4; n++) p.nextDelay();
      const d = p.nextDelay(); // ceiling 8000
      expect(d).toBeGreaterThanOrEqual(4000);
      expect(d).toBeLessThanOrEqual(8000);
      seen.add(d);
    }
    expect(seen.size).toBeGreaterThan(20);
  });

  it('resets to the base delay after a success', () => {
    const p = new ReconnectPolicy(DEFAULT_BACKOFF, () => 0);
    p.nextDelay();
    p.nextDelay();
    p.nextDelay();
    expect(p.unreachable).toBe(true);
    p.succeeded();
    expect(p.attempts).toBe(0);
    expect(p.unreachable).toBe(false);
    expect(p.nextDelay()).toBe(500);
  });

  it('calls the server unreachable after three failures in a row', () => {
    const p = new ReconnectPolicy(DEFAULT_BACKOFF, () => 0);
    p.nextDelay();
    p.nextDelay();
    expect(p.unreachable).toBe(false);
    p.nextDelay();
    expect(p.unreachable).toBe(true);
  });

  it('rejects nonsense options', () => {
    expect(() => new ReconnectPolicy({ ...DEFAULT_BACKOFF, baseMs: 0 })).toThrow(RangeError);
    expect(() => new ReconnectPolicy({ ...DEFAULT_BACKOFF, maxMs: 100 })).toThrow(RangeError);
    expect(() => new ReconnectPolicy({ ...DEFAULT_BACKOFF, jitter: 1.5 })).toThrow(RangeError);
  });
});
