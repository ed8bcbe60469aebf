// Streaming pass-through, in-flight coalescing and the answer cache, seen by
// the official @google/genai SDK through `sluice --server`; every upstream
// call is counted where it lands: the embedded simulator's /sim/v1/stats.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { GoogleGenAI, ApiError } from '@google/genai';
import { patchSimulator, simulatorStats, startConfiguredGateway, until } from './sluiceprocess.mjs';

const sluice = process.env.SLUICE_BIN;
const model = 'gemini-2.5-flash';
let gateway;
let gatewayUrl;
let simulatorUrl;
let ai;

before(async () => {
  assert.ok(sluice, 'SLUICE_BIN must point at the sluice executable');
  // A slow decoder (20 tokens/s): a stream of ~90 tokens takes ~4.5 s upstream.
  gateway = await startConfiguredGateway(sluice, {
    simulator: { baseLatencyMs: 300, tokensPerSecond: 20, jitterSigma: 0, responseWords: 60 },
    engine: { maxInflightBatches: 256 },
    cache: { maxBytes: 4 * 1024 * 1024, ttlSeconds: 600 },
  });
  ({ gatewayUrl, simulatorUrl } = gateway);
  ai = new GoogleGenAI({ apiKey: 'agent-key', httpOptions: { baseUrl: gatewayUrl } });
});

after(() => gateway?.stop());

const simStats = () => simulatorStats(simulatorUrl);
const calls = (stats, route) => stats.callsPerRoute?.[route] ?? 0;
const setSim = (patch) => patchSimulator(simulatorUrl, patch);

test('generateContentStream: the first chunk arrives while the upstream is still generating', async () => {
  const before = await simStats();
  const stream = await ai.models.generateContentStream({ model, contents: 'describe a slow river in detail' });
  let first = null;
  let text = '';
  let chunks = 0;
  for await (const chunk of stream) {
    if (chunks === 0)
      first = await simStats(); // the upstream's own account, at the first chunk
    ++chunks;
    text += chunk.text ?? '';
  }
  const afterAll = await simStats();
  assert.ok(chunks >= 3, `expected several chunks, got ${chunks}`);
  assert.ok(text.length > 0);
  // At the first chunk the simulator had the call and had not finished it.
  assert.equal(calls(first, 'streamGenerateContent'), calls(before, 'streamGenerateContent') + 1);
  assert.equal(first.completed, before.completed, 'the upstream had already finished when the first chunk arrived');
  assert.equal(afterAll.completed, before.completed + 1);
});

test('generateContentStream: byte-exact SSE pass-through', async () => {
  const body = JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'byte exact please' }] }] });
  const post = (base) => fetch(`${base}/v1beta/models/${model}:streamGenerateContent?alt=sse`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body,
  });
  const [viaSluice, direct] = await Promise.all([post(gatewayUrl), post(simulatorUrl)]);
  assert.equal(viaSluice.status, 200);
  assert.equal(viaSluice.headers.get('content-type'), 'text/event-stream');
  assert.equal(viaSluice.headers.get('x-sluice-cache'), 'bypass');
  // Byte for byte, but for the responseId the simulator draws per call.
  const sameId = (t) => t.replaceAll(/"responseId":"[^"]*"/g, '"responseId":"-"');
  const [a, b] = [await viaSluice.text(), await direct.text()];
  assert.ok(a.includes('"responseId":"'));
  assert.equal(sameId(a), sameId(b));
});

test('a client that leaves mid-stream aborts the upstream call', async () => {
  const before = await simStats();
  const controller = new AbortController();
  const r = await fetch(`${gatewayUrl}/v1beta/models/${model}:streamGenerateContent?alt=sse`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, signal: controller.signal,
    body: JSON.stringify({ contents: [{ parts: [{ text: 'a story I will not finish reading' }] }] }),
  });
  const reader = r.body.getReader();
  const { value } = await reader.read();
  assert.ok(value.length > 0);
  controller.abort();
  // The simulator sees its client go (counted when the slot's service ends).
  const after = await until('the simulator to count an abandoned generation',
    async () => { const s = await simStats(); return s.abandoned > before.abandoned ? s : null; });
  assert.equal(after.completed, before.completed);
  const stats = await (await fetch(`${gatewayUrl}/api/v1/stats`)).json();
  assert.ok((stats.total.upstreamAttemptsByOutcome.cancelled ?? 0) >= 1, JSON.stringify(stats.total.upstreamAttemptsByOutcome));
});

test('an upstream error mid-stream ends the stream with an error event', async () => {
  await setSim({ midStreamErrorRate: 1 });
  try {
    const stream = await ai.models.generateContentStream({ model, contents: 'this one breaks halfway' });
    let chunks = 0;
    await assert.rejects(async () => {
      for await (const chunk of stream) {
        assert.ok(chunk.text !== undefined);
        ++chunks;
      }
    }, (e) => e instanceof ApiError && e.status === 503);
    assert.ok(chunks >= 1, 'the chunks before the failure reach the client');
  } finally {
    await setSim({ midStreamErrorRate: 0 });
  }
});

