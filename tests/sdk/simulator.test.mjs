// The official Gemini JS SDK (@google/genai, exact version in package.json)
// pointed at `sluice --simulate-gemini`: what the SDK parses must equal what
// the simulator sent for the same request fetched raw.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { GoogleGenAI, ApiError } from '@google/genai';
import { startSluice, stopSluice } from './sluiceprocess.mjs';

const bin = process.env.SLUICE_BIN;
let child;
let baseUrl;
let ai;

before(async () => {
  assert.ok(bin, 'SLUICE_BIN must point at the sluice executable');
  const started = await startSluice(bin, ['--simulate-gemini', '--port', '0'], {
    what: 'sluice --simulate-gemini',
    stdout: [/listening on (http:\/\/\S+)/],
  });
  child = started.child;
  [baseUrl] = started.stdout;
  // Fast service times for the test; the shapes do not depend on them.
  await patchConfig({ timeScale: 0.01 });
  ai = new GoogleGenAI({ apiKey: 'any-key', httpOptions: { baseUrl } });
});

after(() => stopSluice(child));

async function patchConfig(patch) {
  const r = await fetch(`${baseUrl}/sim/v1/config`, { method: 'PATCH', body: JSON.stringify(patch) });
  assert.equal(r.status, 200, await r.text());
}

