// Fairness between tenants and priority classes under load, through
// `sluice --server` and its embedded simulator, with real HTTP clients on
// loopback. The upstream is made the bottleneck: a call takes 400 ms on
// average (lognormal jitter, so the 8 calls Sluice keeps in flight end at
// different times, as real ones do) — about 20 answers a second.
//
// The fairness figure is the issue's own: a tenant flooding at 20 times its
// share leaves another tenant's median latency within 1.5 times of what it
// sees alone. Without fair queuing the light tenant would wait behind the
// flood's queue (tens of requests, seconds); with it, only for the next of
// the 8 calls in flight to end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startConfiguredGateway } from './sluiceprocess.mjs';

const sluice = process.env.SLUICE_BIN;
const model = 'gemini-2.5-flash';
let gateway;
let gatewayUrl;

before(async () => {
  assert.ok(sluice, 'SLUICE_BIN must point at the sluice executable');
  gateway = await startConfiguredGateway(sluice, {
    simulator: { baseLatencyMs: 400, tokensPerSecond: 0, jitterSigma: 0.4, maxConcurrent: 64 },
    engine: { maxInflightBatches: 8, maxBatchSize: 1, maxWaitMs: 0, maxQueue: 128, packing: 'fanout' },
  });
  ({ gatewayUrl } = gateway);
});

after(() => gateway?.stop());

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function call(apiKey, headers = {}) {
  const start = performance.now();
  const r = await fetch(`${gatewayUrl}/v1beta/models/${model}:generateContent`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': apiKey, ...headers },
    body: JSON.stringify({ contents: [{ parts: [{ text: `hello from ${apiKey}` }] }] }),
  });
  await r.arrayBuffer();
  return { status: r.status, ms: performance.now() - start };
}

// `perSecond` requests a second for `seconds`, open loop (each on its own
// schedule, not waiting for the previous answer).
async function openLoop(apiKey, perSecond, seconds, headers) {
  const runs = [];
  const n = Math.round(perSecond * seconds);
  for (let i = 0; i < n; ++i) {
    runs.push(call(apiKey, headers));
    await sleep(1000 / perSecond);
  }
  return Promise.all(runs);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

test('a tenant flooding at 20x its share leaves another tenant\'s p50 within 1.5x of what it sees alone', async () => {
  // Two tenants share 20 answers a second: 10 each. The light one asks 4 a second.
  const alone = await openLoop('light-agent', 4, 5);
  assert.ok(alone.every((r) => r.status === 200));
  const aloneP50 = median(alone.map((r) => r.ms));

  // The flood: 20 x its share of 10 a second, for as long as the light tenant runs.
  let flooding = true;
  const flood = (async () => {
    const runs = [];
    while (flooding) {
      for (let i = 0; i < 20; ++i)
        runs.push(call('flood-agent'));
      await sleep(100);
    }
    return Promise.all(runs);
  })();
  await sleep(1000); // the flood's queue is built
  const shared = await openLoop('light-agent', 4, 5);
  flooding = false;
  const floodResults = await flood;
  assert.ok(shared.every((r) => r.status === 200), 'the light tenant is never refused');
  const sharedP50 = median(shared.map((r) => r.ms));
  const floodOk = floodResults.filter((r) => r.status === 200).length;
  const floodRefused = floodResults.filter((r) => r.status === 429).length;
  console.log(`light tenant p50: alone ${aloneP50.toFixed(0)} ms, beside the flood ${sharedP50.toFixed(0)} ms ` +
              `(${(sharedP50 / aloneP50).toFixed(2)}x); flood: ${floodResults.length} sent, ${floodOk} answered, ` +
              `${floodRefused} refused 429`);
  assert.ok(floodRefused > 0, 'the flood exceeded what the upstream serves (else the test shows nothing)');
  assert.ok(sharedP50 <= 1.5 * aloneP50, `p50 ${sharedP50.toFixed(0)} ms beside the flood vs ${aloneP50.toFixed(0)} ms alone`);

  const stats = await (await fetch(`${gatewayUrl}/api/v1/stats`)).json();
  const ids = stats.tenants.map((t) => t.id);
  assert.ok(ids.every((id) => /^key-[0-9a-f]{16}$/.test(id)), `tenant ids are key digests: ${ids}`);
  assert.ok(!JSON.stringify(stats).includes('flood-agent'), 'no API key in clear in the stats');
});

test('interactive requests go before background work queued ahead of them', async () => {
  // 48 background requests fill the queue (6 rounds of 8 calls, ~2.4 s);
  // then 6 interactive ones arrive.
  const background = Array.from({ length: 48 }, () => call('batch-agent', { 'X-Sluice-Priority': 'background' }));
  await sleep(300);
  const interactive = await Promise.all(Array.from({ length: 6 },
    () => call('chat-agent', { 'X-Sluice-Priority': 'interactive' })));
  const bg = await Promise.all(background);
  assert.ok(interactive.every((r) => r.status === 200) && bg.every((r) => r.status === 200));
  const interactiveMax = Math.max(...interactive.map((r) => r.ms));
  const backgroundP50 = median(bg.map((r) => r.ms));
  console.log(`interactive max ${interactiveMax.toFixed(0)} ms, background p50 ${backgroundP50.toFixed(0)} ms`);
  // An interactive request waits for the next call to end, then its own (~400 ms each, jittered).
  assert.ok(interactiveMax < 1600, `interactive waited ${interactiveMax.toFixed(0)} ms`);
  assert.ok(interactiveMax < backgroundP50, 'interactive requests overtook the background queue');
  const stats = await (await fetch(`${gatewayUrl}/api/v1/stats`)).json();
  const cls = Object.fromEntries(stats.classes.map((c) => [c.name, c]));
  assert.ok(cls.interactive.completed >= 6);
  assert.ok(cls.background.completed >= 48);
  assert.ok(cls.interactive.latency.p95Ms < cls.background.latency.p50Ms);
  const metrics = await (await fetch(`${gatewayUrl}/metrics`)).text();
  assert.match(metrics, /sluice_class_requests_total\{class="background",outcome="ok"\} \d+/);
});
