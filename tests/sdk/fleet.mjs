// A fleet of agents for the scale-out tests and benchmark: each agent is a
// closed loop of official @google/genai SDK generateContent calls (no SDK
// retries: every answer and every refusal is counted once), spread over
// the gateway replicas round robin. Plus a redis-server of the test's own.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { GoogleGenAI } from '@google/genai';

/** A port free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * `redis-server` on 127.0.0.1:`port` (no persistence): resolves { child,
 * url, stop() } once it accepts connections. stop() is SIGKILL: what a
 * crash does.
 */
export function startRedis(port) {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--protected-mode', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server on port ${port} did not start within 10 s: ${out}`)), 10000);
    child.on('error', (e) => reject(new Error(`redis-server could not start (${e.message}): apt-get install redis-server`)));
    child.on('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out}`)));
    child.stdout.on('data', (d) => {
      out += d;
      if (/Ready to accept connections/.test(out)) {
        clearTimeout(timer);
        resolve({
          child,
          url: `redis://127.0.0.1:${port}/0`,
          stop: () => new Promise((r) => {
            if (child.exitCode !== null || child.signalCode !== null)
              return r();
            child.once('exit', () => r());
            process.kill(child.pid, 'SIGKILL');
          }),
        });
      }
    });
  });
}

/**
 * `agents` agents for `seconds`, agent i on urls[i % urls.length]. Resolves
 * { answered, refused: {status: n}, failed: [messages], latencies (ms of
 * the answered) , perUrl: [answered] }.
 */
export async function runFleet({ urls, agents, seconds, model = 'gemini-2.5-flash', onTick }) {
  const end = Date.now() + seconds * 1000;
  const result = { answered: 0, refused: {}, failed: [], latencies: [], perUrl: urls.map(() => 0) };
  const clients = urls.map((baseUrl, i) => new GoogleGenAI({
    apiKey: `fleet-key-${i}`,
    httpOptions: { baseUrl, retryOptions: { attempts: 1 }, timeout: 300000 },
  }));
  let ticker;
  if (onTick)
    ticker = setInterval(() => onTick(result), 1000);
  const agent = async (i) => {
    const ai = clients[i % clients.length];
    for (let n = 0; Date.now() < end; ++n) {
      const start = performance.now();
      try {
        const r = await ai.models.generateContent({ model, contents: `agent ${i} question ${n}: what is ${i} + ${n}?` });
        if (!r.text)
          throw new Error('an answer without text');
        result.answered += 1;
        result.perUrl[i % clients.length] += 1;
        result.latencies.push(performance.now() - start);
      } catch (e) {
        const status = e.status ?? /got status: (\d+)/.exec(String(e.message))?.[1];
        if (status) {
          result.refused[status] = (result.refused[status] ?? 0) + 1;
          await new Promise((r) => setTimeout(r, 500)); // an agent backs off before asking again
        } else {
          result.failed.push(String(e.message).slice(0, 200));
        }
      }
    }
  };
  await Promise.all(Array.from({ length: agents }, (_, i) => agent(i)));
  clearInterval(ticker);
  return result;
}

export function percentile(xs, p) {
  if (xs.length === 0)
    return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}
