import { HistoryPager } from './history';
import { type StreamMessage, parseMessage } from './protocol';
import { ReconnectPolicy } from './reconnect';
import { capacityFor } from './series';

/**
 * What the header shows:
 * - connecting: a socket is being opened (or is open and the hello has not come yet)
 * - live: the hello arrived; messages are flowing
 * - reconnecting: the last attempt failed; the next one is at `retryAt`
 * - unreachable: as reconnecting, after several failures in a row
 * - unauthorized: the gateway wants its admin token (the probe said 401); no
 *   retry until retryNow() (after the page got a token)
 */
export type ConnState = 'connecting' | 'live' | 'reconnecting' | 'unreachable' | 'unauthorized';

export interface ConnStatus {
  state: ConnState;
  url: string;
  /** Consecutive failed attempts since the last good connection. */
  attempts: number;
  /** When the next attempt starts (ms, same clock as `now`), while reconnecting. */
  retryAt: number | null;
  /** Why the last connection ended, for the banner. */
  lastError: string | null;
  /** A connection has been live at least once since the page loaded. */
  everConnected: boolean;
}

export interface SocketLike {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string; wasClean?: boolean }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** What a plain GET of the stream's URL answered (the refusal's status and message), or null when it failed. */
export type ProbeResult = { status: number; message: string } | null;

export interface StreamClientDeps {
  createSocket: (url: string) => SocketLike;
  policy: ReconnectPolicy;
  setTimer: (fn: () => void, ms: number) => unknown;
  clearTimer: (handle: unknown) => void;
  now: () => number;
  /**
   * Asks the stream's URL over plain HTTP why a connection failed before its
   * hello (a browser does not tell a WebSocket's HTTP status): 401 means the
   * token is missing or wrong, 426 that the request itself would do.
   */
  probe?: () => Promise<ProbeResult>;
}

export interface StreamClientOptions {
  /** Close and reconnect when nothing arrives for this long (ms) while connected. */
  silenceMs: (rateHz: number) => number;
}

export const DEFAULT_CLIENT_OPTIONS: StreamClientOptions = {
  silenceMs: (rateHz) => Math.max(10_000, 3000 / rateHz),
};

/** The stream's URL for a page at `location`: same origin, ws or wss to match http or https. */
export function streamUrl(loc: { protocol: string; host: string }, path = '/api/v1/stream'): string {
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}${path}`;
}

/**
 * Keeps one WebSocket to the stream open, reconnecting with the policy's
 * backoff, and pages the history in after each hello (HistoryPager).
 * Messages are parsed with the tolerant parser; unknown ones are dropped
 * here. Thread: the page's event loop; not re-entrant.
 */
export class StreamClient {
  private socket: SocketLike | null = null;
  private timer: unknown = null;
  private watchdog: unknown = null;
  private rateHz = 4;
  private stopped = false;
  private pager: HistoryPager | null = null;
  /** Counts connect() calls, so a late probe answer can tell it is stale. */
  private attempt = 0;
  private status: ConnStatus;

  constructor(
    url: string,
    private readonly onMessage: (m: StreamMessage) => void,
    private readonly onStatus: (s: ConnStatus) => void,
    private readonly deps: StreamClientDeps,
    private readonly options: StreamClientOptions = DEFAULT_CLIENT_OPTIONS,
  ) {
    this.status = { state: 'connecting', url, attempts: 0, retryAt: null, lastError: null, everConnected: false };
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
    const s = this.socket;
    this.socket = null;
    if (s) {
      s.onopen = s.onmessage = s.onclose = s.onerror = null;
      s.close(1000, 'page closed');
    }
  }

  /** Skips the wait: tries now (the banner's "Retry now"). */
  retryNow(): void {
    if (this.stopped || this.socket) return;
    this.clearTimers();
    this.connect();
  }

  private setStatus(patch: Partial<ConnStatus>): void {
    this.status = { ...this.status, ...patch };
    this.onStatus(this.status);
  }

  private clearTimers(): void {
    if (this.timer !== null) this.deps.clearTimer(this.timer);
    if (this.watchdog !== null) this.deps.clearTimer(this.watchdog);
    this.timer = this.watchdog = null;
  }

  private armWatchdog(): void {
    if (this.watchdog !== null) this.deps.clearTimer(this.watchdog);
    this.watchdog = this.deps.setTimer(() => {
      this.watchdog = null;
      this.fail('no data from the server', true);
    }, this.options.silenceMs(this.rateHz));
  }

  private connect(): void {
    this.attempt++;
    this.pager = null;
    this.setStatus({ state: 'connecting', retryAt: null });
    let s: SocketLike;
    try {
      s = this.deps.createSocket(this.status.url);
    } catch (e) {
      this.socket = null;
      this.scheduleRetry(e instanceof Error ? e.message : String(e));
      return;
    }
    this.socket = s;
    s.onopen = () => this.armWatchdog();
    s.onmessage = (ev) => {
      if (this.socket !== s) return;
      this.armWatchdog();
      if (typeof ev.data !== 'string') return;
      const msg = parseMessage(ev.data);
      if (!msg) return;
      let request: string | null = null;
      if (msg.type === 'hello') {
        this.rateHz = msg.rateHz;
        this.deps.policy.succeeded();
        this.setStatus({ state: 'live', attempts: 0, lastError: null, everConnected: true });
        // The hello's snapshot is one point; the pages fill the rest of the charts.
        this.pager = new HistoryPager(capacityFor(msg.rateHz) - 1);
        request = this.pager.start(msg);
      } else if (msg.type === 'history') {
        request = this.pager?.next(msg) ?? null;
      }
      this.onMessage(msg);
      if (request !== null && this.socket === s) s.send(request);
    };
    // A failed connect fires error then close; handle close only.
    s.onerror = () => {};
    s.onclose = (ev) => {
      if (this.socket !== s) return;
      const why = ev.code === 1006 ? 'connection failed or lost' : `closed (${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`;
      const refused = this.status.state === 'connecting';
      this.fail(why, false);
      if (refused) this.probe();
    };
  }

  /** After a connection failed before its hello: asks why, and stops retrying on 401. */
  private probe(): void {
    const probe = this.deps.probe;
    if (!probe) return;
    const attempt = this.attempt;
    void probe().then((r) => {
      if (!r || this.stopped || this.socket !== null || this.attempt !== attempt) return;
      if (r.status === 401) {
        this.clearTimers();
        this.setStatus({ state: 'unauthorized', retryAt: null, lastError: r.message || 'the gateway needs its admin token' });
      } else if (r.status !== 426) {
        this.setStatus({ lastError: `${r.status}${r.message ? `: ${r.message}` : ''}` });
      }
    });
  }

  private fail(reason: string, closeSocket: boolean): void {
    const s = this.socket;
    this.socket = null;
    if (s) {
      s.onopen = s.onmessage = s.onclose = s.onerror = null;
      if (closeSocket) s.close(4000, reason);
    }
    if (this.stopped) return;
    this.scheduleRetry(reason);
  }

  private scheduleRetry(reason: string): void {
    this.clearTimers();
    const delay = this.deps.policy.nextDelay();
    const policy = this.deps.policy;
    this.setStatus({
      state: policy.unreachable ? 'unreachable' : 'reconnecting',
      attempts: policy.attempts,
      retryAt: this.deps.now() + delay,
      lastError: reason,
    });
    this.timer = this.deps.setTimer(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }
}
