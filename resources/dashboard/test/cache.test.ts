// The answer cache tile: hit ratios, lookups, size, "off" and older gateways.
import { describe, expect, it } from 'vitest';
import { answerCacheView, cacheHitRatio } from '../src/cache';
import { parseSnapshot, parseWindow } from '../src/protocol';
import { legacySnapshotJson, snapshotJson, windowJson } from './fixtures';

const MiB = 1024 * 1024;
const nn = '\u202f';

/** A snapshot with the given answer cache and window lookups. */
function snap(answerCache: unknown, last60s: unknown = { hits: 30, misses: 10, bypassed: 8, hitRatio: 0.75 }, total: unknown = { hits: 300, misses: 300, bypassed: 80, hitRatio: 0.5 }) {
  const j = snapshotJson(1);
  return parseSnapshot({ ...j, answerCache, last60s: { ...j.last60s, cache: last60s }, total: { ...j.total, cache: total } });
}

describe('cacheHitRatio', () => {
  it('is hits / (hits + misses) as the gateway sends it', () => {
    expect(cacheHitRatio({ hits: 30, misses: 10, bypassed: 8, hitRatio: 0.75 })).toBe(0.75);
    expect(cacheHitRatio({ hits: 0, misses: 4, bypassed: 0, hitRatio: 0 })).toBe(0);
    expect(cacheHitRatio({ hits: 4, misses: 0, bypassed: 0, hitRatio: 1 })).toBe(1);
  });

  it('is null without a lookup (bypassed ones do not count) or from an older gateway', () => {
    // The gateway sends 0 then, which would read as "never hits".
    expect(cacheHitRatio({ hits: 0, misses: 0, bypassed: 8, hitRatio: 0 })).toBeNull();
    expect(cacheHitRatio(null)).toBeNull();
    expect(cacheHitRatio(undefined)).toBeNull();
  });
});

describe('answerCacheView', () => {
  it('shows the hit ratios, the lookups of the last 60 s and the size of a cache that is on', () => {
    expect(answerCacheView(parseSnapshot(snapshotJson(1)))).toEqual({
      kind: 'on',
      headline: '75.0 %',
      hitRatio60s: 0.75,
      hitRatioTotal: 0.75,
      hitRatio60sText: '75.0 %',
      hitRatioTotalText: '75.0 %',
      lookups: { hits: 30, misses: 10, bypassed: 8, hitRatio: 0.75 },
      used: '12 MiB',
      max: 'of 64 MiB',
      fill: 12 / 64,
      entriesText: `1${nn}234 entries`,
      text: `12 MiB of 64 MiB · 1${nn}234 entries`,
    });
    const on = { enabled: true, usedBytes: 4096, maxBytes: 256 * MiB, entries: 1 };
    expect(answerCacheView(snap(on))).toMatchObject({ headline: '75.0 %', hitRatioTotalText: '50.0 %', text: `4${nn}096 B of 256 MiB · 1 entry` });
    // A window without lookups: "—" for it, the ratio since start still tells.
    expect(answerCacheView(snap(on, { hits: 0, misses: 0, bypassed: 3, hitRatio: 0 }))).toMatchObject({ headline: '—', hitRatio60s: null, hitRatioTotalText: '50.0 %' });
    // An empty cache, and one without a size limit.
    expect(answerCacheView(snap({ enabled: true, usedBytes: 0, maxBytes: 64 * MiB, entries: 0 }))).toMatchObject({ text: '0 B of 64 MiB · 0 entries', fill: 0 });
    expect(answerCacheView(snap({ enabled: true, usedBytes: 2048, maxBytes: 0, entries: 2 }))).toMatchObject({ max: '—', fill: null, text: `2${nn}048 B · 2 entries` });
  });

  it('reads "off" when the gateway has the cache disabled, its bypassed lookups still counted', () => {
    const v = answerCacheView(snap({ enabled: false, usedBytes: 0, maxBytes: 0, entries: 0 }, { hits: 0, misses: 0, bypassed: 40, hitRatio: 0 }, { hits: 0, misses: 0, bypassed: 900, hitRatio: 0 }));
    expect(v).toEqual({
      kind: 'off',
      headline: 'off',
      hitRatio60s: null,
      hitRatioTotal: null,
      hitRatio60sText: '—',
      hitRatioTotalText: '—',
      lookups: { hits: 0, misses: 0, bypassed: 40, hitRatio: 0 },
      used: '—',
      max: '—',
      fill: null,
      entriesText: '—',
      text: 'off',
    });
  });

  it('shows a dash for a gateway older than the cache, or before the first snapshot', () => {
    const missing = {
      kind: 'missing',
      headline: '—',
      hitRatio60s: null,
      hitRatioTotal: null,
      hitRatio60sText: '—',
      hitRatioTotalText: '—',
      lookups: null,
      used: '—',
      max: '—',
      fill: null,
      entriesText: '—',
      text: '—',
    };
    expect(answerCacheView(parseSnapshot(legacySnapshotJson(1)))).toEqual(missing);
    expect(answerCacheView(null)).toEqual(missing);
    expect(answerCacheView(undefined)).toEqual(missing);
  });
});

describe('the answer cache of a snapshot', () => {
  it('is read from answerCache and each window’s cache, as MetricsSnapshot::toJson writes them', () => {
    const s = parseSnapshot(snapshotJson(1));
    expect(s.answerCache).toEqual({ enabled: true, usedBytes: 12 * MiB, maxBytes: 64 * MiB, entries: 1234 });
    for (const w of [s.last1s, s.last10s, s.last60s, s.total]) expect(w.cache).toEqual({ hits: 30, misses: 10, bypassed: 8, hitRatio: 0.75 });
  });

  it('is null from an older gateway, or when it does not say whether the cache is on', () => {
    expect(parseSnapshot(legacySnapshotJson(1)).answerCache).toBeNull();
    expect(snap('on').answerCache).toBeNull();
    expect(snap({ enabled: 'yes', usedBytes: 1, maxBytes: 2, entries: 3 }).answerCache).toBeNull();
    expect(snap({ usedBytes: 1, maxBytes: 2, entries: 3 }).answerCache).toBeNull();
    // Missing numbers alone read as 0: whether it is on still tells.
    expect(snap({ enabled: true }).answerCache).toEqual({ enabled: true, usedBytes: 0, maxBytes: 0, entries: 0 });
  });

  it('reads a window’s lookups as missing only when the object is', () => {
    expect(parseWindow({ ...windowJson(60), cache: 'x' }).cache).toBeNull();
    expect(parseWindow({ ...windowJson(60), cache: { hits: 2, misses: '1' } }).cache).toEqual({ hits: 2, misses: 0, bypassed: 0, hitRatio: 0 });
  });
});
