/**
 * Reconnect policy: exponential backoff with a cap and jitter, reset once a
 * connection has really worked (the server's `hello` arrived, not merely the
 * TCP/WebSocket open, so a server that accepts and drops at once still backs off).
 *
 * delay(n) for the n-th consecutive failure (n = 0, 1, ...):
 *   ceiling = min(maxMs, baseMs * factor^n)
 *   delay   = ceiling * (1 - jitter * r),  r uniform in [0, 1)
 * so delay lies in (ceiling * (1 - jitter), ceiling]. Jitter spreads the
 * reconnects of many dashboards after a server restart.
 */
export interface BackoffOptions {
  baseMs: number;
  factor: number;
  maxMs: number;
  jitter: number; // 0..1, the fraction of the ceiling that may be taken off
  /** after this many consecutive failures the UI calls the server unreachable */
  unreachableAfter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = {
  baseMs: 500,
  factor: 2,
  maxMs: 30_000,
  jitter: 0.5,
  unreachableAfter: 3,
};

export class ReconnectPolicy {
  private failures = 0;

  constructor(
    readonly options: BackoffOptions = DEFAULT_BACKOFF,
    private readonly random: () => number = Math.random,
  ) {
    const { baseMs, factor, maxMs, jitter } = options;
    if (!(baseMs > 0) || !(factor >= 1) || !(maxMs >= baseMs) || !(jitter >= 0 && jitter <= 1)) {
      throw new RangeError('invalid backoff options');
    }
  }

  /** Consecutive failed attempts since the last success. */
  get attempts(): number {
    return this.failures;
  }

  get unreachable(): boolean {
    return this.failures >= this.options.unreachableAfter;
  }

  /** The upper bound of the delay after `n` consecutive failures. */
  ceiling(n: number): number {
    const { baseMs, factor, maxMs } = this.options;
    return Math.min(maxMs, baseMs * Math.pow(factor, Math.max(0, n)));
  }

  /** Records a failed attempt and returns how long to wait before the next one (ms). */
  nextDelay(): number {
    const c = this.ceiling(this.failures);
    this.failures++;
    const r = Math.min(Math.max(this.random(), 0), 1);
    return Math.round(c * (1 - this.options.jitter * r));
  }

  /** The connection worked: the next failure starts from baseMs again. */
  succeeded(): void {
    this.failures = 0;
  }
}
