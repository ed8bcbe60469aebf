import { describe, expect, it } from 'vitest';
import { flattenConfig, KNOWN } from '../src/components/ConfigTable';
import { parseSnapshot, parseWindow, type QuotaDimension } from '../src/protocol';
import { formatRate } from '../src/format';
import { answersPerCall, callKindBars, coalescedPerSecond, failedAttemptOutcomes, failedAttemptsTitle, quotaGauge } from '../src/quota';
import { configJson, legacyWindowJson, windowJson } from './fixtures';

const dim = (limit: number, used: number, source = 'config', blockedForMs = 0): QuotaDimension => ({
  limit,
  source,
  used,
  usedRatio: limit > 0 ? used / limit : 0,
  blockedForMs,
});

describe('quotaGauge', () => {
  it('shows "no limit" plainly when the limit is 0, with the use and no meter', () => {
    const g = quotaGauge(dim(0, 220, 'none'));
    expect(g).toMatchObject({ kind: 'unlimited', used: '220', limit: 'no limit', ratio: null, percent: '', level: 'none', source: 'none', blocked: null });
  });

  it('shows used of limit with its source and a level like the backpressure meter', () => {
    expect(quotaGauge(dim(1_000_000, 250_000))).toMatchObject({ kind: 'limited', used: '250k', limit: 'of 1.00M', ratio: 0.25, percent: '25.0 %', level: 'low', source: 'config' });
    expect(quotaGauge(dim(1_000_000, 44)).percent).toBe('< 0.01 %');
    expect(quotaGauge(dim(1_000_000, 0)).percent).toBe('0 %');
    expect(quotaGauge(dim(100, 50, 'probe')).level).toBe('elevated');
    expect(quotaGauge(dim(100, 80, 'learned')).level).toBe('high');
    expect(quotaGauge(dim(100, 100)).level).toBe('refusing');
    // A learned limit can fall below what the window already spent.
    const over = quotaGauge(dim(10, 14, 'learned'));
    expect(over).toMatchObject({ ratio: 1.4, percent: '140 %', level: 'refusing', source: 'learned' });
  });

  it('says how long a 429 blocks the dimension, rounded up, and turns it red', () => {
    const g = quotaGauge(dim(15, 3, 'learned', 2500));
    expect(g.blocked).toBe('blocked for 3 s');
    expect(g.level).toBe('refusing');
    const u = quotaGauge(dim(0, 3, 'none', 61_000));
    expect(u).toMatchObject({ kind: 'unlimited', limit: 'no limit', blocked: 'blocked for 1 min 1 s', level: 'refusing' });
    expect(quotaGauge(dim(15, 3, 'learned', 0)).blocked).toBeNull();
  });

  it('shows a dash for a dimension the snapshot lacks, and keeps an unknown source as it came', () => {
    expect(quotaGauge(null)).toMatchObject({ kind: 'missing', used: '—', limit: '—', level: 'none' });
    expect(quotaGauge(undefined).kind).toBe('missing');
    const g = quotaGauge(dim(5, 1, 'header'));
    expect(g.source).toBe('header');
    expect(g.sourceTitle).toBe('header');
    expect(quotaGauge(dim(5, 1, 'probe')).sourceTitle).toMatch(/first 429/);
  });
});

describe('answersPerCall', () => {
  it('is the window\'s ok answers per upstream call', () => {
    expect(answersPerCall(parseWindow({ ...windowJson(60), ok: 90, upstreamCalls: 20, answersPerUpstreamCall: 4.5 }))).toBe(4.5);
  });

  it('is null when it cannot be told: no window, an older gateway, or no upstream call', () => {
    expect(answersPerCall(null)).toBeNull();
    expect(answersPerCall(undefined)).toBeNull();
    const { answersPerUpstreamCall: _a, ...older } = windowJson(60);
    expect(answersPerCall(parseWindow(older))).toBeNull();
    // The gateway sends 0 for a window without calls; that is not "calls buy nothing".
    expect(answersPerCall(parseWindow({ ...windowJson(60), ok: 0, upstreamCalls: 0, answersPerUpstreamCall: 0 }))).toBeNull();
    // Calls that bought nothing (every one failed) are a real 0.
    expect(answersPerCall(parseWindow({ ...windowJson(60), ok: 0, upstreamCalls: 8, answersPerUpstreamCall: 0 }))).toBe(0);
  });
});

