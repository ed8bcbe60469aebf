// Deadline-driven tiers, seen by the official @google/genai SDK through
// `sluice --server`: a request that can wait goes to flex and falls back to
// standard when flex sheds it; requests that can wait hours are gathered
// into one Gemini Batch Mode job; an asynchronous client polls its operation
// with the SDK's batches.get(); and the cost figures follow the token counts.
// Every upstream call is counted where it lands: the simulator's /sim/v1/stats.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { GoogleGenAI } from '@google/genai';
import { patchSimulator, simulatorStats, startConfiguredGateway, until } from './sluiceprocess.mjs';

const sluice = process.env.SLUICE_BIN;
const model = 'gemini-2.5-flash';
const prices = { input: 1.0, output: 4.0 }; // USD per million tokens, standard; flex and batch are half
let gateway;
let gatewayUrl;
let simulatorUrl;

before(async () => {
  assert.ok(sluice, 'SLUICE_BIN must point at the sluice executable');
  gateway = await startConfiguredGateway(sluice, {
    simulator: { baseLatencyMs: 100, tokensPerSecond: 0, jitterSigma: 0, flexLatencyFactor: 3,
                 batchPendingMs: 300, batchRunMs: 600 },
    engine: { maxInflightBatches: 64 },
    // Flex is assumed to take 1 s until one answers: a deadline of 30 s or
    // more goes to flex (then twice what flex took); 1 h or more to Batch
    // Mode, sent at 200 requests or after 6 s, polled every 200 ms.
    tiers: { flexAssumedSeconds: 1, flexDeadlineFactor: 2, batchMinDeadline: '1h', batchMaxRequests: 200,
             batchMaxAge: '6s', batchPollInterval: '200ms' },
    prices: { '*': { standard: prices } },
  });
  ({ gatewayUrl, simulatorUrl } = gateway);
});

after(() => gateway?.stop());

const simStats = () => simulatorStats(simulatorUrl);
const setSim = (patch) => patchSimulator(simulatorUrl, patch);
const stats = async () => (await fetch(`${gatewayUrl}/api/v1/stats`)).json();
const client = (apiKey, headers) => new GoogleGenAI({ apiKey, httpOptions: { baseUrl: gatewayUrl, headers } });
const tierOf = (response) => response.sdkHttpResponse?.headers?.['x-sluice-tier'];

test('a request that can wait 30 minutes goes to flex; one that can wait half a second stays standard', async () => {
  const before = await simStats();
  const flex = await client('agent-a', { 'X-Sluice-Deadline': '30m' }).models.generateContent({ model, contents: 'a slow question' });
  assert.ok(flex.text.length > 0);
  assert.equal(tierOf(flex), 'flex');
  const standard = await client('agent-a', { 'X-Sluice-Deadline': '500ms' }).models.generateContent({ model, contents: 'a quick question' });
  assert.equal(tierOf(standard), 'standard');
  const after = await simStats();
  assert.equal(after.callsPerTier.flex, before.callsPerTier.flex + 1);
  assert.equal(after.callsPerTier.standard, before.callsPerTier.standard + 1);
});

test('a flex call the upstream sheds is sent again on the standard tier and answered', async () => {
  await setSim({ flexShedRate: 1 });
  try {
    const before = await simStats();
    const r = await client('agent-a', { 'X-Sluice-Deadline': '30m' }).models.generateContent({ model, contents: 'shed me' });
    assert.ok(r.text.length > 0);
    assert.equal(tierOf(r), 'standard');
    const after = await simStats();
    assert.equal(after.flexShed, before.flexShed + 1, 'the simulator shed exactly one flex call');
    assert.equal(after.callsPerTier.standard, before.callsPerTier.standard + 1, 'then one standard call answered it');
    const flexTier = (await stats()).tiers.find((t) => t.name === 'flex');
    assert.ok(flexTier.shed >= 1);
  } finally {
    await setSim({ flexShedRate: 0 });
  }
});

test('200 background requests that can wait 6 h become one Batch Mode job whose answers reach every client', async () => {
  const before = await simStats();
  const ai = client('agent-b', { 'X-Sluice-Deadline': '6h', 'X-Sluice-Priority': 'background' });
  const answers = await Promise.all(Array.from({ length: 200 }, (_, i) =>
    ai.models.generateContent({ model, contents: `question number ${i}` })));
  const after = await simStats();
  assert.equal(after.batchJobs.created, before.batchJobs.created + 1, 'one Batch Mode job upstream');
  assert.equal(after.batchRequests, before.batchRequests + 200, 'holding all 200 requests');
  assert.equal(after.callsPerRoute?.generateContent ?? 0, before.callsPerRoute?.generateContent ?? 0,
    'and no synchronous call');
  for (const a of answers) {
    assert.ok(a.text.length > 0);
    assert.equal(tierOf(a), 'batch');
  }
  // The cost of the batch tier is its tokens at half the standard price.
  const prompt = answers.reduce((n, a) => n + a.usageMetadata.promptTokenCount, 0);
  const output = answers.reduce((n, a) => n + (a.usageMetadata.candidatesTokenCount ?? 0), 0);
  const batch = (await stats()).tiers.find((t) => t.name === 'batch');
  assert.equal(batch.requests, 200);
  assert.equal(batch.promptTokens, prompt);
  assert.equal(batch.outputTokens, output);
  assert.ok(Math.abs(batch.costUsd - (prompt * prices.input + output * prices.output) / 2e6) < 1e-9);
});

