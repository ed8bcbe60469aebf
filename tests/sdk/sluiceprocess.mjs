// Starting and stopping the `sluice` executable for the SDK tests.
import { spawn } from 'node:child_process';

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