test('50 identical temperature-0 requests make exactly one upstream call', async () => {
  const before = await simStats();
  const ask = () => ai.models.generateContent({
    model, contents: 'the same question from fifty agents', config: { temperature: 0 },
  });
  const answers = await Promise.all(Array.from({ length: 50 }, ask));
  const after = await simStats();
  assert.equal(calls(after, 'generateContent') - calls(before, 'generateContent'), 1);
  for (const a of answers)
    assert.equal(a.text, answers[0].text);
  const stats = await (await fetch(`${gatewayUrl}/api/v1/stats`)).json();
  assert.ok(stats.total.coalesced >= 49, `coalesced ${stats.total.coalesced}`);
});

test('identical temperature-0 streams share one upstream stream, late joiners included', async () => {
  const before = await simStats();
  const ask = async () => {
    const stream = await ai.models.generateContentStream({
      model, contents: 'one stream for many agents', config: { temperature: 0 },
    });
    let text = '';
    let chunks = 0;
    for await (const chunk of stream) {
      text += chunk.text ?? '';
      ++chunks;
    }
    return { text, chunks };
  };
  const early = Array.from({ length: 5 }, ask);
  // Late joiners: once the shared stream has begun.
  await until('the shared stream to begin', async () => (await simStats()).inFlight > 0);
  await new Promise((r) => setTimeout(r, 1200));
  const late = Array.from({ length: 5 }, ask);
  const results = await Promise.all([...early, ...late]);
  const after = await simStats();
  assert.equal(calls(after, 'streamGenerateContent') - calls(before, 'streamGenerateContent'), 1);
  for (const r of results) {
    assert.equal(r.text, results[0].text);
    assert.equal(r.chunks, results[0].chunks);
  }
});

test('X-Sluice-Coalesce: off sends each request upstream', async () => {
  const before = await simStats();
  const send = () => fetch(`${gatewayUrl}/v1beta/models/${model}:generateContent`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-sluice-coalesce': 'off', 'cache-control': 'no-store' },
    body: JSON.stringify({ contents: [{ parts: [{ text: 'not shared' }] }], generationConfig: { temperature: 0 } }),
  }).then((r) => r.text());
  await Promise.all([send(), send(), send()]);
  const after = await simStats();
  assert.equal(calls(after, 'generateContent') - calls(before, 'generateContent'), 3);
});

test('a cached answer is byte-identical to the original, and Cache-Control is honoured', async () => {
  const body = JSON.stringify({ contents: [{ parts: [{ text: 'cache me if you can' }] }], generationConfig: { temperature: 1 } });
  const post = (headers = {}) => fetch(`${gatewayUrl}/v1beta/models/${model}:generateContent`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body,
  });
  await setSim({ tokensPerSecond: 400 }); // whole answers: no need to wait for a slow decoder here
  const before = await simStats();
  const first = await post();
  const firstBody = await first.text();
  assert.equal(first.status, 200);
  assert.equal(first.headers.get('x-sluice-cache'), 'miss');
  const second = await post();
  assert.equal(second.headers.get('x-sluice-cache'), 'hit');
  assert.equal(await second.text(), firstBody);
  const mid = await simStats();
  assert.equal(calls(mid, 'generateContent') - calls(before, 'generateContent'), 1);

  const noCache = await post({ 'cache-control': 'no-cache' });
  assert.equal(noCache.headers.get('x-sluice-cache'), 'bypass');
  await noCache.text();
  const last = await simStats();
  assert.equal(calls(last, 'generateContent') - calls(mid, 'generateContent'), 1);

  // Another API key is another scope: never served what this one was.
  const other = await post({ 'x-goog-api-key': 'another-agent' });
  assert.equal(other.headers.get('x-sluice-cache'), 'miss');
  await other.text();

  // The SDK reads a cached answer like any other.
  const a = await ai.models.generateContent({ model, contents: 'sdk cache check', config: { temperature: 1 } });
  const b = await ai.models.generateContent({ model, contents: 'sdk cache check', config: { temperature: 1 } });
  assert.equal(b.text, a.text);
  assert.equal(b.sdkHttpResponse.headers['x-sluice-cache'], 'hit');
  const stats = await (await fetch(`${gatewayUrl}/api/v1/stats`)).json();
  assert.ok(stats.total.cache.hits >= 2);
  assert.equal(stats.answerCache.enabled, true);
  assert.ok(stats.answerCache.entries >= 2);
  await setSim({ tokensPerSecond: 20 });
});

test('/metrics: time to first token per route and model, coalesced requests, cache lookups', async () => {
  const text = await (await fetch(`${gatewayUrl}/metrics`)).text();
  const value = (re) => { const m = text.match(re); return m ? Number(m[1]) : NaN; };
  assert.ok(value(/^sluice_time_to_first_token_seconds_count\{route="streamGenerateContent",model="gemini-2\.5-flash"\} (\d+)$/m) >= 3, text);
  assert.ok(value(/^sluice_time_to_first_token_seconds_count\{route="generateContent",model="gemini-2\.5-flash"\} (\d+)$/m) >= 50);
  assert.ok(value(/^sluice_coalesced_total (\d+)$/m) >= 49 + 9);
  assert.ok(value(/^sluice_cache_requests_total\{result="hit"\} (\d+)$/m) >= 2);
  assert.ok(value(/^sluice_cache_entries (\d+)$/m) >= 2);
});
