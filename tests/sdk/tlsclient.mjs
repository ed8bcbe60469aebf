// Run by tls.test.mjs in a child process whose NODE_EXTRA_CA_CERTS names the
// throwaway CA (Node reads it at start only): the official SDK against
// SLUICE_HTTPS_URL, printing what it got as one JSON line.
import { GoogleGenAI } from '@google/genai';

const ai = new GoogleGenAI({ apiKey: 'any-key', httpOptions: { baseUrl: process.env.SLUICE_HTTPS_URL } });
const generated = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'hello over TLS' });
const chunks = [];
for await (const chunk of await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'stream over TLS' }))
  chunks.push(chunk.text ?? '');
const counted = await ai.models.countTokens({ model: 'gemini-2.5-flash', contents: 'count over TLS' });
process.stdout.write(JSON.stringify({
  text: generated.text,
  finishReason: generated.candidates[0].finishReason,
  queueHeader: 'x-queue-depth' in generated.sdkHttpResponse.headers,
  streamed: chunks.join(''),
  totalTokens: counted.totalTokens,
}) + '\n');
