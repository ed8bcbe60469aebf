import { type HistoryPage, type MetricsSnapshot, historyRequest } from './protocol';

/** The most points one request asks for (the server's own cap; its 64 KiB bound usually ends a page first). */
export const HISTORY_PAGE_LIMIT = 1000;

/**
 * Pages the server's history back from a `hello` (PROTOCOL.md, `history`):
 * one request at a time, each for the page before the oldest point so far,
 * until the server has no more or `wanted` points have come. Says which
 * request to send; the socket is the caller's. Not re-entrant.
 */
export class HistoryPager {
  private received = 0;
  /** `before` of the request in flight (null: from the newest); undefined when none is. */
  private inFlight: number | null | undefined = undefined;

  constructor(private readonly wanted: number) {}

  /** The first request after `hello`, or null: nothing to page (none held, or an older gateway sent it in hello). */
  start(hello: { snapshot: MetricsSnapshot | null; historyPoints: number; history: MetricsSnapshot[] }): string | null {
    const older = hello.historyPoints - (hello.snapshot ? 1 : 0);
    if (hello.history.length > 0 || older <= 0 || this.wanted <= 0) return null;
    return this.request(hello.snapshot ? hello.snapshot.timestampMs : null);
  }

  /** After a page arrived: the next request, or null when done (or when the page is not the one asked for). */
  next(page: HistoryPage): string | null {
    if (this.inFlight === undefined || page.before !== this.inFlight) return null;
    this.inFlight = undefined;
    this.received += page.points.length;
    const oldest = page.points[0];
    if (!page.more || oldest === undefined || this.received >= this.wanted) return null;
    return this.request(oldest.timestampMs);
  }

  /** No request is in flight and none will be sent. */
  get idle(): boolean {
    return this.inFlight === undefined;
  }

  private request(before: number | null): string {
    this.inFlight = before;
    return historyRequest(before, Math.min(HISTORY_PAGE_LIMIT, this.wanted - this.received));
  }
}
