#!/usr/bin/env node
// DEV AID ONLY — not part of any test and not shipped. A stand-in for
// `sluice --server` so the dashboard can be looked at before the gateway's
// stream exists: serves dist/, /api/v1/stream (a hand-rolled WebSocket that
// sends made-up hello/snapshot/config/loadtest/drift messages per PROTOCOL.md;
// its hello still carries the whole history, as gateways did before paging,
// which the dashboard accepts),
// /api/v1/stats, GET/PATCH /api/v1/config, and a fake generateContent.
//
//   npm run build && node dev/mock-server.mjs [--port N] [--quiet-traffic]
// Prints `listening on http://127.0.0.1:PORT` like the real server.
import { createHash } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const portArg = args.indexOf('--port');
const port = portArg >= 0 ? Number(args[portArg + 1]) : 8080;
const synthetic = !args.includes('--quiet-traffic');
const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const RATE_HZ = 4;
const BUCKETS = ['1', '2-3', '4-7', '8-15', '16-31', '32-63', '64-127', '128-255', '256-511', '512-1023', '1024+'];
const started = Date.now();

let config = {
  maxBatchSize: 16, maxWaitMs: 10, maxQueue: 2048, maxInflightBatches: 64, requestTimeoutMs: 120000,
  rpmLimit: 0, tpmLimit: 0, rpdLimit: 0, quotaProbeRpm: 60, maxPackSize: 64, targetP95Ms: 2000,
  retry: { maxAttempts: 4, initialBackoffMs: 250, maxBackoffMs: 8000 }, packing: 'auto', adaptive: false,
};

const realDone = []; // timestamps of finished fake generateContent calls
const lat = (p50) => ({ count: 100, meanMs: p50 * 1.1, p50Ms: p50, p95Ms: p50 * 2.2, p99Ms: p50 * 3.1, p999Ms: p50 * 4, maxMs: p50 * 5 });

function windowAt(t, seconds) {
  const phase = (t - started) / 1000;
  const wave = synthetic ? 60 + 45 * Math.sin(phase / 20) + 10 * Math.sin(phase / 3.1) : 0;
  const real = realDone.filter((x) => x > t - Math.max(seconds, 1) * 1000).length / Math.max(seconds, 1);
  const rps = Math.max(0, wave + real);
  const secs = seconds || phase;
  const p50 = rps > 0 ? 18 + rps / 8 + 3 * Math.sin(phase / 7) : 0;
  const batches = Math.round((rps * secs) / 5);
  const rej = synthetic && rps > 95 ? Math.round((rps - 95) * secs * 0.3) : 0;
  return {
    seconds, requests: Math.round(rps * secs), ok: Math.round(rps * secs), failed: 0, expired: 0, cancelled: 0,
    requestsPerSecond: rps, latency: lat(p50), queueWait: lat(p50 / 4), upstream: lat(p50 * 0.8),
    firstToken: { ...lat(p50 * 0.6), count: Math.round(rps * secs * 0.1) }, coalesced: Math.round(rps * secs * 0.04),
    cache: { hits: Math.round(rps * secs * 0.3), misses: Math.round(rps * secs * 0.5), bypassed: Math.round(rps * secs * 0.2), hitRatio: rps > 0 ? 0.375 : 0 },
    promptTokens: Math.round(rps * secs * 12), outputTokens: Math.round(rps * secs * 40),
    promptTokensPerSecond: rps * 12, outputTokensPerSecond: rps * 40, batches, meanBatchSize: batches ? 5.2 : 0,
    batchSizes: BUCKETS.map((size, i) => ({ size, batches: Math.round(batches * [0.1, 0.2, 0.35, 0.3, 0.05, 0, 0, 0, 0, 0, 0][i]) })),
    upstreamCalls: batches, upstreamErrors: synthetic ? Math.round(batches * 0.01) : 0,
    upstreamCallsByKind: batches ? { single: Math.round(batches * 0.2), pack: Math.round(batches * 0.7), repack: Math.round(batches * 0.07), retry: Math.round(batches * 0.03) } : {},
    upstream429: synthetic ? Math.round(batches * 0.005) : 0,
    packMembers: { answered: Math.round(rps * secs * 0.8), repacked: Math.round(rps * secs * 0.02), failed: 0 },
    answersPerUpstreamCall: batches ? (rps * secs) / batches : 0,
    rejected: rej, rejections: rej ? { queue_full: Math.ceil(rej * 0.8), deadline: Math.floor(rej * 0.2) } : {},
  };
}

