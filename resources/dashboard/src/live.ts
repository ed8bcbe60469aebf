import { useEffect, useState, useSyncExternalStore } from 'react';
import { type ConnStatus, type ProbeResult, type SocketLike, StreamClient, streamUrl } from './connection';
import { ReconnectPolicy } from './reconnect';
import { type DashState, applyMessage, initialState } from './store';
import { type TokenEnv, loadToken, saveToken, tokenCookie } from './token';

const tokenEnv: TokenEnv = {
  location: window.location,
  storage: (() => {
    try {
      return window.sessionStorage;
    } catch {
      return null;
    }
  })(),
  replaceUrl: (url) => window.history.replaceState(window.history.state, '', url),
};

/** GET of the stream's URL without the upgrade: the status and message of the gateway's answer. */
async function probeStream(url: string): Promise<ProbeResult> {
  try {
    const r = await fetch(url.replace(/^ws/, 'http'), { cache: 'no-store', credentials: 'same-origin' });
    let message = '';
    try {
      const body = (await r.json()) as { error?: { message?: unknown } };
      if (typeof body.error?.message === 'string') message = body.error.message;
    } catch {
      // not the gateway's envelope
    }
    return { status: r.status, message };
  } catch {
    return null; // unreachable: the socket's failure says as much
  }
}

/**
 * The page's one stream connection and the state it feeds. Kept outside
 * React (not useReducer): the series rings are mutated in place, and React's
 * development double-invocation of reducers would append every point twice.
 */
class LiveStore {
  private state: DashState = initialState();
  private conn: ConnStatus;
  private listeners = new Set<() => void>();
  private client: StreamClient;
  private users = 0;
  private token: string | null = loadToken(tokenEnv);

  constructor(url: string) {
    this.client = new StreamClient(
      url,
      (m) => {
        this.state = applyMessage(this.state, m);
        this.emit();
      },
      (s) => {
        this.conn = s;
        this.emit();
      },
      {
        createSocket: (u) => {
          // Set again before each connect: another gateway's dashboard on
          // this host (cookies ignore the port) may have set its own.
          if (this.token !== null) document.cookie = tokenCookie(this.token, u);
          // WebSocket's handler types are narrower than SocketLike's; the shapes match.
          return new WebSocket(u) as unknown as SocketLike;
        },
        policy: new ReconnectPolicy(),
        setTimer: (fn, ms) => window.setTimeout(fn, ms),
        clearTimer: (h) => window.clearTimeout(h as number),
        now: () => Date.now(),
        probe: () => probeStream(url),
      },
    );
    this.conn = { state: 'connecting', url, attempts: 0, retryAt: null, lastError: null, everConnected: false };
  }

  private emit(): void {
    for (const l of this.listeners) l();
  }

  subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l);
    if (this.users++ === 0) this.client.start();
    return () => {
      this.listeners.delete(l);
      if (--this.users === 0) this.client.stop();
    };
  };

  getState = (): DashState => this.state;
  getConn = (): ConnStatus => this.conn;
  retryNow = (): void => this.client.retryNow();
  /** The token the user typed: kept for this tab, and tried at once (on a new connection). */
  setToken = (token: string): void => {
    this.token = token.trim() === '' ? null : token.trim();
    saveToken(tokenEnv, this.token);
    this.client.stop();
    this.client.start();
  };
}

function defaultUrl(): string {
  // ?stream=ws://host:port/api/v1/stream points a dev build elsewhere.
  const override = new URLSearchParams(window.location.search).get('stream');
  return override ?? streamUrl(window.location);
}

let store: LiveStore | null = null;
function getStore(): LiveStore {
  store ??= new LiveStore(defaultUrl());
  return store;
}

export function useLive(): { state: DashState; conn: ConnStatus; retryNow: () => void; setToken: (token: string) => void } {
  const s = getStore();
  const state = useSyncExternalStore(s.subscribe, s.getState);
  const conn = useSyncExternalStore(s.subscribe, s.getConn);
  return { state, conn, retryNow: s.retryNow, setToken: s.setToken };
}

/** Re-renders every `ms` while `active`, for countdowns. */
export function useTicker(active: boolean, ms = 250): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const id = window.setInterval(() => setNow(Date.now()), ms);
    return () => window.clearInterval(id);
  }, [active, ms]);
  return now;
}