test('Prefer: respond-async answers 202 with an operation the SDK polls to its answer; another key cannot read it', async () => {
  const r = await fetch(`${gatewayUrl}/v1beta/models/${model}:generateContent`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': 'agent-c', 'X-Sluice-Deadline': '6h',
               Prefer: 'respond-async' },
    body: JSON.stringify({ contents: [{ parts: [{ text: 'answer me later' }] }] }),
  });
  assert.equal(r.status, 202);
  const op = await r.json();
  assert.match(op.name, /^batches\/sluice-[0-9a-f]{16}$/);
  assert.equal(op.metadata.state, 'BATCH_STATE_PENDING');
  const ai = client('agent-c');
  const job = await until('the operation to succeed', async () => {
    const j = await ai.batches.get({ name: op.name });
    return j.state === 'JOB_STATE_SUCCEEDED' ? j : null;
  }, 30000); // sent when it has waited batchMaxAge (6 s), then ~1 s upstream
  assert.equal(job.dest.inlinedResponses.length, 1);
  const text = job.dest.inlinedResponses[0].response.candidates[0].content.parts[0].text;
  assert.ok(text.length > 0);
  const other = await fetch(`${gatewayUrl}/v1beta/${op.name}`, { headers: { 'x-goog-api-key': 'agent-d' } });
  assert.equal(other.status, 404);
  assert.equal((await other.json()).error.status, 'NOT_FOUND');
});

test('bad scheduling headers are 400s naming the header; nothing is sent upstream', async () => {
  const before = await simStats();
  for (const [header, value] of [['X-Sluice-Priority', 'urgent'], ['X-Sluice-Deadline', 'tomorrow'],
                                 ['X-Sluice-Tenant', 'key-spoofed'], ['X-Sluice-Deadline', '30d']]) {
    const r = await fetch(`${gatewayUrl}/v1beta/models/${model}:generateContent`, {
      method: 'POST', headers: { 'content-type': 'application/json', [header]: value },
      body: JSON.stringify({ contents: [{ parts: [{ text: 'x' }] }] }),
    });
    assert.equal(r.status, 400, `${header}: ${value}`);
    const body = await r.json();
    assert.equal(body.error.status, 'INVALID_ARGUMENT');
    assert.equal(body.error.details[0].fieldViolations[0].field, header);
  }
  const r = await fetch(`${gatewayUrl}/v1beta/models/${model}:generateContent`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ contents: [{ parts: [{ text: 'x' }] }], serviceTier: 'cheapest' }),
  });
  assert.equal(r.status, 400);
  assert.equal((await r.json()).error.details[0].fieldViolations[0].field, 'serviceTier');
  const after = await simStats();
  assert.equal(after.callsPerRoute?.generateContent ?? 0, before.callsPerRoute?.generateContent ?? 0,
    'no request reached the upstream');
});

test('cost figures follow the token counts at the configured prices, and /metrics says the same', async () => {
  const s = await stats();
  const factor = { standard: 1, flex: 0.5, priority: 1.8, batch: 0.5 };
  let total = 0;
  let standard = 0;
  for (const t of s.tiers) {
    const expected = (t.promptTokens * prices.input + t.outputTokens * prices.output) * factor[t.name] / 1e6;
    assert.ok(Math.abs(t.costUsd - expected) < 1e-9, `${t.name}: ${t.costUsd} vs ${expected}`);
    total += expected;
    standard += (t.promptTokens * prices.input + t.outputTokens * prices.output) / 1e6;
  }
  assert.ok(Math.abs(s.cost.usd - total) < 1e-9);
  assert.ok(Math.abs(s.cost.standardUsd - standard) < 1e-9);
  assert.ok(s.cost.savingUsd > 0, 'flex and batch answers cost less than standard ones');
  const metrics = await (await fetch(`${gatewayUrl}/metrics`)).text();
  const line = metrics.split('\n').find((l) => l.startsWith(`sluice_cost_usd_total{model="${model}",tier="batch"}`));
  assert.ok(line, 'sluice_cost_usd_total has the batch series');
  const batch = s.tiers.find((t) => t.name === 'batch');
  assert.ok(Math.abs(Number(line.split(' ')[1]) - batch.costUsd) < 1e-9);
});
