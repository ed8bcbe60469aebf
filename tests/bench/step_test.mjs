// An independent step test of a running gateway: N closed-loop "agents"
// (each sends its next request as soon as the previous one is answered, no
// think time) over plain HTTP/1.1 keep-alive, stepping N, measuring each
// step's throughput and latency. It shares nothing with the project's Locust
// load test (loadtest/locustfile.py) but the traffic's shape, so its knee
// checks the one `sluice --capture-baseline` finds.
//
//   node tests/bench/step_test.mjs --url http://127.0.0.1:8080
//        [--steps 4,8,16,24,32,40,48,64,96] [--warmup 4] [--seconds 12]
//        [--mix 6,2,1,1] [--model gemini-2.0-flash]
//
// The mix is the locustfile's default: weights of short generateContent (12
// words), long generateContent (400 words), streamGenerateContent (SSE, read
// to the end) and embedContent; maxOutputTokens 128. A 200 is a success;
// anything else (429/503 backpressure included) a failure.
//
// Per step: warm up (not measured), then count the answers completed in the
// window, with their latencies; print users, req/s (successes), offered
// req/s (all answers), p50/p95/p99, errors and this process's own CPU (a
// Node process near one core measures itself, not the gateway). Then the
// knee by KneeSearch's rule (core/loadtest/kneesearch.h): p95 limit 1.5 x
// the first step's p95, errors <= 1 %; the knee is the fewest users within
// those limits reaching 95 % of the best throughput; if none does, the
// highest throughput within them.
//
// A benchmark: run on demand, never by ctest; loads 127.0.0.1 only and stops
// by itself after the last step.

import http from 'node:http';
import process from 'node:process';

function options(argv) {
  const o = {
    url: '',
    steps: [4, 8, 16, 24, 32, 40, 48, 64, 96],
    warmup: 4,
    seconds: 12,
    mix: [6, 2, 1, 1],
    model: 'gemini-2.0-flash',
  };
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (v === undefined) throw new Error(`${k}: needs a value`);
    if (k === '--url') o.url = v;
    else if (k === '--steps') o.steps = v.split(',').map(Number);
    else if (k === '--warmup') o.warmup = Number(v);
    else if (k === '--seconds') o.seconds = Number(v);
    else if (k === '--mix') o.mix = v.split(',').map(Number);
    else if (k === '--model') o.model = v;
    else throw new Error(`unknown option ${k}`);
  }
  if (!o.url) throw new Error('--url http://127.0.0.1:PORT is required (a running `sluice --server`)');
  const u = new URL(o.url);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)) throw new Error('--url: loopback only');
  if (o.steps.some((n) => !(Number.isInteger(n) && n > 0))) throw new Error('--steps: positive integers, e.g. 4,8,16');
  if (o.mix.length !== 4 || o.mix.some((w) => !(w >= 0)) || o.mix.every((w) => w === 0))
    throw new Error('--mix: four non-negative weights (short, long, stream, embed)');
  if (!(o.warmup >= 0 && o.seconds >= 1)) throw new Error('--warmup >= 0 and --seconds >= 1');
  return o;
}

const VOCABULARY = ('agent batch queue latency gemini token stream river gate water flow measure ' +
  'throughput window deadline retry quota model answer question summary plan').split(' ');

function prompt(words) {
  const w = [];
  for (let i = 0; i < words; i++) w.push(VOCABULARY[Math.floor(Math.random() * VOCABULARY.length)]);
  return w.join(' ');
}

function generateBody(words) {
  return JSON.stringify({
    contents: [{ role: 'user', parts: [{ text: prompt(words) }] }],
    generationConfig: { maxOutputTokens: 128 },
  });
}

function pick(mix) {
  const total = mix.reduce((a, b) => a + b, 0);
  let r = Math.random() * total;
  for (let i = 0; i < mix.length; i++) {
    r -= mix[i];
    if (r < 0) return i;
  }
  return mix.length - 1;
}

function requestFor(kind, model) {
  switch (kind) {
    case 0: return { path: `/v1beta/models/${model}:generateContent`, body: generateBody(12) };
    case 1: return { path: `/v1beta/models/${model}:generateContent`, body: generateBody(400) };
    case 2: return { path: `/v1beta/models/${model}:streamGenerateContent?alt=sse`, body: generateBody(12) };
    default: return {
      path: '/v1beta/models/gemini-embedding-001:embedContent',
      body: JSON.stringify({ content: { parts: [{ text: prompt(12) }] } }),
    };
  }
}

