// Browser end-to-end test of the dashboard against a real `sluice --server`.
//
//   SLUICE_BIN=/path/to/sluice node --test tests/dashboard/e2e.test.mjs
//   (or: cd resources/dashboard && SLUICE_BIN=... npm run test:e2e)
//
// Needs: Debian's chromium at /usr/bin/chromium (apt-get install chromium),
// `npm ci` done in resources/dashboard (for playwright-core), and a sluice
// binary whose embedded dashboard is the current build. Skips when SLUICE_BIN
// is unset. Optional: SLUICE_ADMIN_TOKEN (sent as Bearer on PATCH),
// CHROMIUM (another chromium path).
//
// What it needs from the server is listed in resources/dashboard/PROTOCOL.md
// ("What the browser test relies on").
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
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

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts the server; resolves with { proc, base } once it prints its URL. */
function startServer(port) {
  return new Promise((resolve, reject) => {
    const proc = spawn(SLUICE_BIN, ['--server', '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
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
function startLoad(base, { workers = 6, total = 4000, seconds = 25 } = {}) {
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
          headers: { 'content-type': 'application/json' },
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

function close(a, b, rel, abs) {
  return Math.abs(a - b) <= Math.max(abs, rel * Math.max(Math.abs(a), Math.abs(b)));
}

const skip = !SLUICE_BIN && 'SLUICE_BIN is not set (path to a sluice binary with the dashboard built in)';

let server;
let ctx;
let userDir;

before(async () => {
  if (skip) return;
  server = await startServer(0);
});

after(async () => {
  await ctx?.close().catch(() => {});
  if (userDir) rmSync(userDir, { recursive: true, force: true });
  if (server) await stopServer(server.proc);
});

test('dashboard shows live figures, config changes and survives a server restart', { skip, timeout: 180_000 }, async () => {
  const require = createRequire(join(repo, 'resources', 'dashboard', 'package.json'));
  const { chromium } = require('playwright-core');

  const base = server.base;
  const port = Number(new URL(base).port);
  const load = startLoad(base);

  userDir = mkdtempSync(join(tmpdir(), 'sluice-e2e-'));
  ctx = await chromium.launchPersistentContext(userDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1440, height: 1300 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const page = ctx.pages()[0] ?? (await ctx.newPage());

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
  const resp = await page.goto(`${base}/`);
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

  // 4. A config change through PATCH /api/v1/config appears on the page.
  const headers = { 'content-type': 'application/json', ...(ADMIN ? { authorization: `Bearer ${ADMIN}` } : {}) };
  const patch = await fetch(`${base}/api/v1/config`, { method: 'PATCH', headers, body: JSON.stringify({ maxBatchSize: 7 }) });
  assert.equal(patch.status, 200, `PATCH /api/v1/config: ${await patch.text()}`);
  await page.waitForSelector('[data-testid="config-maxBatchSize"][data-value="7"]', { timeout: 10_000 });

  await load.stop();
  assert.ok(load.ok > 0, `some load requests succeeded (${load.ok} of ${load.sent})`);

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
