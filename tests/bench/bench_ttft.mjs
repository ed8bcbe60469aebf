#!/usr/bin/env node
// Time to first chunk of streamGenerateContent through Sluice against the
// same streams taken directly from its embedded GeminiSimulator (a slow
// decoder: 20 tokens/s), at N concurrent streams (default 200), in
// interleaved rounds (direct, via Sluice, direct, ...). Prints per round and
// overall: TTFT p50/p95/p99 of each path, their difference (Sluice's
// overhead), and the gaps between consecutive chunks on each path (they must
// be preserved, not bunched). Prints figures; not run by ctest.
// Two shapes (MODE=steady|burst, default steady):
// - steady: N clients each streaming back to back for SECONDS (default 12)
//   after a random start within the first stream's length: N streams open
//   at any time, starting at different moments, as a fleet of agents does;
// - burst: N streams started in the same millisecond (a worst case: every
//   request and every first event of the N lands at once).
// Usage: node tests/bench/bench_ttft.mjs [SLUICE_BIN] [STREAMS] [ROUNDS]
import { spawn } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';

const bin = process.argv[2] ?? 'build/release/app/sluice';
const streams = Number(process.argv[3] ?? 200);
const rounds = Number(process.argv[4] ?? 3);
const mode = process.env.MODE ?? 'steady';
const seconds = Number(process.env.SECONDS ?? 12);
const dir = mkdtempSync(join(tmpdir(), 'sluice-ttft-'));
const config = join(dir, 'sluice.json');
writeFileSync(config, JSON.stringify({
  simulator: { baseLatencyMs: 300, tokensPerSecond: 20, jitterSigma: 0, responseWords: 24, maxConcurrent: 100000 },
  engine: { maxInflightBatches: 4096, maxQueue: 100000 },
  server: { maxConnections: 100000 },
}));

function start() {
  const child = spawn(bin, ['--server', '--port', '0', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${bin} did not start within 10 s: ${err}`)), 10000);
    const check = () => {
      const g = out.match(/listening on (http:\/\/\S+)/);
      const s = err.match(/embedded GeminiSimulator at (http:\/\/\S+)/);
      if (g && s) {
        clearTimeout(timer);
        resolve({ child, gateway: g[1], simulator: s[1] });
      }
    };
    child.stdout.on('data', (d) => { out += d; check(); });
    child.stderr.on('data', (d) => { err += d; check(); });
    child.on('exit', (code) => reject(new Error(`${bin} exited with ${code}: ${err}`)));
  });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

// One stream: resolves { ttftMs, gapsMs[] } (first event time from the request's start).
function stream(base, i) {
  const url = new URL(`${base}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`);
  const body = JSON.stringify({ contents: [{ parts: [{ text: `stream number ${i}: tell me about rivers` }] }] });
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`HTTP ${res.statusCode} from ${base}`));
        res.resume();
        return;
      }
      let pending = '';
      const events = [];
      res.setEncoding('utf8');
      res.on('data', (d) => {
        const now = process.hrtime.bigint();
        pending += d;
        let k;
        while ((k = pending.indexOf('\r\n\r\n')) >= 0) {
          events.push(Number(now - t0) / 1e6);
          pending = pending.slice(k + 4);
        }
      });
      res.on('end', () => {
        if (events.length === 0)
          return reject(new Error(`no events from ${base}`));
        resolve({ ttftMs: events[0], gapsMs: events.slice(1).map((t, k) => t - events[k]) });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const q = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
const f = (x) => x.toFixed(2).padStart(8);

let serial = 0;
async function client(base, until, out) {
  await new Promise((r) => setTimeout(r, Math.random() * 1500)); // desynchronised starts
  while (Date.now() < until)
    out.push(await stream(base, ++serial));
}

async function run(base, label, results) {
  let all;
  if (mode === 'burst') {
    all = await Promise.all(Array.from({ length: streams }, (_, i) => stream(base, ++serial + i)));
  } else {
    all = [];
    const until = Date.now() + seconds * 1000;
    await Promise.all(Array.from({ length: streams }, () => client(base, until, all)));
  }
  const ttft = all.map((r) => r.ttftMs);
  const gaps = all.flatMap((r) => r.gapsMs);
  results[label].ttft.push(...ttft);
  results[label].gaps.push(...gaps);
  console.log(`  ${label.padEnd(7)} ${String(all.length).padStart(5)} streams  ttft ms p50 ${f(q(ttft, 0.5))} p95 ${f(q(ttft, 0.95))} p99 ${f(q(ttft, 0.99))}   `
    + `gap ms p50 ${f(q(gaps, 0.5))} p99 ${f(q(gaps, 0.99))} min ${f(Math.min(...gaps))}`);
}

const { child, gateway, simulator } = await start();
try {
  console.log(`${mode}: ${streams} concurrent streams per run${mode === 'steady' ? ` for ${seconds} s` : ''}, `
    + `${rounds} rounds; simulator 20 tokens/s, 300 ms base latency`);
  const results = { direct: { ttft: [], gaps: [] }, sluice: { ttft: [], gaps: [] } };
  await run(simulator, 'direct', { direct: { ttft: [], gaps: [] } }); // warm-up, not counted
  await run(gateway, 'sluice', { sluice: { ttft: [], gaps: [] } });
  for (let r = 1; r <= rounds; ++r) {
    console.log(`round ${r}`);
    await run(simulator, 'direct', results);
    await run(gateway, 'sluice', results);
  }
  const d = results.direct;
  const s = results.sluice;
  console.log('overall (all rounds)');
  for (const p of [0.5, 0.95, 0.99]) {
    console.log(`  ttft p${String(p * 100).padEnd(2)}: direct ${f(q(d.ttft, p))} ms, via Sluice ${f(q(s.ttft, p))} ms, `
      + `Sluice adds ${f(q(s.ttft, p) - q(d.ttft, p))} ms`);
  }
  for (const p of [0.5, 0.99]) {
    console.log(`  chunk gap p${String(p * 100).padEnd(2)}: direct ${f(q(d.gaps, p))} ms, via Sluice ${f(q(s.gaps, p))} ms`);
  }
} finally {
  child.kill('SIGTERM');
  agent.destroy();
  rmSync(dir, { recursive: true, force: true });
}
