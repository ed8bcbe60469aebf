// JSON shaped exactly like MetricsSnapshot::toJson / EngineConfig::toJson
// (core/metrics/metricssnapshot.cpp, core/engine/engineconfig.cpp), for the tests.

const BUCKETS = ['1', '2-3', '4-7', '8-15', '16-31', '32-63', '64-127', '128-255', '256-511', '512-1023', '1024+'];

export function latencyJson(p50 = 10, p95 = 20, p99 = 30) {
  return { count: 100, meanMs: p50 * 1.1, p50Ms: p50, p95Ms: p95, p99Ms: p99, p999Ms: p99 * 1.2, maxMs: p99 * 1.5 };
}

export function windowJson(seconds: number, rps = 50, p99 = 30) {
  return {
    seconds,
    requests: rps * Math.max(seconds, 1),
    ok: rps * Math.max(seconds, 1),
    failed: 0,
    expired: 0,
    cancelled: 0,
    requestsPerSecond: rps,
    latency: latencyJson(p99 / 3, (p99 * 2) / 3, p99),
    queueWait: latencyJson(1, 2, 3),
    upstream: latencyJson(8, 15, 25),
    // 100 streams (latencyJson's count): first events after 120 / 300 / 450 ms.
    firstToken: latencyJson(120, 300, 450),
    coalesced: 5,
    cache: { hits: 30, misses: 10, bypassed: 8, hitRatio: 0.75 },
    promptTokens: 1000,
    outputTokens: 2000,
    promptTokensPerSecond: 100,
    outputTokensPerSecond: 200,
    batches: 20,
    meanBatchSize: 4.5,
    batchSizes: BUCKETS.map((size, i) => ({ size, batches: i < 4 ? 5 : 0 })),
    upstreamCalls: 20,
    upstreamCallsByKind: { single: 4, pack: 12, repack: 3, retry: 1 },
    upstream429: 1,
    upstreamAttemptsByOutcome: { ok: 16, '429': 1, '5xx': 2, timeout: 1 },
    upstreamAttemptsFailed: 4,
    upstreamErrors: 2,
    packMembers: { answered: 40, repacked: 5, failed: 1 },
    answersPerUpstreamCall: (rps * Math.max(seconds, 1)) / 20,
    rejected: 3,
    rejections: { queue_full: 3 },
  };
}

/**
 * A window as a gateway sent it before the quota figures, the attempt
 * outcomes, the time to first token and the answer cache (no
 * upstreamCallsByKind, upstream429, packMembers, answersPerUpstreamCall,
 * upstreamAttemptsByOutcome, upstreamAttemptsFailed, firstToken, coalesced,
 * cache).
 */
export function legacyWindowJson(seconds: number, rps = 50, p99 = 30) {
  const {
    upstreamCallsByKind: _k,
    upstream429: _u,
    packMembers: _p,
    answersPerUpstreamCall: _a,
    upstreamAttemptsByOutcome: _o,
    upstreamAttemptsFailed: _f,
    firstToken: _t,
    coalesced: _c,
    cache: _h,
    ...rest
  } = windowJson(seconds, rps, p99);
  return rest;
}

export function dimensionJson(limit: number, source: string, used: number, blockedForMs = 0) {
  return { limit, source, used, usedRatio: limit > 0 ? used / limit : 0, blockedForMs };
}

/** MetricsSnapshot.quota: one model with a learned RPM that a 429 blocks, a configured TPM, no RPD limit. */
export function quotaJson() {
  return [
    {
      model: 'gemini-2.0-flash',
      rpm: dimensionJson(15, 'learned', 12, 2500),
      tpm: dimensionJson(1_000_000, 'config', 250_000),
      rpd: dimensionJson(0, 'none', 900),
    },
  ];
}

/** MetricsSnapshot.classes: the three classes in priority order, interactive busy and fast, background queued and slow. */
export function classesJson() {
  return [
    { name: 'interactive', queued: 2, completed: 1200, failed: 3, rejected: 0, latency: latencyJson(40, 90, 150), queueWait: latencyJson(1, 4, 8) },
    { name: 'standard', queued: 14, completed: 5400, failed: 0, rejected: 7, latency: latencyJson(180, 650, 900), queueWait: latencyJson(20, 120, 300) },
    // Nothing answered in the last 60 s (the gateway then sends count 0 and 0 ms); 12 dispatched after a long wait.
    {
      name: 'background',
      queued: 37,
      completed: 800,
      failed: 1,
      rejected: 25,
      latency: { count: 0, meanMs: 0, p50Ms: 0, p95Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0 },
      queueWait: { ...latencyJson(2500, 9000, 14_000), count: 12 },
    },
  ];
}

/** MetricsSnapshot.tiers: the four tiers in their order; flex cheaper and shed a few times, batch half price. */
export function tiersJson() {
  return [
    { name: 'standard', requests: 5000, shed: 0, promptTokens: 1_200_000, outputTokens: 300_000, costUsd: 1.2 },
    { name: 'flex', requests: 2000, shed: 12, promptTokens: 500_000, outputTokens: 100_000, costUsd: 0.25 },
    { name: 'priority', requests: 100, shed: 0, promptTokens: 20_000, outputTokens: 5_000, costUsd: 0.0537 },
    { name: 'batch', requests: 300, shed: 0, promptTokens: 90_000, outputTokens: 30_000, costUsd: 0.03 },
  ];
}