const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

// One request; resolves with {ok, ms, end} once the whole answer is read.
function send(base, kind, model) {
  const { path, body } = requestFor(kind, model);
  const start = performance.now();
  return new Promise((resolve) => {
    const req = http.request({
      host: base.hostname, port: base.port, path, method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      res.on('data', () => {});
      res.on('end', () => {
        const end = performance.now();
        resolve({ ok: res.statusCode === 200, ms: end - start, end });
      });
      res.on('error', () => resolve({ ok: false, ms: performance.now() - start, end: performance.now() }));
    });
    req.on('error', () => resolve({ ok: false, ms: performance.now() - start, end: performance.now() }));
    req.end(body);
  });
}

function quantile(sorted, q) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const o = options(process.argv.slice(2));
  const base = new URL(o.url);
  const answers = []; // {ok, ms, end}
  const running = []; // running[i]: agent i keeps going
  let agents = 0;

  async function loop(i) {
    while (running[i]) answers.push(await send(base, pick(o.mix), o.model));
  }
  function setAgents(n) {
    for (let i = 0; i < Math.max(n, agents); i++) {
      const want = i < n;
      if (want && !running[i]) {
        running[i] = true;
        loop(i);
      } else if (!want) {
        running[i] = false;
      }
    }
    agents = n;
  }

  console.log(`step test against ${o.url}: steps ${o.steps.join(',')}, warm-up ${o.warmup} s, ` +
    `measured ${o.seconds} s, mix short/long/stream/embed ${o.mix.join('/')}`);
  console.log('users  req/s  offered   p50 ms   p95 ms   p99 ms  errors  node CPU');
  const rows = [];
  for (const users of o.steps) {
    setAgents(users);
    await sleep(o.warmup * 1000);
    const from = performance.now();
    const cpu0 = process.cpuUsage();
    await sleep(o.seconds * 1000);
    const to = performance.now();
    const cpu = process.cpuUsage(cpu0);
    const window = answers.filter((a) => a.end >= from && a.end < to);
    answers.splice(0, answers.length, ...answers.filter((a) => a.end >= to));
    const seconds = (to - from) / 1000;
    const ok = window.filter((a) => a.ok);
    const ms = window.map((a) => a.ms).sort((a, b) => a - b);
    const row = {
      users,
      rps: ok.length / seconds,
      offered: window.length / seconds,
      p50: quantile(ms, 0.5), p95: quantile(ms, 0.95), p99: quantile(ms, 0.99),
      errorRate: window.length ? (window.length - ok.length) / window.length : 0,
      cpu: (cpu.user + cpu.system) / 1e6 / seconds,
    };
    rows.push(row);
    console.log(`${String(users).padStart(5)} ${row.rps.toFixed(1).padStart(6)} ${row.offered.toFixed(1).padStart(8)} ` +
      `${row.p50.toFixed(0).padStart(8)} ${row.p95.toFixed(0).padStart(8)} ${row.p99.toFixed(0).padStart(8)} ` +
      `${(100 * row.errorRate).toFixed(1).padStart(6)} % ${row.cpu.toFixed(2).padStart(5)} cores`);
  }
  setAgents(0);

  const limit = 1.5 * rows[0].p95;
  const within = rows.filter((r) => r.p95 <= limit && r.errorRate <= 0.01);
  const best = Math.max(...rows.map((r) => r.rps));
  let knee = within.find((r) => r.rps >= 0.95 * best);
  let rule = `the fewest users reaching 95 % of the best throughput (${best.toFixed(1)} req/s)`;
  if (!knee && within.length) {
    knee = within.reduce((a, b) => (b.rps > a.rps ? b : a));
    rule = 'the highest throughput within the limits (they came before throughput stopped growing)';
  }
  console.log(`p95 limit ${limit.toFixed(0)} ms (1.5 x the first step's), errors <= 1 %`);
  if (knee)
    console.log(`knee: ${knee.users} users, ${knee.rps.toFixed(1)} req/s, p95 ${knee.p95.toFixed(0)} ms (${rule})`);
  else
    console.log('knee: none within the limits');
  console.log(`best: ${best.toFixed(1)} req/s`);
  if (rows.some((r) => r.cpu >= 0.9))
    console.log('note: this Node process was near a full core in some steps: they measure it, not the gateway');
  agent.destroy();
}

main().catch((e) => {
  console.error(`step_test: ${e.message}`);
  process.exit(2);
});