async function raw(path, body) {
  const r = await fetch(`${baseUrl}/v1beta/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: r.status, text: await r.text() };
}

const userText = (text) => ({ contents: [{ role: 'user', parts: [{ text }] }] });

function withoutResponseId(o) {
  const { responseId, sdkHttpResponse, ...rest } = o;
  return rest;
}

test('generateContent', async () => {
  const prompt = 'why is the sky blue?';
  const response = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: prompt });
  const sent = JSON.parse((await raw('models/gemini-2.5-flash:generateContent', userText(prompt))).text);
  assert.equal(response.text, sent.candidates[0].content.parts[0].text);
  assert.ok(response.text.length > 0);
  assert.deepEqual(response.usageMetadata, sent.usageMetadata);
  assert.equal(response.candidates[0].finishReason, 'STOP');
  assert.equal(response.modelVersion, 'gemini-2.5-flash');
  assert.deepEqual(JSON.parse(JSON.stringify(response.candidates)), sent.candidates);
  assert.ok(response.responseId);
});

test('generateContentStream', async () => {
  const prompt = 'tell me about rivers';
  const chunks = [];
  for await (const chunk of await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: prompt })) {
    chunks.push(chunk);
  }
  const { status, text } = await raw('models/gemini-2.5-flash:streamGenerateContent?alt=sse', userText(prompt));
  assert.equal(status, 200);
  const events = text.split('\r\n\r\n').filter((e) => e.length > 0).map((e) => {
    assert.ok(e.startsWith('data: '));
    return JSON.parse(e.slice(6));
  });
  assert.ok(events.length > 1);
  assert.equal(chunks.length, events.length);
  chunks.forEach((chunk, i) => {
    assert.equal(chunk.text, events[i].candidates[0].content.parts[0].text);
    assert.deepEqual(chunk.usageMetadata, events[i].usageMetadata);
    assert.equal(chunk.candidates[0].finishReason, events[i].candidates[0].finishReason);
  });
  assert.equal(chunks.at(-1).candidates[0].finishReason, 'STOP');
  const whole = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: prompt });
  assert.equal(chunks.map((c) => c.text).join(''), whole.text);
});

test('embedContent with several contents', async () => {
  const texts = ['first text', 'second text', 'third text'];
  const response = await ai.models.embedContent({
    model: 'gemini-embedding-001',
    contents: texts,
    config: { outputDimensionality: 8 },
  });
  const sent = JSON.parse((await raw('models/gemini-embedding-001:batchEmbedContents', {
    requests: texts.map((t) => ({
      model: 'models/gemini-embedding-001',
      content: { parts: [{ text: t }] },
      outputDimensionality: 8,
    })),
  })).text);
  assert.equal(response.embeddings.length, 3);
  response.embeddings.forEach((e, i) => {
    assert.equal(e.values.length, 8);
    assert.deepEqual(e.values, sent.embeddings[i].values);
  });
});

test('countTokens', async () => {
  const prompt = 'The quick brown fox jumps over the lazy dog.';
  const response = await ai.models.countTokens({ model: 'gemini-2.5-flash', contents: prompt });
  const sent = JSON.parse((await raw('models/gemini-2.5-flash:countTokens', userText(prompt))).text);
  assert.equal(response.totalTokens, sent.totalTokens);
  assert.equal(response.totalTokens, 11);
});

test('a simulator 429 is the SDK ApiError with status 429', async () => {
  await patchConfig({ rpmLimit: 1, timeScale: 1 });
  try {
    await ai.models.generateContent({ model: 'gemini-2.0-flash', contents: 'one' });
    await assert.rejects(
      ai.models.generateContent({ model: 'gemini-2.0-flash', contents: 'two' }),
      (err) => {
        assert.ok(err instanceof ApiError, `expected ApiError, got ${err}`);
        assert.equal(err.status, 429);
        assert.match(err.message, /RESOURCE_EXHAUSTED/);
        return true;
      },
    );
  } finally {
    await patchConfig({ rpmLimit: 0, timeScale: 0.01 });
  }
});

test('a daily-quota 429 reaches the SDK with QuotaFailure and RetryInfo', async () => {
  // A model's own limits; at timeScale 0.01 its day lasts 864 s.
  await patchConfig({ modelLimits: { 'gemini-2.0-flash': { rpdLimit: 1 } } });
  try {
    await ai.models.generateContent({ model: 'gemini-2.0-flash', contents: 'one' });
    await assert.rejects(
      ai.models.generateContent({ model: 'gemini-2.0-flash', contents: 'two' }),
      (err) => {
        assert.ok(err instanceof ApiError, `expected ApiError, got ${err}`);
        assert.equal(err.status, 429);
        const { error } = JSON.parse(err.message); // the SDK keeps the whole body
        const [help, quota, retry] = error.details;
        assert.equal(help['@type'], 'type.googleapis.com/google.rpc.Help');
        assert.equal(quota['@type'], 'type.googleapis.com/google.rpc.QuotaFailure');
        assert.deepEqual(quota.violations[0], {
          quotaMetric: 'generativelanguage.googleapis.com/generate_content_requests',
          quotaId: 'GenerateRequestsPerDayPerProjectPerModel',
          quotaDimensions: { location: 'global', model: 'gemini-2.0-flash' },
          quotaValue: '1',
        });
        assert.equal(retry['@type'], 'type.googleapis.com/google.rpc.RetryInfo');
        assert.match(retry.retryDelay, /^\d+(\.\d{3})?s$/);
        return true;
      },
    );
  } finally {
    await patchConfig({ modelLimits: {} });
  }
});

async function simStats() {
  const r = await fetch(`${baseUrl}/sim/v1/stats`);
  assert.equal(r.status, 200);
  return r.json();
}

test('config.serviceTier flex reaches the simulator as the flex tier', async () => {
  const before = (await simStats()).callsPerTier;
  const prompt = 'a cheap question';
  const response = await ai.models.generateContent({
    model: 'gemini-2.5-flash',
    contents: prompt,
    config: { serviceTier: 'flex' },
  });
  const sent = JSON.parse((await raw('models/gemini-2.5-flash:generateContent', userText(prompt))).text);
  assert.equal(response.text, sent.candidates[0].content.parts[0].text);
  const after = (await simStats()).callsPerTier;
  assert.equal(after.flex, before.flex + 1);
  assert.equal(after.priority, before.priority);
  assert.equal(after.standard, before.standard + 1); // the raw call
});

test('a flex request shed by the simulator is the SDK ApiError 503', async () => {
  await patchConfig({ flexShedRate: 1 });
  try {
    await assert.rejects(
      ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'shed me', config: { serviceTier: 'flex' } }),
      (err) => {
        assert.ok(err instanceof ApiError, `expected ApiError, got ${err}`);
        assert.equal(err.status, 503);
        assert.match(err.message, /standard tier/);
        return true;
      },
    );
  } finally {
    await patchConfig({ flexShedRate: 0 });
  }
});

test('batches.create with inline requests, then batches.get until it succeeds', async () => {
  const model = 'gemini-2.5-flash-lite';
  const prompts = ['capital of France?', 'capital of Japan?', 'capital of Brazil?'];
  const created = await ai.batches.create({
    model,
    src: prompts.map((text, i) => ({
      contents: [{ role: 'user', parts: [{ text }] }],
      metadata: { key: `q${i}` },
    })),
    config: { displayName: 'sdk-capitals' },
  });
  assert.match(created.name, /^batches\/[a-z0-9]+$/);
  assert.equal(created.state, 'JOB_STATE_PENDING');
  assert.equal(created.displayName, 'sdk-capitals');
  assert.equal(created.model, `models/${model}`);
  assert.match(created.createTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);

  // 2 s pending + 5 s running at timeScale 0.01: well under a second.
  let job = created;
  const deadline = Date.now() + 20000;
  while (job.state !== 'JOB_STATE_SUCCEEDED' && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    job = await ai.batches.get({ name: created.name });
    assert.ok(['JOB_STATE_PENDING', 'JOB_STATE_RUNNING', 'JOB_STATE_SUCCEEDED'].includes(job.state), job.state);
  }
  assert.equal(job.state, 'JOB_STATE_SUCCEEDED');
  assert.ok(job.endTime);
  const answers = job.dest.inlinedResponses;
  assert.equal(answers.length, 3);
  for (const [i, text] of prompts.entries()) {
    const sent = JSON.parse((await raw(`models/${model}:generateContent`, userText(text))).text);
    const answer = answers[i].response;
    assert.equal(answer.candidates[0].content.parts[0].text, sent.candidates[0].content.parts[0].text);
    assert.deepEqual(answer.usageMetadata, sent.usageMetadata);
    assert.deepEqual(answers[i].metadata, { key: `q${i}` });
  }

  const stats = await simStats();
  assert.ok(stats.batchJobs.created >= 1);
  assert.ok(stats.batchJobs.succeeded >= 1);
  assert.ok(stats.batchRequests >= 3);
});
