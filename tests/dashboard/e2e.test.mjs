// Browser end-to-end test of the dashboard against a real `sluice --server`.
//
//   SLUICE_BIN=/path/to/sluice node --test tests/dashboard/e2e.test.mjs
//   (or: cd resources/dashboard && SLUICE_BIN=... npm run test:e2e)
//
// Needs: Debian's chromium at /usr/bin/chromium (apt-get install chromium),
// `npm ci` done in resources/dashboard (for playwright-core), and a sluice
// binary whose embedded dashboard is the current build. Skips when SLUICE_BIN
// is unset. Optional: SLUICE_ADMIN_TOKEN (the servers started inherit it;
// sent as Bearer on PATCH, and given to the page as #token=…), CHROMIUM
// (another chromium path).
//
// Four tests: the dashboard against `sluice --server` with its embedded
// simulator (live figures, the quota panel, the memory budget, the priority
// classes, tiers & cost and tenants panels, config changes, a restart), the
// quota panel against a gateway in front of a standalone simulator with a 20
// requests/minute quota (probed, learned and blocked RPM, its 429s among the
// failed attempts), a gateway with an admin token (the page asks for it, then
// its charts fill from the paged history), and the page served by the
// gateway with its stream routed to the test (Playwright's routeWebSocket),
// which feeds it snapshots with busy priority classes, tiers, tenants and
// Batch Mode, then one from an older gateway without them.
//
// What it needs from the server is listed in resources/dashboard/PROTOCOL.md
// ("What the browser test relies on").
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const SLUICE_BIN = process.env.SLUICE_BIN;
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ADMIN = process.env.SLUICE_ADMIN_TOKEN;
const SCREENSHOT = join(repo, 'tests', 'artifacts', 'dashboard.png');
const QUOTA_SCREENSHOT = join(repo, 'tests', 'artifacts', 'dashboard-quota.png');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts `sluice --server` (or, with `mode`, another mode such as
 * `--simulate-gemini`); resolves with { proc, base } once it prints its URL.
 */
