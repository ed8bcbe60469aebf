import {
  type Drift,
  type EngineConfig,
  type LoadTest,
  type MetricsSnapshot,
  type StreamMessage,
  type Upstream,
  toMessage,
} from './protocol';
import { Series, capacityFor } from './series';

export interface DashState {
  /** Set by `hello`; null until the first hello. */
  version: string | null;
  upstream: Upstream | null;
  rateHz: number;
  config: EngineConfig | null;
  /** The newest snapshot; the displayed numbers come from its `last10s`. */
  latest: MetricsSnapshot | null;
  /**
   * Chart series. Mutated in place for speed (a 5-minute ring per series);
   * `seriesRev` changes whenever it does, so React and the charts can tell.
   */
  series: Series;
  seriesRev: number;
  loadtest: LoadTest | null;
  drift: Drift | null;
  /** Frames the server reported dropping for this client since the last hello. */
  droppedFrames: number;
  /** How many hellos have been applied (1 on the first connection, +1 per reconnect). */
  sessions: number;
}

export function initialState(rateHz = 4): DashState {
  return {
    version: null,
    upstream: null,
    rateHz,
    config: null,
    latest: null,
    series: new Series(capacityFor(rateHz)),
    seriesRev: 0,
    loadtest: null,
    drift: null,
    droppedFrames: 0,
    sessions: 0,
  };
}

/** Applies one parsed message. Returns the same object when nothing changed. */
export function applyMessage(state: DashState, msg: StreamMessage): DashState {
  switch (msg.type) {
    case 'hello': {
      // A hello starts a session from scratch (after a reconnect the server
      // may be a new process): the charts restart from its snapshot, and the
      // pages of history that follow are put in front of it. A gateway from
      // before paging sends its whole history here instead.
      const series = new Series(capacityFor(msg.rateHz));
      const history = msg.history.slice(-series.capacity);
      for (const s of history) series.append(s);
      if (msg.snapshot) series.append(msg.snapshot);
      const latest = msg.snapshot ?? (history.length > 0 ? (history[history.length - 1] as MetricsSnapshot) : null);
      return {
        ...state,
        version: msg.version,
        upstream: msg.upstream,
        rateHz: msg.rateHz,
        config: msg.config,
        latest,
        series,
        seriesRev: state.seriesRev + 1,
        droppedFrames: 0,
        sessions: state.sessions + 1,
      };
    }
    case 'history':
      return state.series.prependOlder(msg.points) > 0 ? { ...state, seriesRev: state.seriesRev + 1 } : state;
    case 'snapshot': {
      state.series.append(msg.snapshot); // handles repeats and a clock that went back
      return { ...state, latest: msg.snapshot, seriesRev: state.seriesRev + 1 };
    }
    case 'config':
      return { ...state, config: msg.config };
    case 'loadtest': {
      const { type: _t, ...lt } = msg;
      return { ...state, loadtest: lt };
    }
    case 'drift': {
      const { type: _t, ...d } = msg;
      return { ...state, drift: d };
    }
    case 'dropped':
      return msg.count > 0 ? { ...state, droppedFrames: state.droppedFrames + msg.count } : state;
  }
}

/** Reducer over raw decoded JSON: unknown or malformed messages leave the state untouched. */
export function reduce(state: DashState, raw: unknown): DashState {
  const msg = toMessage(raw);
  return msg ? applyMessage(state, msg) : state;
}
