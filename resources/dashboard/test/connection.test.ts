import { beforeEach, describe, expect, it } from 'vitest';
import { type ConnStatus, type ProbeResult, type SocketLike, StreamClient, streamUrl } from '../src/connection';
import { DEFAULT_BACKOFF, ReconnectPolicy } from '../src/reconnect';
import type { StreamMessage } from '../src/protocol';
import { helloJson, historyJson, pagedHelloJson, snapshotJson } from './fixtures';

class FakeSocket implements SocketLike {
  onopen: SocketLike['onopen'] = null;
  onmessage: SocketLike['onmessage'] = null;
  onclose: SocketLike['onclose'] = null;
  onerror: SocketLike['onerror'] = null;
  closed: { code?: number; reason?: string } | null = null;
  /** What the client sent, parsed. */
  sent: unknown[] = [];
  constructor(readonly url: string) {}
  close(code?: number, reason?: string) {
    this.closed = { code, reason };
  }
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  open() {
    this.onopen?.({});
  }
  /** A message from the server. */
  deliver(obj: unknown) {
    this.onmessage?.({ data: JSON.stringify(obj) });
  }
  drop(code = 1006) {
    this.onclose?.({ code, reason: '' });
  }
}

/** A manual clock: timers fire only when advance() passes them. */
class Clock {
  t = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private nextId = 1;
  set = (fn: () => void, ms: number) => {
    const id = this.nextId++;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  };
  clear = (h: unknown) => {
    this.timers.delete(h as number);
  };
  advance(ms: number) {
    const end = this.t + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, x]) => x.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
    }
    this.t = end;
  }
}