function startServer(port, extraArgs = [], mode = '--server') {
  return new Promise((resolve, reject) => {
    const proc = spawn(SLUICE_BIN, [mode, '--port', String(port), ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`no "listening on" line within 20 s\nstdout: ${out}\nstderr: ${err}`));
    }, 20_000);
    proc.stdout.setEncoding('utf8');
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (d) => (err += d));
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/[^\s]+)/);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, base: m[1].replace(/\/$/, '') });
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sluice exited with ${code} before listening\nstdout: ${out}\nstderr: ${err}`));
    });
  });
}

/** Kills by PID and waits for the exit (SIGTERM, then SIGKILL after 10 s). */
async function stopServer(proc) {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  process.kill(proc.pid, 'SIGTERM');
  const t = setTimeout(() => proc.exitCode === null && process.kill(proc.pid, 'SIGKILL'), 10_000);
  await exited;
  clearTimeout(t);
}

/**
 * Bounded load: `workers` concurrent loops of generateContent POSTs, at most
 * `total` requests and `seconds` seconds in all, to loopback only.
 */
function startLoad(base, { workers = 6, total = 4000, seconds = 25, headers = {} } = {}) {
  let sent = 0;
  let ok = 0;
  let stop = false;
  const deadline = Date.now() + seconds * 1000;
  const loop = async () => {
    while (!stop && sent < total && Date.now() < deadline) {
      const n = sent++;
      try {
        const r = await fetch(`${base}/v1beta/models/gemini-2.0-flash:generateContent`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ contents: [{ parts: [{ text: `hi ${n}` }] }] }),
        });
        await r.arrayBuffer();
        if (r.ok) ok++;
        else if (r.status === 429 || r.status === 503) await sleep(50);
      } catch {
        await sleep(100); // server restarting
      }
    }
  };
  const done = Promise.all(Array.from({ length: workers }, loop));
  return {
    get sent() {
      return sent;
    },
    get ok() {
      return ok;
    },
    async stop() {
      stop = true;
      await done;
    },
  };
}

async function getJson(url) {
  const r = await fetch(url);
  assert.equal(r.status, 200, `GET ${url}`);
  return r.json();
}

/** Reads data-value of every [data-testid] the test compares. */
async function readPage(page) {
  return page.evaluate(() => {
    const v = (id) => {
      const el = document.querySelector(`[data-testid="${id}"]`);
      const s = el?.getAttribute('data-value');
      return s === null || s === undefined || s === '' ? null : Number(s);
    };
    return {
      ts: v('snapshot-time'),
      p50: v('stat-p50-ms'),
      p95: v('stat-p95-ms'),
      p99: v('stat-p99-ms'),
      rps: v('stat-rps'),
      queueDepth: v('stat-queue-depth'),
      promptTps: v('stat-prompt-tps'),
      outputTps: v('stat-output-tps'),
      upstreamCalls: v('stat-upstream-calls'),
    };
  });
}

/** Reads the quota panel: its figures (last60s) and the gauges of one model. */
async function readQuota(page, model) {
  return page.evaluate((model) => {
    const v = (id) => {
      const s = document.querySelector(`[data-testid="${id}"]`)?.getAttribute('data-value');
      return s === null || s === undefined || s === '' ? null : Number(s);
    };
    const byKind = {};
    for (const el of document.querySelectorAll('[data-testid^="quota-calls-by-kind-"]')) {
      byKind[el.getAttribute('data-testid').slice('quota-calls-by-kind-'.length)] = Number(el.getAttribute('data-value'));
    }
    const row = [...document.querySelectorAll('[data-testid=quota-model]')].find((r) => r.getAttribute('data-model') === model);
    const gauge = (dim) => {
      const td = row?.querySelector(`[data-testid=quota-${dim}]`);
      if (!td) return null;
      return {
        kind: td.getAttribute('data-kind'),
        limit: Number(td.getAttribute('data-limit')),
        used: Number(td.getAttribute('data-used')),
        source: td.getAttribute('data-source'),
        blockedMs: Number(td.getAttribute('data-blocked-ms')),
        limitText: td.querySelector(`[data-testid=quota-${dim}-limit]`)?.textContent ?? null,
        sourceText: td.querySelector(`[data-testid=quota-${dim}-source]`)?.textContent ?? null,
        blockedText: td.querySelector(`[data-testid=quota-${dim}-blocked]`)?.textContent ?? null,
      };
    };
    return {
      answersPerCall: v('quota-answers-per-call'),
      answersPerCallText: document.querySelector('[data-testid=quota-answers-per-call]')?.textContent ?? null,
      upstreamCalls: v('quota-upstream-calls'),
      upstream429: v('quota-upstream-429'),
      ok: v('quota-ok'),
      packAnswered: v('quota-pack-answered'),
      packRepacked: v('quota-pack-repacked'),
      packFailed: v('quota-pack-failed'),
      byKind,
      models: [...document.querySelectorAll('[data-testid=quota-model]')].map((r) => r.getAttribute('data-model')),
      rpm: gauge('rpm'),
      tpm: gauge('tpm'),
      rpd: gauge('rpd'),
    };
  }, model);
}

/** Reads the memory budget row (under the backpressure meter) and the failed-attempts figures. */
async function readMemory(page) {
  return page.evaluate(() => {
    const row = document.querySelector('[data-testid=memory-budget]');
    const attr = (name) => {
      const s = row?.getAttribute(name);
      return s === null || s === undefined || s === '' ? null : s;
    };
    const v = (id) => {
      const s = document.querySelector(`[data-testid="${id}"]`)?.getAttribute('data-value');
      return s === null || s === undefined || s === '' ? null : Number(s);
    };
    const meter = row?.querySelector('.meter');
    return {
      kind: attr('data-kind'),
      used: attr('data-used') === null ? null : Number(attr('data-used')),
      limit: attr('data-limit') === null ? null : Number(attr('data-limit')),
      level: attr('data-level'),
      text: document.querySelector('[data-testid=memory-budget-text]')?.textContent ?? null,
      refusals: v('memory-budget-refusals'),
      meterShown: Boolean(meter && meter.getBoundingClientRect().width > 0),
      failedAttempts10s: v('stat-upstream-attempts-failed'),
      failedAttempts60s: v('quota-upstream-attempts-failed'),
      failedAttemptsTitle: document.querySelector('[data-testid=quota-upstream-attempts-failed]')?.closest('.stat')?.getAttribute('title') ?? null,
    };
  });
}

/**
 * Reads the priority classes, tiers & cost and tenants panels (issue 15):
 * each row's figures (data-value) and texts, the cost tiles, the Batch Mode
 * line, and the points of the classes' chart.
 */
async function readScheduling(page) {
  return page.evaluate(() => {
    const num = (el, id) => {
      const s = (el ?? document).querySelector(`[data-testid="${id}"]`)?.getAttribute('data-value');
      return s === null || s === undefined || s === '' ? null : Number(s);
    };
    const text = (el, id) => (el ?? document).querySelector(`[data-testid="${id}"]`)?.textContent ?? null;
    const attr = (id, name) => document.querySelector(`[data-testid="${id}"]`)?.getAttribute(name) ?? null;
    const rows = (id) => [...document.querySelectorAll(`[data-testid="${id}"]`)];
    const chart = document.querySelector('[data-testid=chart-classes]');
    let painted = 0;
    const canvas = chart?.querySelector('canvas');
    if (canvas && canvas.width > 0 && canvas.height > 0) {
      const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) painted++;
    }
    return {
      classesKind: attr('priority-classes', 'data-kind'),
      classNote: text(null, 'class-note'),
      classes: rows('class-row').map((r) => ({
        name: r.getAttribute('data-class'),
        reported: r.getAttribute('data-reported') === 'true',
        queued: num(r, 'class-queued'),
        completed: num(r, 'class-completed'),
        failed: num(r, 'class-failed'),
        rejected: num(r, 'class-rejected'),
        latencyP95: num(r, 'class-latency-p95'),
        waitP95: num(r, 'class-wait-p95'),
        texts: ['class-queued', 'class-latency-p50', 'class-latency-p95', 'class-wait-p50', 'class-wait-p95', 'class-completed', 'class-failed', 'class-rejected'].map((id) => text(r, id)),
      })),
      classChart: { points: Number(chart?.getAttribute('data-points') ?? 0), painted },
      tiersKind: attr('tiers-cost', 'data-kind'),
      tiers: rows('tier-row').map((r) => ({
        name: r.getAttribute('data-tier'),
        reported: r.getAttribute('data-reported') === 'true',
        requests: num(r, 'tier-requests'),
        shed: num(r, 'tier-shed'),
        costUsd: num(r, 'tier-cost'),
        texts: ['tier-requests', 'tier-shed', 'tier-prompt-tokens', 'tier-output-tokens', 'tier-cost'].map((id) => text(r, id)),
      })),
      cost: {
        usd: num(null, 'cost-usd'),
        standardUsd: num(null, 'cost-standard-usd'),
        savingUsd: num(null, 'cost-saving-usd'),
        savingRatio: num(null, 'cost-saving-ratio'),
        texts: ['cost-usd', 'cost-standard-usd', 'cost-saving-usd', 'cost-saving-ratio'].map((id) => text(null, id)),
      },
      batchKind: attr('batch-mode', 'data-kind'),
      batchText: text(null, 'batch-mode-text'),
      tenantsKind: attr('tenants', 'data-kind'),
      tenantsSummary: text(null, 'tenants-summary'),
      tenants: rows('tenant-row').map((r) => ({
        id: r.getAttribute('data-tenant'),
        texts: ['tenant-weight', 'tenant-queued', 'tenant-inflight', 'tenant-completed', 'tenant-rejected'].map((id) => text(r, id)),
      })),
    };
  });
}

/**
 * Retries `check(page figures, /api/v1/stats)` until it returns '' (a match)
 * or `tries` run out; the page and the route may be a snapshot or two apart
 * while load runs. Returns the last mismatch, '' on success.
 */
async function matchStats(base, read, check, tries = 10) {
  let last = '';
  for (let i = 0; i < tries; i++) {
    const before = await read();
    const stats = await getJson(`${base}/api/v1/stats`);
    const after = await read();
    const a = check(before, stats);
    const b = check(after, stats);
    if (a === '' || b === '') return '';
    last = `${b}\npage: ${JSON.stringify(after)}`;
    await sleep(300);
  }
  return last;
}

function close(a, b, rel, abs) {
  return Math.abs(a - b) <= Math.max(abs, rel * Math.max(Math.abs(a), Math.abs(b)));
}

const skip = !SLUICE_BIN && 'SLUICE_BIN is not set (path to a sluice binary with the dashboard built in)';

let server;
let ctx;
let userDir;
const extraProcs = [];

/** One headless chromium for the file's tests (never a download: Debian's). */
async function browser() {
  if (ctx) return ctx;
  const require = createRequire(join(repo, 'resources', 'dashboard', 'package.json'));
  const { chromium } = require('playwright-core');
  userDir = mkdtempSync(join(tmpdir(), 'sluice-e2e-'));
  ctx = await chromium.launchPersistentContext(userDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1440, height: 1300 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  return ctx;
}

before(async () => {
  if (skip) return;
  server = await startServer(0);
});

after(async () => {
  await ctx?.close().catch(() => {});
  if (userDir) rmSync(userDir, { recursive: true, force: true });
  if (server) await stopServer(server.proc);
  for (const p of extraProcs) await stopServer(p);
});

test('dashboard shows live figures, config changes and survives a server restart', { skip, timeout: 180_000 }, async () => {
  const base = server.base;
  const port = Number(new URL(base).port);
  const load = startLoad(base);

  const context = await browser();
  const page = context.pages()[0] ?? (await context.newPage());

  // Console errors fail the test, except the browser's own report of the
  // WebSocket failing while the server is deliberately down.
  let restarting = false;
  const consoleErrors = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = m.text();
    if (restarting && /WebSocket|ERR_CONNECTION_REFUSED|ERR_CONNECTION_RESET|ERR_EMPTY_RESPONSE/.test(text)) return;
    consoleErrors.push(text);
  });
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));

  // 1. The page loads from `/` and goes live.
  const resp = await page.goto(`${base}/${ADMIN ? `#token=${encodeURIComponent(ADMIN)}` : ''}`);
  assert.equal(resp.status(), 200, 'GET / serves the dashboard');
  await page.waitForSelector('[data-testid=conn-status][data-state=live]', { timeout: 15_000 });

  // Let load build up so the 10 s window has traffic.
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=stat-rps]')?.getAttribute('data-value')) > 0, null, { timeout: 20_000 });
  await sleep(3000);

  // 2. The charts draw: points are plotted and the canvases have pixels.
  const charts = await page.evaluate(() =>
    ['chart-latency', 'chart-queue', 'chart-throughput', 'chart-upstream'].map((id) => {
      const host = document.querySelector(`[data-testid=${id}]`);
      const canvas = host?.querySelector('canvas');
      let painted = 0;
      if (canvas && canvas.width > 0 && canvas.height > 0) {
        const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) painted++;
      }
      return { id, points: Number(host?.getAttribute('data-points') ?? 0), painted };
    }),
  );
  for (const c of charts) {
    assert.ok(c.points >= 2, `${c.id} plots at least 2 points (got ${c.points})`);
    assert.ok(c.painted > 500, `${c.id} canvas is drawn (${c.painted} painted pixels)`);
  }

  // 3. The figures match /api/v1/stats (last10s of the latest snapshot). The
  //    page and the route may be a snapshot or two apart while load runs, so
  //    compare within a tolerance and retry a few times.
  let lastMismatch = '';
  let matched = false;
  for (let i = 0; i < 10 && !matched; i++) {
    const before = await readPage(page);
    const stats = await getJson(`${base}/api/v1/stats`);
    const after = await readPage(page);
    const w = stats.last10s;
    const want = {
      p50: w.latency.p50Ms,
      p95: w.latency.p95Ms,
      p99: w.latency.p99Ms,
      rps: w.requestsPerSecond,
      promptTps: w.promptTokensPerSecond,
      outputTps: w.outputTokensPerSecond,
      upstreamCalls: w.upstreamCalls,
    };
    const ok = (shown) =>
      Object.entries(want).every(([k, v]) => shown[k] !== null && close(shown[k], v, 0.3, k.startsWith('p') && k.length <= 3 ? 5 : 2)) &&
      shown.queueDepth !== null &&
      close(shown.queueDepth, stats.queueDepth, 0.5, 8);
    matched = ok(before) || ok(after);
    if (!matched) {
      lastMismatch = JSON.stringify({ page: after, stats: { ...want, queueDepth: stats.queueDepth, ts: stats.timestampMs } });
      await sleep(300);
    }
  }
  assert.ok(matched, `figures on the page match /api/v1/stats: ${lastMismatch}`);
  assert.equal(
    await page.getAttribute('[data-testid=config-maxQueue]', 'data-value'),
    String((await getJson(`${base}/api/v1/config`)).maxQueue),
    'config table shows maxQueue from /api/v1/config',
  );

  // 3b. The quota panel: what the upstream calls bought in the last 60 s,
  //     and the model's budget. The embedded simulator has no quota and the
  //     gateway knows it, so every dimension has no limit (source none).
  const MODEL = 'gemini-2.0-flash';
  await page.waitForFunction(
    () => Number(document.querySelector('[data-testid=quota-upstream-calls]')?.getAttribute('data-value')) > 0,
    null,
    { timeout: 10_000 },
  );
  const quotaMismatch = await matchStats(
    base,
    () => readQuota(page, MODEL),
    (q, stats) => {
      const w = stats.last60s;
      const m = stats.quota.find((e) => e.model === MODEL);
      if (!m) return `/api/v1/stats has no quota entry for ${MODEL}`;
      if (q.upstreamCalls === null || !close(q.upstreamCalls, w.upstreamCalls, 0.3, 2)) return `upstream calls ${q.upstreamCalls} vs ${w.upstreamCalls}`;
      if (q.answersPerCall === null || !close(q.answersPerCall, w.answersPerUpstreamCall, 0.1, 0.05)) return `answers per call ${q.answersPerCall} vs ${w.answersPerUpstreamCall}`;
      if (q.upstream429 !== w.upstream429) return `429s ${q.upstream429} vs ${w.upstream429}`;
      for (const [kind, n] of Object.entries(w.upstreamCallsByKind)) {
        if (!close(q.byKind[kind] ?? -1, n, 0.3, 2)) return `${kind} calls ${q.byKind[kind]} vs ${n}`;
      }
      if (!close(q.packAnswered ?? -1, w.packMembers.answered, 0.3, 2)) return `pack answered ${q.packAnswered} vs ${w.packMembers.answered}`;
      for (const dim of ['rpm', 'tpm', 'rpd']) {
        const g = q[dim];
        if (!g) return `no ${dim} gauge for ${MODEL}`;
        if (g.source !== m[dim].source || g.limit !== m[dim].limit) return `${dim}: ${g.source}/${g.limit} vs ${m[dim].source}/${m[dim].limit}`;
        if (!close(g.used, m[dim].used, 0.3, 3)) return `${dim} used ${g.used} vs ${m[dim].used}`;
      }
      return '';
    },
  );
  assert.equal(quotaMismatch, '', 'the quota panel matches /api/v1/stats');
  {
    const q = await readQuota(page, MODEL);
    assert.deepEqual(q.models, [MODEL], 'one model in the budget: the one the load calls');
    assert.ok(q.answersPerCall > 0 && q.answersPerCallText !== '—', `answers per upstream call shown (${q.answersPerCallText})`);
    assert.ok(q.rpm.used > 0 && q.tpm.used > 0 && q.rpd.used > 0, `the budget counts the calls and tokens sent: ${JSON.stringify(q)}`);
    for (const dim of ['rpm', 'tpm', 'rpd']) {
      assert.deepEqual(
        [q[dim].kind, q[dim].source, q[dim].limitText, q[dim].blockedText],
        ['unlimited', 'none', 'no limit', null],
        `${dim}: the embedded simulator has no quota`,
      );
    }
  }

  // 3c. The memory budget under the backpressure meter: `sluice --server`'s
  //     default budget of 1 GiB, what the load's admitted work holds of it,
  //     and no refusals; and the upstream's failed attempts (none from the
  //     embedded simulator), as /api/v1/stats reports them.
  const memoryMismatch = await matchStats(
    base,
    () => readMemory(page),
    (m, stats) => {
      const mb = stats.memoryBudget;
      if (!mb) return '/api/v1/stats has no memoryBudget';
      if (m.kind !== 'limited' || m.limit !== mb.limitBytes) return `budget ${m.kind}/${m.limit} vs ${mb.limitBytes}`;
      if (m.refusals !== mb.refusals) return `refusals ${m.refusals} vs ${mb.refusals}`;
      if (m.used === null || !close(m.used, mb.usedBytes, 0.5, 256 * 1024)) return `used ${m.used} vs ${mb.usedBytes}`;
      if (m.failedAttempts10s !== stats.last10s.upstreamAttemptsFailed) return `failed attempts (10 s) ${m.failedAttempts10s} vs ${stats.last10s.upstreamAttemptsFailed}`;
      if (m.failedAttempts60s !== stats.last60s.upstreamAttemptsFailed) return `failed attempts (60 s) ${m.failedAttempts60s} vs ${stats.last60s.upstreamAttemptsFailed}`;
      return '';
    },
  );
  assert.equal(memoryMismatch, '', 'the memory budget and the failed attempts match /api/v1/stats');
  {
    const m = await readMemory(page);
    assert.equal(m.limit, 1_073_741_824, "sluice --server's default memory budget is 1 GiB");
    assert.match(m.text, /^\d[\d\u202f.]* (B|KiB|MiB) of 1\u202f024 MiB · (\d[\d.]* %|< 0\.01 %)$/, `the budget in words: ${m.text}`);
    assert.ok(m.meterShown, 'with a meter');
    assert.equal(m.refusals, 0, 'nothing refused for memory under this load');
    assert.equal(m.failedAttempts60s, 0, 'the embedded simulator fails no attempt');
    assert.match(m.failedAttemptsTitle ?? '', /retries included/, 'the failed attempts say what they count');
  }

  // 3d. Streams, coalescing and the answer cache (off on this gateway): the
  //     tiles exist and say what /api/v1/stats says.
  {
    const read = () => page.evaluate(() => ({
      cacheKind: document.querySelector('[data-testid=answer-cache]')?.getAttribute('data-kind') ?? null,
      firstTokenKind: document.querySelector('[data-testid=first-token]')?.getAttribute('data-kind') ?? null,
      coalescedTotal: document.querySelector('[data-testid=stat-coalesced-total]')?.getAttribute('data-value') ?? null,
    }));
    const stats = await getJson(`${base}/api/v1/stats`);
    const t = await read();
    assert.equal(stats.answerCache.enabled, false);
    assert.equal(t.cacheKind, 'off', 'the answer cache tile says off');
    assert.ok(t.firstTokenKind !== null && t.firstTokenKind !== 'missing', `the first-token row reads the gateway's figures (${t.firstTokenKind})`);
    assert.equal(Number(t.coalescedTotal), stats.total.coalesced, 'coalesced since start');
  }

  // 3e. Priority classes, tiers & cost, tenants (issue 15): the panels read
  //     what /api/v1/stats reports, whatever the engine fills in yet: the
  //     three classes and four tiers are always listed, a class or tier the
  //     gateway reports has its figures, Batch Mode is on (the default) with
  //     nothing gathered yet.
  const schedulingMismatch = await matchStats(
    base,
    () => readScheduling(page),
    (p, stats) => {
      if (p.classesKind !== (Array.isArray(stats.classes) ? 'reported' : 'missing')) return `classes panel ${p.classesKind}`;
      for (const c of stats.classes ?? []) {
        const r = p.classes.find((x) => x.name === c.name);
        if (!r || !r.reported) return `class ${c.name} not shown`;
        if (!close(r.completed ?? -1, c.completed, 0.3, 3) || !close(r.queued ?? -1, c.queued, 0.5, 8)) return `class ${c.name}: ${JSON.stringify(r)} vs ${JSON.stringify(c)}`;
      }
      if (p.tiersKind !== (Array.isArray(stats.tiers) ? 'reported' : 'missing')) return `tiers panel ${p.tiersKind}`;
      for (const t of stats.tiers ?? []) {
        const r = p.tiers.find((x) => x.name === t.name);
        if (!r || !r.reported) return `tier ${t.name} not shown`;
        if (!close(r.requests ?? -1, t.requests, 0.3, 3) || !close(r.costUsd ?? -1, t.costUsd, 0.3, 0.001)) return `tier ${t.name}: ${JSON.stringify(r)} vs ${JSON.stringify(t)}`;
      }
      if (stats.cost && (p.cost.usd === null || !close(p.cost.usd, stats.cost.usd, 0.3, 0.001))) return `cost ${p.cost.usd} vs ${stats.cost.usd}`;
      if (p.batchKind !== (stats.batchMode ? (stats.batchMode.enabled ? 'on' : 'off') : 'missing')) return `batch mode ${p.batchKind} vs ${JSON.stringify(stats.batchMode)}`;
      const wantTenants = !Array.isArray(stats.tenants) ? 'missing' : stats.tenants.length > 0 ? 'reported' : 'empty';
      if (p.tenantsKind !== wantTenants) return `tenants ${p.tenantsKind} vs ${wantTenants}`;
      if (p.tenants.length > 20) return `${p.tenants.length} tenant rows`;
      return '';
    },
  );
  assert.equal(schedulingMismatch, '', 'the priority classes, tiers & cost and tenants panels match /api/v1/stats');
  {
    const p = await readScheduling(page);
    assert.deepEqual(p.classes.slice(0, 3).map((c) => c.name), ['interactive', 'standard', 'background'], 'the classes in priority order');
    assert.deepEqual(p.tiers.slice(0, 4).map((t) => t.name), ['standard', 'flex', 'priority', 'batch'], 'the four tiers');
    assert.match(p.batchText, /^gathering 0 · jobs running 0 · clients waiting 0/, 'Batch Mode is on, holding nothing');
    assert.ok(p.classChart.points >= 2, `the classes chart has points (${p.classChart.points})`);
  }

  // 4. A config change through PATCH /api/v1/config appears on the page:
  //    the config table, and in the quota panel a configured RPM and packs.
  const headers = { 'content-type': 'application/json', ...(ADMIN ? { authorization: `Bearer ${ADMIN}` } : {}) };
  const patch = await fetch(`${base}/api/v1/config`, {
    method: 'PATCH',
    headers,
    body: JSON.stringify({ maxBatchSize: 7, packing: 'pack', rpmLimit: 1_000_000 }),
  });
  assert.equal(patch.status, 200, `PATCH /api/v1/config: ${await patch.text()}`);
  await page.waitForSelector('[data-testid="config-maxBatchSize"][data-value="7"]', { timeout: 10_000 });
  await page.waitForSelector('[data-testid="config-packing"][data-value="pack"]', { timeout: 10_000 });
  assert.equal(await page.textContent('[data-testid=quota-packing-mode]'), 'pack', 'the quota panel names the packing mode');

  await load.stop();
  assert.ok(load.ok > 0, `some load requests succeeded (${load.ok} of ${load.sent})`);

  // Pack mode under concurrent load: pack calls, members answered from them,
  // and so more than one answer per upstream call.
  const packLoad = startLoad(base, { workers: 8, total: 3000, seconds: 30 });
  await page.waitForFunction(
    () => {
      const v = (id) => Number(document.querySelector(`[data-testid="${id}"]`)?.getAttribute('data-value') ?? 0);
      return v('quota-calls-by-kind-pack') > 0 && v('quota-pack-answered') > 0 && v('quota-answers-per-call') > 1;
    },
    null,
    { timeout: 25_000 },
  );
  await page.waitForSelector(`[data-testid=quota-model][data-model="${MODEL}"] [data-testid=quota-rpm][data-source=config][data-limit="1000000"]`, { timeout: 10_000 });
  {
    const q = await readQuota(page, MODEL);
    assert.equal(q.rpm.kind, 'limited', 'a configured RPM is a gauge');
    assert.equal(q.rpm.limitText, 'of 1.00M', 'the configured RPM is shown');
    assert.equal(q.rpm.sourceText, 'config', 'with its source');
    assert.equal(q.tpm.limitText, 'no limit', 'TPM still has no limit');
    assert.ok(q.answersPerCall > 1, `packs buy more than one answer per call (${q.answersPerCall})`);
  }
  mkdirSync(dirname(SCREENSHOT), { recursive: true });
  await page.locator('section[aria-labelledby=h-quota]').screenshot({ path: QUOTA_SCREENSHOT });
  await packLoad.stop();
  assert.ok(packLoad.ok > 0, `some pack-mode requests succeeded (${packLoad.ok} of ${packLoad.sent})`);

  // 5. Restart: kill by PID, the page says it is reconnecting, start again on
  //    the same port, the page comes back live with the new server's state.
  restarting = true;
  await stopServer(server.proc);
  await page.waitForSelector('[data-testid=conn-status][data-state=reconnecting], [data-testid=conn-status][data-state=unreachable]', { timeout: 15_000 });
  const status = await page.textContent('[data-testid=conn-status]');
  assert.match(status, /Reconnecting/, 'header says it is reconnecting');
  await sleep(1500);
  server = await startServer(port);
  assert.equal(server.base, base, 'restarted on the same address');
  await page.waitForSelector('[data-testid=conn-status][data-state=live]', { timeout: 45_000 });
  restarting = false;
  const freshMax = (await getJson(`${base}/api/v1/config`)).maxBatchSize;
  await page.waitForSelector(`[data-testid="config-maxBatchSize"][data-value="${freshMax}"]`, { timeout: 10_000 });

  // 6. Still drawing after the restart, and a screenshot for people.
  await sleep(1500);
  mkdirSync(dirname(SCREENSHOT), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });

  assert.deepEqual(consoleErrors, [], 'no console errors');
});

