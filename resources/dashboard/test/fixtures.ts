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
    promptTokens: 1000,
    outputTokens: 2000,
    promptTokensPerSecond: 100,
    outputTokensPerSecond: 200,
    batches: 20,
    meanBatchSize: 4.5,
    batchSizes: BUCKETS.map((size, i) => ({ size, batches: i < 4 ? 5 : 0 })),
    upstreamCalls: 20,
    upstreamErrors: 2,
    rejected: 3,
    rejections: { queue_full: 3 },
  };
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
    last1s: windowJson(1, rps, p99),
    last10s: windowJson(10, rps, p99),
    last60s: windowJson(60, rps, p99),
    total: windowJson(0, rps, p99),
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
    targetP95Ms: 2000,
    retry: { maxAttempts: 4, initialBackoffMs: 250, maxBackoffMs: 8000 },
    packing: 'pack',
    adaptive: false,
  };
}

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