// A learned RPM that a 429 blocks every 40 s for 5 s, a probed model, a configured TPM.
function quotaAt(t, rps) {
  const dimension = (limit, source, used, blockedForMs = 0) => ({ limit, source, used, usedRatio: limit > 0 ? used / limit : 0, blockedForMs });
  const phase = ((t - started) / 1000) % 40;
  const calls = Math.round((rps * 60) / 5);
  return [
    {
      model: 'gemini-2.0-flash',
      rpm: dimension(config.rpmLimit || 1000, config.rpmLimit ? 'config' : 'learned', Math.min(calls, 1000), phase < 5 ? (5 - phase) * 1000 : 0),
      tpm: dimension(config.tpmLimit || 1_000_000, 'config', Math.round(rps * 60 * 12)),
      rpd: dimension(config.rpdLimit, config.rpdLimit ? 'config' : 'none', calls * 30),
    },
    { model: 'gemini-2.5-pro', rpm: dimension(120, 'probe', 42), tpm: dimension(0, 'none', 5400), rpd: dimension(0, 'none', 310) },
  ];
}

function snapshotAt(t) {
  const w10 = windowAt(t, 10);
  const depth = Math.round(w10.requestsPerSecond / 4);
  return {
    timestampMs: t, uptimeSeconds: (t - started) / 1000, queueDepth: depth, queueCapacity: config.maxQueue,
    inflightBatches: Math.min(config.maxInflightBatches, Math.round(depth / 3)), maxInflightBatches: config.maxInflightBatches,
    backpressure: Math.min(1, depth / config.maxQueue), draining: false,
    answerCache: { enabled: true, usedBytes: Math.min(64 << 20, Math.max(0, t - started) * 400), maxBytes: 64 << 20, entries: Math.round(Math.max(0, t - started) / 250) },
    last1s: windowAt(t, 1), last10s: w10, last60s: windowAt(t, 60), total: windowAt(t, 0),
    quota: quotaAt(t, w10.requestsPerSecond),
    ...schedulingAt(t, w10),
  };
}

// Priority classes, tiers and cost, tenants and Batch Mode (issue 15), made up from the 10 s window.
function schedulingAt(t, w10) {
  const secs = Math.max(1, (t - started) / 1000);
  const done = w10.requestsPerSecond * secs;
  const lat = (p50, count) => ({ count, meanMs: p50 * 1.1, p50Ms: p50, p95Ms: p50 * 2.5, p99Ms: p50 * 4, p999Ms: p50 * 5, maxMs: p50 * 6 });
  const cls = (name, share, p50, wait) => ({
    name, queued: Math.round((w10.requestsPerSecond / 4) * share), completed: Math.round(done * share), failed: Math.round(done * share * 0.002),
    rejected: Math.round(w10.rejected * share), latency: lat(p50, Math.round(w10.requests * share)), queueWait: lat(wait, Math.round(w10.requests * share)),
  });
  const tier = (name, share, price, shed = 0) => {
    const requests = Math.round(done * share);
    return { name, requests, shed, promptTokens: requests * 12, outputTokens: requests * 40, costUsd: requests * price };
  };
  const tiers = [tier('standard', 0.6, 0.0004), tier('flex', 0.25, 0.0002, Math.round(done * 0.003)), tier('priority', 0.05, 0.0007), tier('batch', 0.1, 0.0002)];
  const usd = tiers.reduce((a, x) => a + x.costUsd, 0);
  const standardUsd = tiers.reduce((a, x) => a + x.requests * 0.0004, 0);
  return {
    classes: [cls('interactive', 0.2, 25, 1), cls('standard', 0.6, 60, 8), cls('background', 0.2, 400, 250)],
    tiers,
    cost: { usd, standardUsd, savingUsd: standardUsd - usd, savingRatio: standardUsd > 0 ? (standardUsd - usd) / standardUsd : 0 },
    tenants: ['key-1a2b3c4d5e6f7a8b', 'team-search', 'key-9f8e7d6c5b4a3928', 'nightly.jobs'].map((id, i) => ({
      id, weight: [2, 1, 1, 0.25][i], queued: Math.round(w10.requestsPerSecond / (8 * (i + 1))), inflight: Math.round(w10.requestsPerSecond / (16 * (i + 1))),
      completed: Math.round(done / (2 ** (i + 1))), rejected: i === 0 ? Math.round(w10.rejected / 2) : 0,
    })),
    batchMode: { enabled: true, gathering: Math.round(secs % 30), jobsRunning: 1, waiting: 30, jobsSubmitted: Math.floor(secs / 30), requestsSubmitted: Math.floor(secs / 30) * 120 },
  };
}