describe('StreamClient', () => {
  let clock: Clock;
  let sockets: FakeSocket[];
  let statuses: ConnStatus[];
  let messages: StreamMessage[];
  let client: StreamClient;
  let probes: ((r: ProbeResult) => void)[];

  beforeEach(() => {
    probes = [];
    clock = new Clock();
    sockets = [];
    statuses = [];
    messages = [];
    client = new StreamClient(
      'ws://h/api/v1/stream',
      (m) => messages.push(m),
      (s) => statuses.push(s),
      {
        createSocket: (url) => {
          const s = new FakeSocket(url);
          sockets.push(s);
          return s;
        },
        policy: new ReconnectPolicy(DEFAULT_BACKOFF, () => 0),
        setTimer: clock.set,
        clearTimer: clock.clear,
        now: () => clock.t,
        probe: () => new Promise<ProbeResult>((resolve) => probes.push(resolve)),
      },
    );
  });
  /** Lets the probe's answer reach the client (a resolved promise runs its callbacks as microtasks). */
  const settle = () => new Promise<void>((r) => setTimeout(r, 0));

  const last = () => statuses[statuses.length - 1] as ConnStatus;

  it('builds the same-origin URL', () => {
    expect(streamUrl({ protocol: 'http:', host: '127.0.0.1:8080' })).toBe('ws://127.0.0.1:8080/api/v1/stream');
    expect(streamUrl({ protocol: 'https:', host: 'sluice.example' })).toBe('wss://sluice.example/api/v1/stream');
  });

  it('is live after hello and passes messages on, dropping unknown ones', () => {
    client.start();
    expect(last().state).toBe('connecting');
    sockets[0]!.open();
    expect(last().state).toBe('connecting');
    sockets[0]!.deliver(helloJson([]));
    expect(last().state).toBe('live');
    sockets[0]!.deliver({ type: 'whatever' });
    sockets[0]!.deliver({ type: 'snapshot', snapshot: snapshotJson(1) });
    expect(messages.map((m) => m.type)).toEqual(['hello', 'snapshot']);
  });

  it('backs off 0.5, 1, 2 s while the server is down, then says unreachable', () => {
    client.start();
    sockets[0]!.drop();
    expect(last()).toMatchObject({ state: 'reconnecting', attempts: 1, retryAt: 500 });
    clock.advance(499);
    expect(sockets.length).toBe(1);
    clock.advance(1);
    expect(sockets.length).toBe(2);
    sockets[1]!.drop();
    expect(last()).toMatchObject({ state: 'reconnecting', attempts: 2, retryAt: 1500 });
    clock.advance(1000);
    sockets[2]!.drop();
    expect(last()).toMatchObject({ state: 'unreachable', attempts: 3, retryAt: 3500 });
  });

  it('resets the backoff after a hello, so the next drop waits 0.5 s again', () => {
    client.start();
    sockets[0]!.drop();
    clock.advance(500);
    sockets[1]!.drop();
    clock.advance(1000);
    sockets[2]!.open();
    sockets[2]!.deliver(helloJson([]));
    expect(last()).toMatchObject({ state: 'live', attempts: 0, everConnected: true });
    sockets[2]!.drop(1001);
    expect(last()).toMatchObject({ state: 'reconnecting', attempts: 1, lastError: 'closed (1001)' });
    expect(last().retryAt).toBe(clock.t + 500);
  });

  it('an open socket without hello does not reset the backoff', () => {
    client.start();
    sockets[0]!.drop();
    clock.advance(500);
    sockets[1]!.open();
    sockets[1]!.drop();
    expect(last().attempts).toBe(2);
    expect(last().retryAt).toBe(clock.t + 1000);
  });

  it('closes a silent connection and reconnects', () => {
    client.start();
    sockets[0]!.open();
    sockets[0]!.deliver(helloJson([], 4));
    clock.advance(9_999);
    expect(sockets[0]!.closed).toBeNull();
    clock.advance(1);
    expect(sockets[0]!.closed?.code).toBe(4000);
    expect(last()).toMatchObject({ state: 'reconnecting', lastError: 'no data from the server' });
  });

  it('retryNow skips the wait; stop cancels everything', () => {
    client.start();
    sockets[0]!.drop();
    client.retryNow();
    expect(sockets.length).toBe(2);
    client.stop();
    expect(sockets[1]!.closed?.code).toBe(1000);
    clock.advance(60_000);
    expect(sockets.length).toBe(2);
  });

  const T = 1_700_000_000_000;

  it('pages the history back after a hello, one request at a time, until there is no more', () => {
    client.start();
    sockets[0]!.open();
    sockets[0]!.deliver(pagedHelloJson(snapshotJson(T), 400, 4));
    // 5 minutes at 4 Hz is 1200 points; the hello brought one.
    expect(sockets[0]!.sent).toEqual([{ type: 'history', before: T, limit: 1000 }]);
    sockets[0]!.deliver({ type: 'snapshot', snapshot: snapshotJson(T + 250) });
    sockets[0]!.deliver(historyJson(T, [T - 750, T - 500, T - 250], true));
    expect(sockets[0]!.sent[1]).toEqual({ type: 'history', before: T - 750, limit: 1000 });
    sockets[0]!.deliver(historyJson(T - 750, [T - 1000], false));
    expect(sockets[0]!.sent.length).toBe(2);
    expect(messages.map((m) => m.type)).toEqual(['hello', 'snapshot', 'history', 'history']);
  });

  it('stops paging once the charts are full', () => {
    client.start();
    sockets[0]!.deliver(pagedHelloJson(snapshotJson(T), 7000, 0.2)); // 60 points at 0.2 Hz
    expect(sockets[0]!.sent).toEqual([{ type: 'history', before: T, limit: 59 }]);
    sockets[0]!.deliver(historyJson(T, Array.from({ length: 59 }, (_, i) => T - (59 - i) * 5000), true));
    expect(sockets[0]!.sent.length).toBe(1);
  });

  it('asks nothing after a hello with its history inside (an older gateway) or with none held', () => {
    client.start();
    sockets[0]!.deliver(helloJson([snapshotJson(T - 250), snapshotJson(T)]));
    sockets[0]!.deliver(pagedHelloJson(snapshotJson(T), 1));
    sockets[0]!.deliver(pagedHelloJson(null, 0));
    expect(sockets[0]!.sent).toEqual([]);
  });

  it('a page it did not ask for is passed on but asks nothing more', () => {
    client.start();
    sockets[0]!.deliver(pagedHelloJson(snapshotJson(T), 100));
    sockets[0]!.deliver(historyJson(T - 5000, [T - 6000], true));
    expect(sockets[0]!.sent.length).toBe(1);
    expect(messages.map((m) => m.type)).toEqual(['hello', 'history']);
  });

  it('a refused connection asks the probe; 401 stops retrying until retryNow', async () => {
    client.start();
    sockets[0]!.drop();
    expect(probes.length).toBe(1);
    probes[0]!({ status: 401, message: 'GET /api/v1/stream needs the admin token' });
    await settle();
    expect(last()).toMatchObject({ state: 'unauthorized', retryAt: null, lastError: 'GET /api/v1/stream needs the admin token' });
    clock.advance(120_000);
    expect(sockets.length).toBe(1);
    client.retryNow(); // the page got a token
    expect(sockets.length).toBe(2);
    sockets[1]!.deliver(pagedHelloJson(snapshotJson(T), 1));
    expect(last().state).toBe('live');
  });

  it('426 from the probe (the request was fine) or no answer keeps the backoff going', async () => {
    client.start();
    sockets[0]!.drop();
    probes[0]!({ status: 426, message: 'send Upgrade: websocket' });
    await settle();
    expect(last()).toMatchObject({ state: 'reconnecting', lastError: 'connection failed or lost' });
    clock.advance(500);
    sockets[1]!.drop();
    probes[1]!(null);
    await settle();
    expect(last().state).toBe('reconnecting');
    clock.advance(1000);
    expect(sockets.length).toBe(3);
  });

  it('another refusal is shown; a late probe answer is ignored; a drop after hello is not probed', async () => {
    client.start();
    sockets[0]!.drop();
    probes[0]!({ status: 404, message: 'the stream is off' });
    await settle();
    expect(last()).toMatchObject({ state: 'reconnecting', lastError: '404: the stream is off' });
    clock.advance(500);
    sockets[1]!.drop();
    clock.advance(1000); // the next attempt starts before the probe answers
    probes[1]!({ status: 401, message: 'token' });
    await settle();
    expect(last().state).toBe('connecting');
    sockets[2]!.deliver(pagedHelloJson(snapshotJson(T), 1));
    sockets[2]!.drop(1001);
    expect(probes.length).toBe(2);
  });
});
