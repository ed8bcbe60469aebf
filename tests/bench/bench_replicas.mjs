// Benchmark: what sharing the quota through Redis costs and gives.
//   node tests/bench/bench_replicas.mjs [SLUICE_BIN] [SECONDS] [AGENTS]
// Against one standalone simulator per case (it counts the upstream calls
// and 429s: /sim/v1/stats), with a fleet of closed-loop @google/genai
// agents (tests/sdk/fleet.mjs) spread over the replicas:
//  1. one replica, rpmLimit 120, no store        (the reference)
//  2. one replica, rpmLimit 120, --budget-store  (the reservation's cost)
//  3. three replicas, rpmLimit 120, one store    (the setting)
//  4. three replicas without a store, rpmLimit 120 each: what happens
//     without it (run past the simulator's first minute, whose window
//     starts empty, so the over-spending shows as 429s)
//  5. one replica, no limit, fast upstream, with and without the store:
//     the latency a lease adds when nothing binds.
// Prints one line per case. Needs redis-server (apt-get install redis-server).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const here = new URL('.', import.meta.url).pathname;
const sdk = join(here, '..', 'sdk');
const { startSluice, stopSluice, simulatorStats } = await import(join(sdk, 'sluiceprocess.mjs'));
const { freePort, startRedis, runFleet, percentile } = await import(join(sdk, 'fleet.mjs'));

const bin = process.argv[2] ?? 'build/release/app/sluice';
const defaultSeconds = Number(process.argv[3] ?? 30);
const agents = Number(process.argv[4] ?? 200);
const dir = mkdtempSync(join(tmpdir(), 'bench-replicas-'));

async function runCase(name, { replicas, store, rpm, sim, seconds = defaultSeconds }) {
  const simFile = join(dir, `${name.replace(/\W+/g, '_')}.json`);
  writeFileSync(simFile, JSON.stringify(sim));
  const s = await startSluice(bin, ['--simulate-gemini', '--port', '0', '--sim-config', simFile],
    { what: 'simulator', stdout: [/listening on (http:\/\/\S+)/] });
  const redis = store ? await startRedis(await freePort()) : null;
  const env = { ...process.env, GEMINI_API_KEY: 'bench-key', QT_LOGGING_RULES: 'sluice.*.info=false' };
  const children = [];
  const urls = [];
  try {
    for (let i = 0; i < replicas; ++i) {
      const args = ['--server', '--port', '0', '--upstream', s.stdout[0]];
      if (rpm)
        args.push('--rpm-limit', String(rpm));
      if (redis)
        args.push('--budget-store', redis.url);
      const g = await startSluice(bin, args, { what: `replica ${i}`, env, stdout: [/listening on (http:\/\/\S+)/] });
      children.push(g.child);
      urls.push(g.stdout[0]);
    }
    await new Promise((r) => setTimeout(r, 1500)); // replicas registered
    const r = await runFleet({ urls, agents, seconds });
    let reserve = '';
    if (redis) {
      const h = await (await fetch(`${urls[0]}/health`)).json();
      reserve = ` reservation mean ${h.budgetStore.reserveMeanMs.toFixed(3)} ms, max ${h.budgetStore.reserveMaxMs.toFixed(2)} ms;`;
    }
    const st = await simulatorStats(s.stdout[0]);
    const refused = Object.values(r.refused).reduce((a, b) => a + b, 0);
    console.log(`${name.padEnd(52)} ${String(r.answered).padStart(6)} answers (${(r.answered / seconds).toFixed(1)}/s), `
      + `p50 ${percentile(r.latencies, 0.5).toFixed(1)} ms, p95 ${percentile(r.latencies, 0.95).toFixed(1)} ms; `
      + `upstream ${st.completed} calls, ${st.rateLimited} refused 429;${reserve} agents refused ${refused}, failed ${r.failed.length}`);
  } finally {
    for (const c of children)
      await stopSluice(c);
    await stopSluice(s.child);
    if (redis)
      await redis.stop();
  }
}

const quotaBound = { rpmLimit: 120, baseLatencyMs: 100, tokensPerSecond: 0 };
const fast = { baseLatencyMs: 5, tokensPerSecond: 0, jitterSigma: 0 };
console.log(`bench_replicas: ${agents} agents, ${defaultSeconds} s per case, ${bin}`);
await runCase('1 replica, rpm 120, no store', { replicas: 1, rpm: 120, sim: quotaBound });
await runCase('1 replica, rpm 120, --budget-store', { replicas: 1, rpm: 120, store: true, sim: quotaBound });
await runCase('3 replicas, rpm 120, one --budget-store', { replicas: 3, rpm: 120, store: true, sim: quotaBound });
await runCase('3 replicas, rpm 120 each, no store (75 s)', { replicas: 3, rpm: 120, sim: quotaBound, seconds: Math.max(75, defaultSeconds) });
await runCase('1 replica, rpm 100000, fast upstream, no store', { replicas: 1, rpm: 100000, sim: fast });
await runCase('1 replica, rpm 100000, fast upstream, store', { replicas: 1, rpm: 100000, store: true, sim: fast });
rmSync(dir, { recursive: true, force: true });
