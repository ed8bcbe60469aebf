// The official Gemini JS SDK (@google/genai, exact version in package.json)
// pointed at `sluice --server` (its embedded GeminiSimulator is the upstream):
// what the SDK parses through the gateway must equal what the simulator sends
// for the same request fetched raw.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { GoogleGenAI, ApiError } from '@google/genai';
import { startGateway, stopSluice } from './sluiceprocess.mjs';

const sluice = process.env.SLUICE_BIN;
let child;
let gatewayUrl;
let simulatorUrl;
let ai;

before(async () => {
  assert.ok(sluice, 'SLUICE_BIN must point at the sluice executable');
  ({ child, gatewayUrl, simulatorUrl } = await startGateway(sluice));
  ai = new GoogleGenAI({ apiKey: 'any-key', httpOptions: { baseUrl: gatewayUrl } });
});

after(() => stopSluice(child));

async function rawSim(path, body) {
  const r = await fetch(`${simulatorUrl}/v1beta/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: r.status, text: await r.text() };
}

const userText = (text) => ({ contents: [{ role: 'user', parts: [{ text }] }] });

test('generateContent through the gateway', async () => {
  const prompt = 'why is the sky blue?';
  const response = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: prompt });
  const sent = JSON.parse((await rawSim('models/gemini-2.5-flash:generateContent', userText(prompt))).text);
  assert.ok(response.text.length > 0);
  assert.equal(response.text, sent.candidates[0].content.parts[0].text);
  assert.equal(response.candidates[0].finishReason, 'STOP');
  assert.equal(response.modelVersion, sent.modelVersion);
  assert.deepEqual(response.usageMetadata, sent.usageMetadata);
  const headers = response.sdkHttpResponse.headers;
  assert.ok('x-queue-depth' in headers && 'x-queue-capacity' in headers && 'x-backpressure' in headers);
});

test('generateContentStream through the gateway', async () => {
  const prompt = 'tell me about rivers';
  const chunks = [];
  for await (const chunk of await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: prompt })) {
    chunks.push(chunk);
  }
  assert.ok(chunks.length >= 1);
  assert.equal(chunks.at(-1).candidates[0].finishReason, 'STOP');
  assert.ok(chunks.at(-1).usageMetadata.totalTokenCount > 0);
  const sent = JSON.parse((await rawSim('models/gemini-2.5-flash:generateContent', userText(prompt))).text);
  assert.equal(chunks.map((c) => c.text).join(''), sent.candidates[0].content.parts[0].text);
});

test('embedContent with several contents through the gateway', async () => {
  const texts = ['first text', 'second text', 'third text'];
  const response = await ai.models.embedContent({
    model: 'gemini-embedding-001',
    contents: texts,
    config: { outputDimensionality: 8 },
  });
  const sent = JSON.parse((await rawSim('models/gemini-embedding-001:batchEmbedContents', {
    requests: texts.map((t) => ({
      model: 'models/gemini-embedding-001',
      content: { parts: [{ text: t }] },
      outputDimensionality: 8,
    })),
  })).text);
  assert.equal(response.embeddings.length, 3);
  response.embeddings.forEach((e, i) => assert.deepEqual(e.values, sent.embeddings[i].values));
});

test('countTokens through the gateway', async () => {
  const prompt = 'The quick brown fox jumps over the lazy dog.';
  const response = await ai.models.countTokens({ model: 'gemini-2.5-flash', contents: prompt });
  assert.equal(response.totalTokens, 11);
});

test('a gateway 400 is the SDK ApiError with status 400 and INVALID_ARGUMENT', async () => {
  const r = await fetch(`${gatewayUrl}/v1beta/models/gemini-2.5-flash:generateContent`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"contents":[{"parts":"x"}]}',
  });
  assert.equal(r.status, 400);
  const body = await r.json();
  assert.equal(body.error.status, 'INVALID_ARGUMENT');
  assert.match(body.error.message, /contents\[0\]\.parts must be a list/);
  await assert.rejects(
    ai.models.generateContent({ model: 'gemini-2.5-flash', contents: [{ role: 'user', parts: [{ text: 5 }] }] }),
    (err) => {
      assert.ok(err instanceof ApiError, `expected ApiError, got ${err}`);
      assert.equal(err.status, 400);
      assert.match(err.message, /INVALID_ARGUMENT/);
      return true;
    },
  );
});
