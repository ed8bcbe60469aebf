// Starting and stopping the `sluice` executable for the SDK tests.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Spawns `bin args` and resolves, once every pattern has matched, with
 * { child, stdout: [...], stderr: [...] }: the first capture group of each
 * pattern, in order. stderr (the log) is echoed to this process's stderr.
 * Rejects when the process exits first or after `timeoutMs`, naming `what`.
 */
export function startSluice(bin, args, { what, stdout = [], stderr = [], env = process.env, timeoutMs = 10000 }) {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not print what was expected within ${timeoutMs / 1000} s`)), timeoutMs);
    let out = '';
    let err = '';
    const check = () => {
      const o = stdout.map((re) => out.match(re));
      const e = stderr.map((re) => err.match(re));
      if (o.every(Boolean) && e.every(Boolean)) {
        clearTimeout(timer);
        resolve({ child, stdout: o.map((m) => m[1]), stderr: e.map((m) => m[1]) });
      }
    };
    child.stdout.on('data', (d) => { out += d; check(); });
    child.stderr.on('data', (d) => { err += d; process.stderr.write(d); check(); });
    child.on('exit', (code) => reject(new Error(`${what} exited early with ${code}: ${err}`)));
  });
}

/**
 * `sluice --server --port 0 ...extraArgs` with the embedded simulator as its
 * upstream (GEMINI_API_KEY unset): resolves { child, gatewayUrl, simulatorUrl }
 * (stdout says "listening on URL"; the log names the simulator's URL).
 */
export async function startGateway(bin, extraArgs = []) {
  const env = { ...process.env };
  delete env.GEMINI_API_KEY;
  const started = await startSluice(bin, ['--server', '--port', '0', ...extraArgs], {
    what: 'sluice --server', env,
    stdout: [/listening on (http:\/\/\S+)/],
    stderr: [/embedded GeminiSimulator at (http:\/\/\S+)/],
  });
  return { child: started.child, gatewayUrl: started.stdout[0], simulatorUrl: started.stderr[0] };
}

/** SIGTERM to a child still running, resolved when it has exited. */
export async function stopSluice(child) {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.on('exit', resolve));
    process.kill(child.pid, 'SIGTERM');
    await exited;
  }
}

/**
 * `sluice --server` with the embedded simulator and `config` (an object,
 * written to a temporary JSON file for --config): resolves { child,
 * gatewayUrl, simulatorUrl, stop() }; stop() ends the process and removes
 * the file.
 */
export async function startConfiguredGateway(bin, config) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-sdk-'));
  const file = join(dir, 'sluice.json');
  writeFileSync(file, JSON.stringify(config));
  try {
    const g = await startGateway(bin, ['--config', file]);
    return {
      ...g,
      stop: async () => {
        await stopSluice(g.child);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** The simulator's own account of what reached it (/sim/v1/stats). */
export async function simulatorStats(simulatorUrl) {
  return (await fetch(`${simulatorUrl}/sim/v1/stats`)).json();
}

/** PATCH /sim/v1/config; throws unless the simulator accepted it. */
export async function patchSimulator(simulatorUrl, patch) {
  const r = await fetch(`${simulatorUrl}/sim/v1/config`, {
    method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify(patch),
  });
  if (r.status !== 200)
    throw new Error(`the simulator refused ${JSON.stringify(patch)}: ${r.status} ${await r.text()}`);
}

/** Polls `predicate` every 50 ms until it returns a truthy value (resolved with it), or throws after `timeoutMs`. */
export async function until(what, predicate, timeoutMs = 15000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value)
      return value;
    if (Date.now() > end)
      throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