// The budget of an upstream whose quota the gateway does not know: a
// standalone GeminiSimulator with a 20 requests/minute quota behind the
// gateway. The page shows the probed RPM, then the limit learned from the
// upstream's first 429 and the RetryInfo block, as /api/v1/stats reports them.
test('quota panel shows a probed, then learned and blocked upstream quota', { skip, timeout: 120_000 }, async () => {
  const MODEL = 'gemini-2.0-flash';
  const RPM = 20;
  const simDir = mkdtempSync(join(tmpdir(), 'sluice-e2e-sim-'));
  const simConfig = join(simDir, 'sim.json');
  writeFileSync(simConfig, JSON.stringify({ rpmLimit: RPM, baseLatencyMs: 20, tokensPerSecond: 0 }));
  const sim = await startServer(0, ['--sim-config', simConfig], '--simulate-gemini');
  extraProcs.push(sim.proc);
  // fanout: one upstream call per request, so the quota is met within seconds.
  const gw = await startServer(0, ['--upstream', sim.base, '--packing', 'fanout']);
  extraProcs.push(gw.proc);
  rmSync(simDir, { recursive: true, force: true });

  const context = await browser();
  const page = await context.newPage();
  const consoleErrors = [];
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
  await page.goto(`${gw.base}/${ADMIN ? `#token=${encodeURIComponent(ADMIN)}` : ''}`);
  await page.waitForSelector('[data-testid=conn-status][data-state=live]', { timeout: 15_000 });
  await page.waitForSelector('[data-testid=quota-models][data-state=empty]', { timeout: 10_000 });

  // A few calls, far below the quota: the RPM is probed, the others unknown.
  const gen = (text) =>
    fetch(`${gw.base}/v1beta/models/${MODEL}:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ parts: [{ text }] }] }),
    }).then(async (r) => (await r.arrayBuffer(), r.status));
  for (let i = 0; i < 3; i++) assert.equal(await gen(`probe ${i}`), 200, 'a call below the quota succeeds');
  const rpm = `[data-testid=quota-model][data-model="${MODEL}"] [data-testid=quota-rpm]`;
  await page.waitForFunction(
    (sel) => {
      const td = document.querySelector(sel);
      return td?.getAttribute('data-source') === 'probe' && Number(td.getAttribute('data-used')) >= 3;
    },
    rpm,
    { timeout: 10_000 },
  );
  {
    const q = await readQuota(page, MODEL);
    const stats = await getJson(`${gw.base}/api/v1/stats`);
    const m = stats.quota.find((e) => e.model === MODEL);
    assert.equal(m.rpm.source, 'probe', '/api/v1/stats: the RPM is probed');
    assert.deepEqual([q.rpm.kind, q.rpm.sourceText, q.rpm.limitText], ['limited', 'probe', `of ${m.rpm.limit}`], 'the probed RPM, as a gauge');
    assert.deepEqual([q.tpm.limitText, q.rpd.limitText], ['no limit', 'no limit'], 'TPM and RPD unknown: no limit');
    assert.equal(q.upstream429, 0, 'no 429 yet');
  }

  // Past the quota: the upstream answers 429 with QuotaFailure and RetryInfo;
  // the gateway learns the limit and holds the RPM until the delay passes.
  // Short deadlines, so requests the budget cannot serve are refused at once.
  const load = startLoad(gw.base, { workers: 8, total: 200, seconds: 40, headers: { 'X-Request-Deadline-Ms': '2000' } });
  await page.waitForSelector(`${rpm}[data-source=learned][data-limit="${RPM}"]`, { timeout: 40_000 });
  await page.waitForSelector(`${rpm} [data-testid=quota-rpm-blocked]`, { timeout: 10_000 });
  const q = await readQuota(page, MODEL);
  // The 429 is counted in the windows when its call's outcome is recorded,
  // which may be a moment after the budget learned from it.
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=quota-upstream-429]')?.getAttribute('data-value')) > 0, null, { timeout: 15_000 });
  const q429 = await readQuota(page, MODEL);
  await load.stop();
  assert.equal(q.rpm.sourceText, 'learned', 'the learned source is shown');
  assert.equal(q.rpm.limitText, `of ${RPM}`, 'the learned limit is the upstream quota');
  assert.ok(q.rpm.blockedMs > 0 && q.rpm.blockedMs <= 61_000, `blocked for at most the quota window (${q.rpm.blockedMs} ms)`);
  assert.match(q.rpm.blockedText, /^blocked for (\d+ s|1 min \d+ s)$/, 'the block is a countdown in seconds');
  assert.ok(q429.upstream429 >= 1, `the upstream's 429 is counted (${q429.upstream429})`);
  assert.ok(
    await page.evaluate(() => document.querySelector('[data-testid=quota-upstream-429]')?.closest('.stat')?.classList.contains('level-refusing')),
    'a 429 turns the figure red',
  );
  const stats = await getJson(`${gw.base}/api/v1/stats`);
  assert.ok(stats.last60s.upstream429 >= q429.upstream429, 'and /api/v1/stats agrees');
  // Each 429 is a failed attempt too, and the figure says so by outcome.
  await page.waitForFunction(
    () => {
      const v = (id) => Number(document.querySelector(`[data-testid="${id}"]`)?.getAttribute('data-value') ?? -1);
      return v('quota-upstream-attempts-failed') >= v('quota-upstream-429') && v('quota-upstream-429') > 0;
    },
    null,
    { timeout: 10_000 },
  );
  const failed = await readMemory(page);
  assert.ok(failed.failedAttempts60s >= 1, `failed attempts counted (${failed.failedAttempts60s})`);
  assert.match(failed.failedAttemptsTitle ?? '', /By outcome: 429 \d+/, `the 429s among the outcomes: ${failed.failedAttemptsTitle}`);
  assert.ok(
    await page.evaluate(() => document.querySelector('[data-testid=quota-upstream-attempts-failed]')?.closest('.stat')?.classList.contains('level-refusing')),
    'failed attempts turn the figure red',
  );
  const later = await getJson(`${gw.base}/api/v1/stats`);
  assert.ok(later.last60s.upstreamAttemptsFailed >= later.last60s.upstream429, '/api/v1/stats: 429s are failed attempts');
  assert.ok((later.last60s.upstreamAttemptsByOutcome['429'] ?? 0) >= 1, '/api/v1/stats: by outcome, 429');
  await page.close();
  assert.deepEqual(consoleErrors, [], 'no console errors');
});

// A gateway with an admin token: the stream needs it (a WebSocket cannot
// carry a header, so the page presents it in a cookie). Without it the page
// asks for it; with it the page goes live, and its charts fill at once from
// the history it pages in after the hello (PROTOCOL.md, `history`).
test('a gateway with an admin token: the page asks for it, then fills its charts from the history', { skip, timeout: 90_000 }, async () => {
  const TOKEN = 'e2e-t0ken;with=odd chars';
  const gw = await startServer(0, ['--admin-token', TOKEN]);
  extraProcs.push(gw.proc);
  // Uptime for some history: 4 snapshots a second.
  await sleep(8000);

  const context = await browser();
  await context.clearCookies();
  const page = await context.newPage();
  const consoleErrors = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    // Chromium reports the refused handshake ("HTTP Authentication failed")
    // and the page's probe that got 401.
    if (/HTTP Authentication failed|status of 401/.test(m.text())) return;
    consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));

  await page.goto(`${gw.base}/`);
  await page.waitForSelector('[data-testid=conn-status][data-state=unauthorized]', { timeout: 15_000 });
  await page.waitForSelector('[data-testid=token-form]');
  await page.fill('[data-testid=token-input]', 'wrong');
  await page.click('[data-testid=token-submit]');
  await page.waitForSelector('[data-testid=token-form]:has-text("not accepted")', { timeout: 15_000 });
  await page.fill('[data-testid=token-input]', TOKEN);
  await page.click('[data-testid=token-submit]');
  await page.waitForSelector('[data-testid=conn-status][data-state=live]', { timeout: 15_000 });
  // Filled from the paged history (> 32 points by now), not from the
  // snapshots since the hello (at most 9 in 2 s).
  const filled = () => Number(document.querySelector('[data-testid=chart-latency]')?.getAttribute('data-points')) >= 25;
  await page.waitForFunction(filled, null, { timeout: 2_000 });

  // The token lasts for the tab: a reload goes live without asking.
  await page.reload();
  await page.waitForSelector('[data-testid=conn-status][data-state=live]', { timeout: 15_000 });
  await page.close();

  // A fresh browser session given the token in the fragment, which leaves the address bar.
  await context.clearCookies();
  const fresh = await context.newPage();
  fresh.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
  await fresh.goto(`${gw.base}/#token=${encodeURIComponent(TOKEN)}`);
  await fresh.waitForSelector('[data-testid=conn-status][data-state=live]', { timeout: 15_000 });
  assert.ok(!fresh.url().includes('token'), `the token left the address bar (${fresh.url()})`);
  await fresh.waitForFunction(filled, null, { timeout: 2_000 });
  await fresh.close();
  assert.deepEqual(consoleErrors, [], 'no console errors but the 401s');
});

