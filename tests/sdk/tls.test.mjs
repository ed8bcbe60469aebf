// The official Gemini JS SDK (@google/genai) against `sluice --server` over
// HTTPS, with a throwaway CA made by Debian's openssl for this run: the SDK
// trusts it through NODE_EXTRA_CA_CERTS (in a child process, tlsclient.mjs),
// and plain HTTP to the TLS port gets a readable 400, not a hang.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSluice, stopSluice } from './sluiceprocess.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const sluice = process.env.SLUICE_BIN;
let dir;
let child;
let httpsUrl;

function makeCertificates(d) {
  const ssl = (...args) => execFileSync('openssl', args, { cwd: d, stdio: ['ignore', 'ignore', 'pipe'] });
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key',
      '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Sluice SDK test CA');
  ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'key.pem', '-out', 'srv.csr',
      '-subj', '/CN=127.0.0.1');
  writeFileSync(join(d, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  ssl('x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2',
      '-extfile', 'ext.cnf', '-out', 'cert.pem');
}

before(async () => {
  assert.ok(sluice, 'SLUICE_BIN must point at the sluice executable');
  dir = mkdtempSync(join(tmpdir(), 'sluice-sdk-tls-'));
  makeCertificates(dir);
  const env = { ...process.env };
  delete env.GEMINI_API_KEY;
  const started = await startSluice(sluice, ['--server', '--port', '0', '--tls-cert', join(dir, 'cert.pem'),
                                             '--tls-key', join(dir, 'key.pem')], {
    what: 'sluice --server over TLS', env, stdout: [/listening on (https:\/\/\S+)/],
  });
  child = started.child;
  [httpsUrl] = started.stdout;
});

after(async () => {
  await stopSluice(child);
  if (dir)
    rmSync(dir, { recursive: true, force: true });
});

test('the official SDK over HTTPS: generateContent, generateContentStream, countTokens', () => {
  const run = spawnSync(process.execPath, [join(here, 'tlsclient.mjs')], {
    cwd: here, encoding: 'utf8', timeout: 60000,
    env: { ...process.env, NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem'), SLUICE_HTTPS_URL: httpsUrl },
  });
  assert.equal(run.status, 0, run.stderr);
  const got = JSON.parse(run.stdout);
  assert.ok(got.text.length > 0);
  assert.equal(got.finishReason, 'STOP');
  assert.ok(got.queueHeader);
  assert.ok(got.streamed.length > 0);
  assert.ok(got.totalTokens > 0);
});

test('without the CA the SDK refuses the certificate (the check is real)', () => {
  const env = { ...process.env, SLUICE_HTTPS_URL: httpsUrl };
  delete env.NODE_EXTRA_CA_CERTS;
  const run = spawnSync(process.execPath, [join(here, 'tlsclient.mjs')], { cwd: here, encoding: 'utf8', timeout: 60000, env });
  assert.notEqual(run.status, 0);
  assert.match(run.stderr, /certificate|self[- ]signed|UNABLE_TO_VERIFY|fetch failed/i);
});

test('plain HTTP to the TLS port gets a 400 saying so', async () => {
  const plain = httpsUrl.replace('https://', 'http://');
  const r = await fetch(`${plain}/health`, { signal: AbortSignal.timeout(10000) });
  assert.equal(r.status, 400);
  const body = await r.json();
  assert.match(body.error.message, /speaks HTTPS/);
});
