// The dashboard in Debian's chromium against `sluice --server` over HTTPS
// (issue 17): the page, its /api calls and its wss:// stream. A throwaway
// CA made by openssl for this run signs the gateway's certificate; chromium
// is told to accept exactly that certificate (its public key's hash,
// --ignore-certificate-errors-spki-list), nothing else.
//
//   SLUICE_BIN=/path/to/sluice node --test tests/dashboard/tls.test.mjs
//
// Needs what e2e.test.mjs needs (chromium, resources/dashboard's npm ci for
// playwright-core) plus openssl. Skips when SLUICE_BIN is unset.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
const skip = !SLUICE_BIN && 'SLUICE_BIN is not set';

let dir;
let proc;
let base;
let ctx;

function sh(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'sluice-dash-tls-'));
  sh('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key',
                 '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Sluice dashboard test CA']);
  sh('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'key.pem',
                 '-out', 'srv.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  sh('openssl', ['x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2',
                 '-extfile', 'ext.cnf', '-out', 'cert.pem']);
  const der = sh('openssl', ['x509', '-in', 'cert.pem', '-pubkey', '-noout']);
  const spkiDer = sh('openssl', ['pkey', '-pubin', '-outform', 'der'], { input: der, stdio: ['pipe', 'pipe', 'pipe'] });
  const spki = sh('openssl', ['dgst', '-sha256', '-binary'], { input: spkiDer, stdio: ['pipe', 'pipe', 'pipe'] }).toString('base64');

  proc = spawn(SLUICE_BIN, ['--server', '--port', '0', '--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem')],
               { stdio: ['ignore', 'pipe', 'pipe'] });
  base = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no "listening on" within 20 s: ${out}`)), 20_000);
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (https:\/\/[^\s]+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1].replace(/\/$/, ''));
      }
    });
    proc.on('exit', (code) => reject(new Error(`sluice exited with ${code}`)));
  });

  const require = createRequire(join(repo, 'resources', 'dashboard', 'package.json'));
  const { chromium } = require('playwright-core');
  ctx = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync',
           '--no-first-run', `--ignore-certificate-errors-spki-list=${spki}`],
  });
});

after(async () => {
  await ctx?.close().catch(() => {});
  if (proc && proc.exitCode === null) {
    const exited = new Promise((r) => proc.once('exit', r));
    process.kill(proc.pid, 'SIGTERM');
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the dashboard over HTTPS: page, API and wss:// stream', { skip, timeout: 90_000 }, async () => {
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  const errors = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  const resp = await page.goto(`${base}/`);
  assert.equal(resp.status(), 200);
  assert.equal(new URL(page.url()).protocol, 'https:');
  await page.waitForSelector('[data-testid=conn-status][data-state=live]', { timeout: 20_000 });
  // Some traffic, so a live figure moves through the wss:// snapshots.
  const body = JSON.stringify({ contents: [{ parts: [{ text: 'hello over TLS' }] }] });
  for (let i = 0; i < 20; ++i) {
    const r = await page.evaluate(async ([url, b]) => (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: b })).status,
                                  [`${base}/v1beta/models/gemini-2.0-flash:generateContent`, body]);
    assert.equal(r, 200);
  }
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=stat-rps]')?.getAttribute('data-value')) > 0,
                             null, { timeout: 20_000 });
  assert.deepEqual(errors, []);
});
