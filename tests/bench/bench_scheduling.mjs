#!/usr/bin/env node
// What priority classes, tenant fair queuing and deadline-driven tiers buy,
// measured through `sluice --server` against its embedded simulator (every
// upstream call counted at the simulator, /sim/v1/stats). Prints figures;
// not run by ctest (tests/sdk/fairness.test.mjs and tiers.test.mjs check the
// properties). The upstream is the bottleneck: calls take 400 ms on average
// (lognormal jitter) and Sluice keeps 8 in flight, ~20 answers a second.
//  1. fairness: a light tenant (4 req/s) alone, then beside a tenant flooding
//     at 20x its share, as two tenants (fair queuing) and as one tenant
//     (the same X-Sluice-Tenant: what plain FIFO gives);
//  2. classes: 48 background requests queued, then 6 interactive ones;
//  3. tiers: N requests that can wait 6 h (Batch Mode) and N that can wait
//     30 min (flex): upstream calls by tier and what they cost vs standard.
// Usage: node tests/bench/bench_scheduling.mjs [SLUICE_BIN] [N]
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway, stopSluice } from '../sdk/sluiceprocess.mjs';

const bin = process.argv[2] ?? 'build/release/app/sluice';
const n = Number(process.argv[3] ?? 500);
const model = 'gemini-2.5-flash';
const dir = mkdtempSync(join(tmpdir(), 'sluice-sched-'));
const config = join(dir, 'sluice.json');
writeFileSync(config, JSON.stringify({
  simulator: { baseLatencyMs: 400, tokensPerSecond: 0, jitterSigma: 0.4, maxConcurrent: 64,
               flexLatencyFactor: 3, batchPendingMs: 1000, batchRunMs: 2000 },
  engine: { maxInflightBatches: 8, maxBatchSize: 1, maxWaitMs: 0, maxQueue: 128, packing: 'fanout' },
  tiers: { flexAssumedSeconds: 5, batchMaxRequests: 1000, batchMaxAge: '3s', batchPollInterval: '250ms',
           batchMaxWaiting: 100000 },
  server: { maxConnections: 8192 },
}));
const { child, gatewayUrl, simulatorUrl } = await startGateway(bin, ['--config', config]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const simStats = async () => (await fetch(`${simulatorUrl}/sim/v1/stats`)).json();
const q = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };

async function call(key, headers = {}, text = `hello from ${key}`) {
  const start = performance.now();
  const r = await fetch(`${gatewayUrl}/v1beta/models/${model}:generateContent`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-goog-api-key': key, ...headers },
    body: JSON.stringify({ contents: [{ parts: [{ text }] }] }),
  });
  await r.arrayBuffer();
  return { status: r.status, ms: performance.now() - start, tier: r.headers.get('x-sluice-tier') };
}
async function openLoop(key, perSecond, seconds, headers) {
  const runs = [];
  for (let i = 0; i < perSecond * seconds; ++i) {
    runs.push(call(key, headers));
    await sleep(1000 / perSecond);
  }
  return Promise.all(runs);
}
async function besideFlood(lightHeaders, floodHeaders) {
  let flooding = true;
  const flood = (async () => {
    const runs = [];
    while (flooding) {
      for (let i = 0; i < 20; ++i)
        runs.push(call('flood-agent', floodHeaders));
      await sleep(100);
    }
    return Promise.all(runs);
  })();
  await sleep(1000);
  const light = await openLoop('light-agent', 4, 8, lightHeaders);
  flooding = false;
  const f = await flood;
  await sleep(3000); // the flood's queue drains
  return { light, ok: f.filter((r) => r.status === 200).length, refused: f.filter((r) => r.status === 429).length };
}

try {
  const fmt = (rs) => `p50 ${q(rs.map((r) => r.ms), 0.5).toFixed(0)} ms, p95 ${q(rs.map((r) => r.ms), 0.95).toFixed(0)} ms`;
  const alone = await openLoop('light-agent', 4, 8);
  console.log(`fairness: light tenant alone:                    ${fmt(alone)}`);
  const fair = await besideFlood({}, {});
  console.log(`          beside a 20x flood, two tenants (WFQ): ${fmt(fair.light)}; flood ${fair.ok} answered, ${fair.refused} refused`);
  const fifo = await besideFlood({ 'X-Sluice-Tenant': 'shared' }, { 'X-Sluice-Tenant': 'shared' });
  console.log(`          beside a 20x flood, one tenant (FIFO): ${fmt(fifo.light)}; ${fifo.light.filter((r) => r.status !== 200).length} of the light requests refused`);

  const background = Array.from({ length: 48 }, () => call('batch-agent', { 'X-Sluice-Priority': 'background' }));
  await sleep(300);
  const interactive = await Promise.all(Array.from({ length: 6 }, () => call('chat-agent', { 'X-Sluice-Priority': 'interactive' })));
  const bg = await Promise.all(background);
  console.log(`classes:  6 interactive behind 48 queued background: interactive ${fmt(interactive)}; background ${fmt(bg)}`);

  const before = await simStats();
  const t0 = performance.now();
  const batch = await Promise.all(Array.from({ length: n }, (_, i) => call('evals', { 'X-Sluice-Deadline': '6h' }, `item ${i}`)));
  const batchSeconds = (performance.now() - t0) / 1000;
  const mid = await simStats();
  const flex = await Promise.all(Array.from({ length: 40 }, (_, i) => call('chains', { 'X-Sluice-Deadline': '30m' }, `step ${i}`)));
  const after = await simStats();
  console.log(`tiers:    ${n} requests that can wait 6 h: ${batch.filter((r) => r.tier === 'batch').length} answered from Batch Mode in ` +
              `${batchSeconds.toFixed(1)} s; upstream: ${mid.batchJobs.created - before.batchJobs.created} batch job(s) holding ` +
              `${mid.batchRequests - before.batchRequests} requests, ${(mid.callsPerRoute.generateContent ?? 0) - (before.callsPerRoute.generateContent ?? 0)} synchronous calls`);
  console.log(`          40 requests that can wait 30 min: ${flex.filter((r) => r.tier === 'flex').length} on flex; upstream flex calls ` +
              `${after.callsPerTier.flex - mid.callsPerTier.flex}, p50 ${q(flex.map((r) => r.ms), 0.5).toFixed(0)} ms`);
  const stats = await (await fetch(`${gatewayUrl}/api/v1/stats`)).json();
  for (const t of stats.tiers)
    console.log(`          tier ${t.name.padEnd(8)} ${String(t.requests).padStart(6)} answers, ${t.promptTokens} + ${t.outputTokens} tokens, $${t.costUsd.toFixed(6)}`);
  console.log(`cost:     $${stats.cost.usd.toFixed(6)} vs $${stats.cost.standardUsd.toFixed(6)} all on standard: saving ${(100 * stats.cost.savingRatio).toFixed(1)} %`);
} finally {
  await stopSluice(child);
  rmSync(dir, { recursive: true, force: true });
}