let latest = snapshotAt(Date.now());
const history = [];
for (let t = Date.now() - 300_000; t < Date.now(); t += 1000 / RATE_HZ) history.push(snapshotAt(t));

// Load test: a made-up stepped run that finishes with an inflection point.
const curve = [];
let ltStep = 0;
const LT_STEPS = 8;
function loadtestMsg() {
  const done = ltStep >= LT_STEPS;
  return {
    type: 'loadtest', state: done ? 'finished' : 'running', step: ltStep, steps: LT_STEPS, users: ltStep * 25, curve,
    inflection: ltStep >= 6 ? { users: 125, queueDepth: 34, throughputRps: 410, p95Ms: 180, method: 'knee' } : null,
  };
}

// --- WebSocket, server side only (text frames out; client frames ignored) ---
const clients = new Set();
function frame(text) {
  const body = Buffer.from(text);
  const n = body.length;
  const head = n < 126 ? Buffer.from([0x81, n]) : n < 65536 ? Buffer.from([0x81, 126, n >> 8, n & 255]) : Buffer.alloc(10);
  if (n >= 65536) {
    head[0] = 0x81;
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(n), 2);
  }
  return Buffer.concat([head, body]);
}
function send(sock, obj) {
  if (!sock.destroyed) sock.write(frame(JSON.stringify(obj)));
}
function broadcast(obj) {
  for (const c of clients) send(c, obj);
}

const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.png': 'image/png' };

const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const json = (code, obj) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(obj));
  };
  if (url.pathname === '/api/v1/stats') return json(200, latest);
  if (url.pathname === '/api/v1/config' && req.method === 'GET') return json(200, config);
  if (url.pathname === '/api/v1/config' && req.method === 'PATCH') {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      try {
        config = { ...config, ...JSON.parse(body) };
        broadcast({ type: 'config', config });
        json(200, config);
      } catch {
        json(400, { error: { code: 400, message: 'bad JSON', status: 'INVALID_ARGUMENT' } });
      }
    });
    return;
  }
  if (req.method === 'POST' && url.pathname.startsWith('/v1beta/models/')) {
    req.resume();
    req.on('end', () =>
      setTimeout(() => {
        realDone.push(Date.now());
        json(200, { candidates: [{ content: { role: 'model', parts: [{ text: 'ok' }] }, finishReason: 'STOP' }] });
      }, 5 + Math.random() * 20),
    );
    return;
  }
  const rel = url.pathname === '/' ? 'index.html' : normalize(url.pathname).replace(/^[/\\]+/, '');
  const file = join(dist, rel);
  if (!file.startsWith(dist) || !existsSync(file)) {
    res.writeHead(404);
    return res.end('not found');
  }
  res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
  res.end(readFileSync(file));
});

server.on('upgrade', (req, sock) => {
  if (new URL(req.url, 'http://x').pathname !== '/api/v1/stream') return sock.destroy();
  const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  clients.add(sock);
  sock.on('data', () => {});
  sock.on('close', () => clients.delete(sock));
  sock.on('error', () => clients.delete(sock));
  send(sock, { type: 'hello', version: '0.1.0-mock', config, history, upstream: { kind: 'simulator', model: 'gemini-2.0-flash' }, rateHz: RATE_HZ });
  send(sock, loadtestMsg());
  send(sock, { type: 'drift', state: 'warn', score: 0.27, baseline: { createdAt: new Date(started - 86_400_000).toISOString(), schema: 'sluice.performance-baseline/v1' } });
});

setInterval(() => {
  latest = snapshotAt(Date.now());
  history.push(latest);
  if (history.length > 300 * RATE_HZ) history.shift();
  while (realDone.length && realDone[0] < Date.now() - 120_000) realDone.shift();
  broadcast({ type: 'snapshot', snapshot: latest });
}, 1000 / RATE_HZ);

setInterval(() => {
  if (ltStep >= LT_STEPS) return;
  ltStep++;
  const u = ltStep * 25;
  const ach = Math.min(u * 3.4, 410 + (u - 125) * 0.3);
  curve.push({ users: u, offeredRps: u * 3.4, achievedRps: ach, p50Ms: 20 + Math.max(0, u - 125) * 1.5, p95Ms: 60 + Math.max(0, u - 110) ** 1.6, p99Ms: 90 + Math.max(0, u - 110) ** 1.7, queueDepthMean: u / 5, queueDepthMax: u / 2, errorRate: u > 150 ? 0.02 : 0 });
  broadcast(loadtestMsg());
}, 700);

server.listen(port, '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