describe('coalescedPerSecond', () => {
  it('is the window\'s coalesced requests per second', () => {
    const w = parseWindow(windowJson(10)); // 5 coalesced in 10 s
    expect(coalescedPerSecond(w)).toBe(0.5);
    expect(formatRate(coalescedPerSecond(w), 'req')).toBe('0.5 req/s');
    expect(coalescedPerSecond(parseWindow({ ...windowJson(10), coalesced: 0 }))).toBe(0);
    // A window without its length is the 10 s one the figure reads.
    expect(coalescedPerSecond(parseWindow({ ...windowJson(10), seconds: 0, coalesced: 30 }))).toBe(3);
  });

  it('is null, shown as —, from an older gateway', () => {
    expect(coalescedPerSecond(parseWindow(legacyWindowJson(10)))).toBeNull();
    expect(coalescedPerSecond(parseWindow({ ...windowJson(10), coalesced: '5' }))).toBeNull();
    expect(coalescedPerSecond(null)).toBeNull();
    expect(formatRate(coalescedPerSecond(undefined), 'req')).toBe('—');
  });
});

describe('callKindBars', () => {
  it('lists the known kinds in a fixed order, zeros included, then others by count', () => {
    const bars = callKindBars({ retry: 2, pack: 10, future_kind: 1, other: 3 });
    expect(bars.map((b) => [b.key, b.label, b.value])).toEqual([
      ['single', 'single', 0],
      ['pack', 'pack', 10],
      ['repack', 'repack', 0],
      ['retry', 'retry', 2],
      ['embed_merge', 'embed merge', 0],
      ['other', 'other', 3],
      ['future_kind', 'future kind', 1],
    ]);
  });

  it('has no bars when the gateway does not report kinds', () => {
    expect(callKindBars(null)).toEqual([]);
  });
});

describe('failed upstream attempts by outcome', () => {
  it('lists the outcomes that occurred, known ones in order, "ok" left out, then others by count', () => {
    const byOutcome = { ok: 40, timeout: 2, '429': 3, '5xx': 1, '4xx': 0, connection_error: 2, future_thing: 1, a_tie: 1, bigger: 5 };
    expect(failedAttemptOutcomes(byOutcome)).toBe('429 3 · 5xx 1 · timeout 2 · connection error 2 · bigger 5 · a tie 1 · future thing 1');
    expect(failedAttemptOutcomes({ ok: 12 })).toBe('');
    expect(failedAttemptOutcomes({})).toBe('');
    // An older gateway does not report outcomes.
    expect(failedAttemptOutcomes(null)).toBeNull();
  });

  it('explains in its tooltip that every attempt counts, retries included', () => {
    const t = failedAttemptsTitle('the last 60 s', { ok: 5, '429': 2 });
    expect(t).toMatch(/each attempt counted, retries included/);
    expect(t).toMatch(/in the last 60 s/);
    expect(t).toMatch(/By outcome: 429 2\.$/);
    expect(failedAttemptsTitle('the last 10 s', { ok: 5 })).toMatch(/None failed\.$/);
    expect(failedAttemptsTitle('the last 10 s', null)).not.toMatch(/outcome:|None failed/);
  });
});

describe('the quota figures of a real-shaped snapshot', () => {
  it('reads every dimension of every model', () => {
    const s = parseSnapshot({
      quota: [
        { model: 'gemini-2.0-flash', rpm: { limit: 0, source: 'none', used: 20, usedRatio: 0, blockedForMs: 0 }, tpm: { limit: 0, source: 'none', used: 220, usedRatio: 0, blockedForMs: 0 }, rpd: { limit: 0, source: 'none', used: 20, usedRatio: 0, blockedForMs: 0 } },
        { model: 'gemini-2.5-pro', rpm: { limit: 120, source: 'probe', used: 30, usedRatio: 0.25, blockedForMs: 0 } },
      ],
    });
    expect(s.quota?.map((m) => m.model)).toEqual(['gemini-2.0-flash', 'gemini-2.5-pro']);
    expect(quotaGauge(s.quota?.[0]?.tpm).limit).toBe('no limit');
    expect(quotaGauge(s.quota?.[1]?.rpm)).toMatchObject({ limit: 'of 120', percent: '25.0 %', source: 'probe' });
    expect(quotaGauge(s.quota?.[1]?.rpd).kind).toBe('missing');
  });
});

describe('ConfigTable knobs', () => {
  it('describes every knob EngineConfig::toJson sends, the quota knobs included', () => {
    const keys = flattenConfig(configJson()).map(([k]) => k);
    for (const k of ['packing', 'maxPackSize', 'rpdLimit', 'quotaProbeRpm', 'rpmLimit', 'tpmLimit']) expect(keys).toContain(k);
    for (const k of keys) expect(KNOWN[k]?.meaning, k).toBeTruthy();
    expect(KNOWN.packing?.meaning).toMatch(/auto/);
  });
});
