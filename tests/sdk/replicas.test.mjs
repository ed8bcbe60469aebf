// Three `sluice --server` replicas sharing one Gemini quota through Redis
// (--budget-store), against one standalone simulator with rpmLimit 120 — the
// upstream counts the truth (/sim/v1/stats) — and a fleet of 200 agents on
// the official @google/genai SDK spread over the replicas. Everything on
// loopback: redis-server is started by the test on a free port.
//
//  - shared: zero upstream 429s, and answers within 10 % of one replica
//    holding the same budget alone;
//  - Redis killed mid-run (SIGKILL) and restarted 12 s later on the same
//    port: no request lost, no 429 storm upstream, each replica says
//    "fallback" (1/3 of the budget each) in /health while Redis is away and
//    "shared" again once it is back.
import { test, after } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import assert from 'node:assert/strict';
import { startSluice, stopSluice, simulatorStats, until } from './sluiceprocess.mjs';
import { freePort, startRedis, runFleet, percentile } from './fleet.mjs';

const sluice = process.env.SLUICE_BIN;
const agents = 200;
const seconds = 25;
const running = [];

after(async () => {
  for (const stop of running.reverse())
    await stop();
});

async function startSimulator() {
  const s = await startSluice(sluice, ['--simulate-gemini', '--port', '0', '--sim-config', simConfig()], {
    what: 'sluice --simulate-gemini', stdout: [/listening on (http:\/\/\S+)/],
  });
  running.push(() => stopSluice(s.child));
  return s.stdout[0];
}

let simConfigFile;
function simConfig() {
  if (!simConfigFile) {
    simConfigFile = join(mkdtempSync(join(tmpdir(), 'sluice-replicas-')), 'simulator.json');
    // rpmLimit 120 (about 2 calls a second) is the fleet's bottleneck: a
    // call answers in 100 ms whatever its size, so what the replicas get
    // done is what their packing makes of the quota, not of their CPU.
    writeFileSync(simConfigFile, JSON.stringify({ rpmLimit: 120, baseLatencyMs: 100, tokensPerSecond: 0 }));
    running.push(async () => rmSync(dirname(simConfigFile), { recursive: true, force: true }));
  }
  return simConfigFile;
}

async function startReplicas(n, simulatorUrl, redisUrl) {
  const env = { ...process.env, GEMINI_API_KEY: 'replicas-test-key' };
  const urls = [];
  const children = [];
  for (let i = 0; i < n; ++i) {
    const args = ['--server', '--port', '0', '--upstream', simulatorUrl, '--rpm-limit', '120'];
    if (redisUrl)
      args.push('--budget-store', redisUrl);
    const g = await startSluice(sluice, args, { what: `sluice --server (replica ${i})`, env, stdout: [/listening on (http:\/\/\S+)/] });
    children.push(g.child);
    urls.push(g.stdout[0]);
  }
  const stop = async () => {
    for (const c of children)
      await stopSluice(c);
  };
  running.push(stop);
  return { urls, stop };
}

const health = async (url) => (await fetch(`${url}/health`)).json();
const metric = async (url, name) => {
  const line = (await (await fetch(`${url}/metrics`)).text()).split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
};

function report(what, r, sim) {
  const refused = Object.values(r.refused).reduce((a, b) => a + b, 0);
  console.log(`${what}: ${r.answered} answers (${r.perUrl.join(' + ')}), ${refused} refused ${JSON.stringify(r.refused)}, `
    + `${r.failed.length} failed; p50 ${percentile(r.latencies, 0.5).toFixed(0)} ms; upstream ${sim.completed} calls, `
    + `${sim.rateLimited} refused 429`);
  return refused;
}