// The issue 15 panels with figures in them: the page comes from the gateway
// (its embedded build), its stream is routed to the test, which sends a hello
// and snapshots at 4 Hz whose priority classes are busy, whose tiers cost
// and saved something, with three tenants and Batch Mode on. Then Batch
// Mode goes off, then a gateway older than these fields: every figure "—",
// and the page does not break.
test('the priority classes, tiers & cost and tenants panels show a snapshot that has them, and one that does not', { skip, timeout: 60_000 }, async () => {
  const lat = (p50, p95, p99, count = 100) => ({ count, meanMs: p50 * 1.1, p50Ms: p50, p95Ms: p95, p99Ms: p99, p999Ms: p99 * 1.2, maxMs: p99 * 1.5 });
  const none = lat(0, 0, 0, 0);
  const win = (seconds) => ({
    seconds, requests: 500, ok: 500, failed: 0, expired: 0, cancelled: 0, requestsPerSecond: 50,
    latency: lat(30, 60, 90), queueWait: lat(1, 2, 3), upstream: lat(20, 40, 60), firstToken: none, coalesced: 0,
    cache: { hits: 0, misses: 0, bypassed: 0, hitRatio: 0 }, promptTokens: 1000, outputTokens: 2000,
    promptTokensPerSecond: 100, outputTokensPerSecond: 200, batches: 100, meanBatchSize: 5, batchSizes: [{ size: '4-7', batches: 100 }],
    upstreamCalls: 100, upstreamCallsByKind: { single: 100 }, upstream429: 0, upstreamAttemptsByOutcome: { ok: 100 }, upstreamAttemptsFailed: 0,
    upstreamErrors: 0, packMembers: { answered: 0, repacked: 0, failed: 0 }, answersPerUpstreamCall: 5, rejected: 0, rejections: {},
  });
  let tick = 0;
  let mode = 'busy'; // busy → batch-off → legacy
  const snapshot = () => {
    tick++;
    const base = {
      timestampMs: Date.now(), uptimeSeconds: 60 + tick / 4, queueDepth: 53, queueCapacity: 2048, inflightBatches: 3, maxInflightBatches: 64,
      backpressure: 0.03, draining: false, last1s: win(1), last10s: win(10), last60s: win(60), total: win(0),
    };
    if (mode === 'legacy') return base;
    return {
      ...base,
      memoryBudget: { usedBytes: 1 << 20, limitBytes: 1 << 30, refusals: 0 },
      answerCache: { enabled: false, usedBytes: 0, maxBytes: 0, entries: 0 },
      quota: [],
      upstreamAttempts: [],
      classes: [
        { name: 'interactive', queued: 2 + (tick % 3), completed: 1200, failed: 3, rejected: 0, latency: lat(40, 90, 150), queueWait: lat(1, 4, 8) },
        { name: 'standard', queued: 14, completed: 5400, failed: 0, rejected: 7, latency: lat(180, 650, 900), queueWait: lat(20, 120, 300) },
        { name: 'background', queued: 37, completed: 800, failed: 1, rejected: 25, latency: none, queueWait: lat(2500, 9000, 14_000, 12) },
      ],
      tiers: [
        { name: 'standard', requests: 5000, shed: 0, promptTokens: 1_200_000, outputTokens: 300_000, costUsd: 1.2 },
        { name: 'flex', requests: 2000, shed: 12, promptTokens: 500_000, outputTokens: 100_000, costUsd: 0.25 },
        { name: 'priority', requests: 100, shed: 0, promptTokens: 20_000, outputTokens: 5_000, costUsd: 0.0537 },
        { name: 'batch', requests: 300, shed: 0, promptTokens: 90_000, outputTokens: 30_000, costUsd: 0.03 },
      ],
      cost: { usd: 1.5337, standardUsd: 2.5, savingUsd: 0.9663, savingRatio: 0.9663 / 2.5 },
      tenants: [
        { id: 'key-1a2b3c4d5e6f7a8b', weight: 2.5, queued: 30, inflight: 12, completed: 4000, rejected: 9 },
        { id: 'team-search', weight: 1, queued: 3, inflight: 2, completed: 2500, rejected: 0 },
        { id: 'nightly.jobs', weight: 0.125, queued: 0, inflight: 0, completed: 12_345, rejected: 0 },
      ],
      batchMode:
        mode === 'busy'
          ? { enabled: true, gathering: 12, jobsRunning: 2, waiting: 40, jobsSubmitted: 5, requestsSubmitted: 500 }
          : { enabled: false, gathering: 0, jobsRunning: 0, waiting: 0, jobsSubmitted: 0, requestsSubmitted: 0 },
    };
  };

  const context = await browser();
  const page = await context.newPage();
  const consoleErrors = [];
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
  const timers = new Set();
  await page.routeWebSocket(/\/api\/v1\/stream$/, (ws) => {
    // Not connected to the gateway: the test is the server.
    ws.send(JSON.stringify({ type: 'hello', version: 'e2e', config: { maxBatchSize: 16 }, upstream: { kind: 'simulator', model: 'gemini-2.0-flash' }, rateHz: 4, snapshot: snapshot(), historyPoints: 1 }));
    const t = setInterval(() => ws.send(JSON.stringify({ type: 'snapshot', snapshot: snapshot() })), 250);
    timers.add(t);
    ws.onClose(() => {
      clearInterval(t);
      timers.delete(t);
    });
  });
  try {
    await page.goto(`${server.base}/`);
    await page.waitForSelector('[data-testid=conn-status][data-state=live]', { timeout: 15_000 });
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=chart-classes]')?.getAttribute('data-points')) >= 4, null, { timeout: 10_000 });

    const p = await readScheduling(page);
    assert.equal(p.classesKind, 'reported');
    assert.deepEqual(
      p.classes.map((c) => [c.name, c.reported, c.texts.slice(1)]),
      [
        ['interactive', true, ['40.0 ms', '90.0 ms', '1.00 ms', '4.00 ms', '1\u202f200', '3', '0']],
        ['standard', true, ['180 ms', '650 ms', '20.0 ms', '120 ms', '5\u202f400', '0', '7']],
        // Nothing answered in the window: a dash, not 0 ms; its queue wait was measured.
        ['background', true, ['—', '—', '2.50 s', '9.00 s', '800', '1', '25']],
      ],
      'each class with its latency, queue wait and counts',
    );
    assert.deepEqual(p.classes.map((c) => c.texts[0]).slice(1), ['14', '37'], 'queued now');
    assert.match(p.classes[0].texts[0], /^[234]$/, 'interactive queued now');
    assert.match(p.classNote ?? '', /^5[345] queued in all classes/, `the classes' total: ${p.classNote}`);
    assert.ok(p.classChart.painted > 500, `the classes chart is drawn (${p.classChart.painted} painted pixels)`);

    assert.equal(p.tiersKind, 'reported');
    assert.deepEqual(
      p.tiers.map((t) => [t.name, ...t.texts]),
      [
        ['standard', '5\u202f000', '—', '1.20M', '300k', '$1.20'],
        ['flex', '2\u202f000', '12', '500k', '100k', '$0.2500'],
        ['priority', '100', '—', '20.0k', '5\u202f000', '$0.0537'],
        ['batch', '300', '—', '90.0k', '30.0k', '$0.0300'],
      ],
      'each tier with its requests, shed, tokens and cost',
    );
    assert.deepEqual(p.cost.texts, ['$1.53', '$2.50', '$0.9663', '38.7 %'], 'cost, all standard, saving in USD and percent');
    assert.equal(p.cost.usd, 1.5337);
    assert.equal(p.batchKind, 'on');
    assert.equal(p.batchText, 'gathering 12 · jobs running 2 · clients waiting 40 · submitted 5 jobs, 500 requests', 'the Batch Mode line');

    assert.equal(p.tenantsKind, 'reported');
    assert.equal(p.tenantsSummary, '3 tenants shown, most active first · an API key (shown as its digest) or X-Sluice-Tenant names a tenant');
    assert.deepEqual(
      p.tenants.map((t) => [t.id, ...t.texts]),
      [
        ['key-1a2b3c4d5e6f7a8b', '2.5', '30', '12', '4\u202f000', '9'],
        ['team-search', '1', '3', '2', '2\u202f500', '0'],
        ['nightly.jobs', '0.125', '0', '0', '12.3k', '0'],
      ],
      'the tenants, most active first',
    );
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.locator('section[aria-labelledby=h-classes]').screenshot({ path: join(repo, 'tests', 'artifacts', 'dashboard-classes.png') });
    await page.locator('section[aria-labelledby=h-tiers]').screenshot({ path: join(repo, 'tests', 'artifacts', 'dashboard-tiers.png') });

    // Batch Mode turned off: the line says so.
    mode = 'batch-off';
    await page.waitForSelector('[data-testid=batch-mode][data-kind=off]', { timeout: 5_000 });
    assert.equal(await page.textContent('[data-testid=batch-mode-text]'), 'off');

    // A gateway older than these fields: "—", not made-up zeros; the chart keeps its earlier points and gaps after.
    mode = 'legacy';
    await page.waitForSelector('[data-testid=priority-classes][data-kind=missing]', { timeout: 5_000 });
    const old = await readScheduling(page);
    assert.deepEqual(old.classes.map((c) => [c.name, c.reported]), [['interactive', false], ['standard', false], ['background', false]]);
    assert.ok(old.classes.every((c) => c.texts.every((t) => t === '—')), `every class figure is a dash: ${JSON.stringify(old.classes)}`);
    assert.equal(old.classNote, '— (this gateway does not report priority classes)');
    assert.equal(old.tiersKind, 'missing');
    assert.ok(old.tiers.every((t) => t.texts.every((x) => x === '—')), 'every tier figure is a dash');
    assert.deepEqual(old.cost.texts, ['—', '—', '—', '—'], 'no cost');
    assert.deepEqual([old.batchKind, old.batchText], ['missing', '—']);
    assert.deepEqual([old.tenantsKind, old.tenantsSummary, old.tenants.length], ['missing', '— (this gateway does not report tenants)', 0]);
    assert.ok(old.classChart.points > p.classChart.points, 'the chart goes on');
    assert.equal(await page.getAttribute('[data-testid=conn-status]', 'data-state'), 'live', 'still live');
  } finally {
    for (const t of timers) clearInterval(t);
    await page.close();
  }
  assert.deepEqual(consoleErrors, [], 'no console errors');
});
