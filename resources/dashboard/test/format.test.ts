import { describe, expect, it } from 'vitest';
import { formatCount, formatCountdown, formatFactor, formatMs, formatPercent, formatRate, formatUptime } from '../src/format';

describe('formatMs', () => {
  it.each([
    [0, '0 ms'],
    [0.4234, '0.42 ms'],
    [4.25, '4.25 ms'],
    [12.34, '12.3 ms'],
    [480.6, '481 ms'],
    [999.4, '999 ms'],
    [1250, '1.25 s'],
    [12_500, '12.5 s'],
    [120_000, '2.0 min'],
  ])('%s → %s', (v, s) => expect(formatMs(v)).toBe(s));

  it('shows a dash for missing values', () => {
    expect(formatMs(Number.NaN)).toBe('—');
    expect(formatMs(undefined)).toBe('—');
    expect(formatMs(Infinity)).toBe('—');
  });
});

describe('formatCount and formatRate', () => {
  it.each([
    [0, '0'],
    [7, '7'],
    [3.14159, '3.14'],
    [42.42, '42.4'],
    [9876, '9\u202f876'],
    [12_345, '12.3k'],
    [123_456, '123k'],
    [4_560_000, '4.56M'],
    [45_600_000, '45.6M'],
    [7.2e9, '7.20G'],
  ])('%s → %s', (v, s) => expect(formatCount(v)).toBe(s));

  it('adds the unit per second', () => {
    expect(formatRate(12.34, 'req')).toBe('12.3 req/s');
    expect(formatRate(15_000, 'tok')).toBe('15.0k tok/s');
    expect(formatRate(Number.NaN, 'req')).toBe('—');
  });
});

describe('formatPercent', () => {
  it.each([
    [0, '0 %'],
    [0.05, '5.00 %'],
    [0.1234, '12.3 %'],
    [1, '100 %'],
  ])('%s → %s', (v, s) => expect(formatPercent(v)).toBe(s));
});

describe('formatCountdown and formatUptime', () => {
  it('rounds a countdown up to whole seconds', () => {
    expect(formatCountdown(3200)).toBe('4 s');
    expect(formatCountdown(4000)).toBe('4 s');
    expect(formatCountdown(1)).toBe('1 s');
    expect(formatCountdown(0)).toBe('0 s');
    expect(formatCountdown(-5)).toBe('0 s');
    expect(formatCountdown(90_000)).toBe('1 min 30 s');
  });

  it('formats uptime by its largest units', () => {
    expect(formatUptime(42)).toBe('42 s');
    expect(formatUptime(125)).toBe('2 min 5 s');
    expect(formatUptime(3725)).toBe('1 h 2 min');
    expect(formatUptime(90_000)).toBe('1 d 1 h');
    expect(formatUptime(-1)).toBe('—');
  });
});

describe('formatFactor', () => {
  it.each([
    [1, '1.00'],
    [0, '0.00'],
    [2.345, '2.35'],
    [12.34, '12.3'],
    [480.4, '480'],
    [15_000, '15.0k'],
  ])('%s → %s', (v, s) => expect(formatFactor(v)).toBe(s));

  it('shows a dash for a ratio that cannot be told', () => {
    expect(formatFactor(null)).toBe('—');
    expect(formatFactor(undefined)).toBe('—');
    expect(formatFactor(Number.NaN)).toBe('—');
  });
});