test('three replicas share one rpmLimit through Redis: no upstream 429, as many answers as one replica', async () => {
  assert.ok(sluice, 'SLUICE_BIN must point at the sluice executable');
  // One replica holding the whole budget: the reference.
  const aloneSim = await startSimulator();
  const alone = await startReplicas(1, aloneSim);
  const one = await runFleet({ urls: alone.urls, agents, seconds });
  await alone.stop();
  const aloneStats = await simulatorStats(aloneSim);
  report('one replica', one, aloneStats);

  const redis = await startRedis(await freePort());
  running.push(redis.stop);
  const sim = await startSimulator();
  const three = await startReplicas(3, sim, redis.url);
  for (const u of three.urls)
    await until(`${u} shares the budget`, async () => (await health(u)).budgetStore?.state === 'shared');
  await until('every replica registered in Redis', async () => (await metric(three.urls[0], 'sluice_budget_store_replicas')) === 3, 5000);
  const r = await runFleet({ urls: three.urls, agents, seconds });
  const granted = await Promise.all(three.urls.map(async (u) => {
    const m = (await (await fetch(`${u}/metrics`)).text()).match(/sluice_budget_store_reservations_total\{result="granted"\} (\d+)/);
    return Number(m?.[1] ?? 0);
  }));
  await three.stop();
  const stats = await simulatorStats(sim);
  const refused = report('three replicas', r, stats);

  assert.equal(stats.rateLimited, 0, 'the shared budget kept the upstream from refusing any call');
  assert.deepEqual(r.failed, [], 'every request was answered or refused, none lost');
  assert.equal(refused, 0, 'no agent was refused');
  for (const [i, g] of granted.entries())
    assert.ok(g > 0, `replica ${i} reserved its calls in Redis (${g} reservations granted)`);
  for (const [i, n] of r.perUrl.entries())
    assert.ok(n > 0, `replica ${i} answered its agents`);
  const ratio = r.answered / one.answered;
  console.log(`answers three replicas / one: ${ratio.toFixed(3)}`);
  assert.ok(ratio > 0.9 && ratio < 1.1, `three replicas answered ${r.answered}, one alone ${one.answered}: within 10 %`);
});

test('Redis killed mid-run: each replica spends 1/3 on its own, nothing is lost, shared again when it returns', async () => {
  assert.ok(sluice, 'SLUICE_BIN must point at the sluice executable');
  const port = await freePort();
  let redis = await startRedis(port);
  const sim = await startSimulator();
  const three = await startReplicas(3, sim, redis.url);
  for (const u of three.urls)
    await until(`${u} shares the budget`, async () => (await health(u)).budgetStore?.state === 'shared');
  await until('every replica registered in Redis', async () => (await metric(three.urls[0], 'sluice_budget_store_replicas')) === 3, 5000);

  const fleet = runFleet({ urls: three.urls, agents, seconds: 40 });
  await new Promise((r) => setTimeout(r, 12000));
  await redis.stop();
  const away = await until('every replica on its own', async () => {
    const hs = await Promise.all(three.urls.map(health));
    return hs.every((h) => h.budgetStore?.state === 'fallback') && hs;
  }, 5000);
  for (const h of away) {
    assert.equal(h.status, 'degraded', '/health says degraded while the budget is not shared');
    assert.equal(h.budgetStore.shareOf, 3, 'each replica spends 1/3 of the budget (three replicas were seen)');
    assert.match(h.budgetStore.lastError, /\S/, 'and says why');
  }
  assert.equal(await metric(three.urls[0], 'sluice_budget_store_up'), 0);
  await new Promise((r) => setTimeout(r, 10000));
  redis = await startRedis(port);
  running.push(redis.stop);
  await until('every replica shares the budget again', async () => {
    const hs = await Promise.all(three.urls.map(health));
    return hs.every((h) => h.budgetStore?.state === 'shared');
  }, 5000);
  const r = await fleet;
  const fallbacks = await Promise.all(three.urls.map((u) => metric(u, 'sluice_budget_store_fallbacks_total')));
  await three.stop();
  const stats = await simulatorStats(sim);
  const refused = report('three replicas, Redis killed for 10 s', r, stats);

  assert.deepEqual(r.failed, [], 'no request lost');
  assert.ok(stats.rateLimited <= 2, `no 429 storm upstream (${stats.rateLimited} refused calls)`);
  assert.ok(refused <= r.answered * 0.02, `agents were hardly refused (${refused} of ${r.answered + refused})`);
  assert.deepEqual(fallbacks, [1, 1, 1], 'each replica fell back once');
  assert.ok(r.answered > 500, `the fleet kept being answered (${r.answered})`);
});