/** MetricsSnapshot.cost: as toJson() derives it from costUsd and costStandardUsd. */
export function costJson(usd = 1.5337, standardUsd = 2.5) {
  const saving = standardUsd - usd;
  return { usd, standardUsd, savingUsd: saving, savingRatio: standardUsd > 0 ? saving / standardUsd : 0 };
}

/** MetricsSnapshot.tenants: most active first; one API key's digest and two X-Sluice-Tenant names. */
export function tenantsJson() {
  return [
    { id: 'key-1a2b3c4d5e6f7a8b', weight: 2.5, queued: 30, inflight: 12, completed: 4000, rejected: 9 },
    { id: 'team-search', weight: 1, queued: 3, inflight: 2, completed: 2500, rejected: 0 },
    { id: 'nightly.jobs', weight: 0.125, queued: 0, inflight: 0, completed: 12_345, rejected: 0 },
  ];
}

/** MetricsSnapshot.batchMode: on, with a job gathering and two running. */
export function batchModeJson(enabled = true) {
  return enabled
    ? { enabled: true, gathering: 12, jobsRunning: 2, waiting: 40, jobsSubmitted: 5, requestsSubmitted: 500 }
    : { enabled: false, gathering: 0, jobsRunning: 0, waiting: 0, jobsSubmitted: 0, requestsSubmitted: 0 };
}

export function snapshotJson(timestampMs: number, opts: { rps?: number; p99?: number; queueDepth?: number } = {}) {
  const rps = opts.rps ?? 50;
  const p99 = opts.p99 ?? 30;
  return {
    timestampMs,
    uptimeSeconds: 120,
    queueDepth: opts.queueDepth ?? 5,
    queueCapacity: 2048,
    inflightBatches: 2,
    maxInflightBatches: 64,
    backpressure: 0.1,
    draining: false,
    memoryBudget: { usedBytes: 312 * 1024 * 1024, limitBytes: 1_073_741_824, refusals: 3 },
    answerCache: { enabled: true, usedBytes: 12 * 1024 * 1024, maxBytes: 64 * 1024 * 1024, entries: 1234 },
    last1s: windowJson(1, rps, p99),
    last10s: windowJson(10, rps, p99),
    last60s: windowJson(60, rps, p99),
    total: windowJson(0, rps, p99),
    quota: quotaJson(),
    upstreamAttempts: [
      { model: 'gemini-2.0-flash', outcome: 'ok', attempts: 900 },
      { model: 'gemini-2.0-flash', outcome: '429', attempts: 4 },
      { model: '', outcome: 'ok', attempts: 1 },
    ],
    classes: classesJson(),
    tiers: tiersJson(),
    cost: costJson(),
    tenants: tenantsJson(),
    batchMode: batchModeJson(),
  };
}

/**
 * A snapshot as a gateway sent it before the quota figures, the attempt
 * outcomes, the memory budget, the answer cache, and the priority classes,
 * tiers, cost, tenants and Batch Mode.
 */
export function legacySnapshotJson(timestampMs: number, opts: { rps?: number; p99?: number; queueDepth?: number } = {}) {
  const {
    quota: _q,
    memoryBudget: _m,
    upstreamAttempts: _a,
    answerCache: _c,
    classes: _cl,
    tiers: _t,
    cost: _co,
    tenants: _te,
    batchMode: _b,
    ...rest
  } = snapshotJson(timestampMs, opts);
  const rps = opts.rps ?? 50;
  const p99 = opts.p99 ?? 30;
  return {
    ...rest,
    last1s: legacyWindowJson(1, rps, p99),
    last10s: legacyWindowJson(10, rps, p99),
    last60s: legacyWindowJson(60, rps, p99),
    total: legacyWindowJson(0, rps, p99),
  };
}

export function configJson(maxBatchSize = 16) {
  return {
    maxBatchSize,
    maxWaitMs: 10,
    maxQueue: 2048,
    maxInflightBatches: 64,
    requestTimeoutMs: 120000,
    rpmLimit: 0,
    tpmLimit: 0,
    rpdLimit: 0,
    quotaProbeRpm: 60,
    maxPackSize: 64,
    targetP95Ms: 2000,
    retry: { maxAttempts: 4, initialBackoffMs: 250, maxBackoffMs: 8000 },
    packing: 'auto',
    adaptive: false,
  };
}

/** A hello as gateways sent it before history paging: the whole history inside. */
export function helloJson(history: unknown[] = [], rateHz = 4) {
  return {
    type: 'hello',
    version: '0.1.0',
    config: configJson(),
    history,
    upstream: { kind: 'simulator', model: 'gemini-2.0-flash' },
    rateHz,
  };
}

/** A hello as the gateway sends it now: the newest snapshot, and how many history entries it holds to page. */
export function pagedHelloJson(snapshot: unknown | null, historyPoints: number, rateHz = 4) {
  return {
    type: 'hello',
    version: '0.1.0',
    config: configJson(),
    upstream: { kind: 'simulator', model: 'gemini-2.0-flash' },
    rateHz,
    snapshot,
    historyPoints,
  };
}

/** A history page: trimmed entries (gauges, quota and last10s only, as the gateway keeps them), oldest first. */
export function historyJson(before: number | null, timestamps: number[], more: boolean) {
  const points = timestamps.map((t) => {
    const { last1s: _a, last60s: _b, total: _c, ...trimmed } = snapshotJson(t);
    return trimmed;
  });
  return { type: 'history', before, more, points };
}
