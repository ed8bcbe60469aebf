import { type FormEvent, useState } from 'react';
import type { ConnStatus } from '../connection';
import { formatCount, formatCountdown, formatUptime } from '../format';
import { useTicker } from '../live';
import type { DashState } from '../store';
import type { Theme } from '../theme';

function statusText(conn: ConnStatus, now: number): string {
  switch (conn.state) {
    case 'live':
      return 'Live';
    case 'connecting':
      return conn.attempts > 0 ? `Reconnecting (attempt ${conn.attempts + 1})…` : 'Connecting…';
    case 'reconnecting':
    case 'unreachable':
      return `Reconnecting in ${formatCountdown((conn.retryAt ?? now) - now)}…`;
    case 'unauthorized':
      return 'Needs the admin token';
  }
}

/** Asks for the admin token when the stream refused the page with 401. */
function TokenForm({ conn, setToken }: { conn: ConnStatus; setToken: (token: string) => void }) {
  const [value, setValue] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (value.trim() !== '') setToken(value);
  };
  return (
    <form className="banner level-refusing" role="alert" data-testid="token-form" onSubmit={submit}>
      <b>This gateway needs its admin token</b> to show the live stream
      {conn.attempts > 1 ? ' (the one given was not accepted)' : ''}.{' '}
      <label>
        Admin token{' '}
        <input
          type="password"
          autoComplete="off"
          value={value}
          onChange={(e) => setValue(e.target.value)}
          data-testid="token-input"
          aria-label="Admin token"
        />
      </label>
      <button type="submit" data-testid="token-submit">
        Connect
      </button>
      <span className="muted"> Or open the page as <code>/#token=…</code>.</span>
    </form>
  );
}

export function Header({
  state,
  conn,
  retryNow,
  setToken,
  theme,
  toggleTheme,
}: {
  state: DashState;
  conn: ConnStatus;
  retryNow: () => void;
  setToken: (token: string) => void;
  theme: Theme;
  toggleTheme: () => void;
}) {
  const waiting = conn.state === 'reconnecting' || conn.state === 'unreachable';
  const now = useTicker(waiting);
  const up = state.upstream;
  return (
    <>
      <header className="top">
        <div className="brand">
          <span className="logo" aria-hidden="true">
            ≋
          </span>
          <h1>Sluice</h1>
          {state.version ? <span className="muted" data-testid="server-version">v{state.version}</span> : null}
        </div>
        <div className="meta">
          {up ? (
            <span className="chip" data-testid="upstream" title="Upstream">
              upstream: {up.kind}
              {up.model ? ` · ${up.model}` : ''}
            </span>
          ) : null}
          {state.latest ? (
            <span className="chip" data-testid="uptime" title="Server uptime">
              up {formatUptime(state.latest.uptimeSeconds)}
            </span>
          ) : null}
          {state.latest?.draining ? <span className="chip level-refusing">draining</span> : null}
          {state.droppedFrames > 0 ? (
            <span className="chip level-elevated" data-testid="dropped" data-value={state.droppedFrames} title="Frames the server skipped because this page read too slowly">
              {formatCount(state.droppedFrames)} frames dropped
            </span>
          ) : null}
        </div>
        <div className="actions">
          <span className={`conn conn-${conn.state}`} data-testid="conn-status" data-state={conn.state} role="status" aria-live="polite">
            <span className="dot" aria-hidden="true" />
            {statusText(conn, now)}
          </span>
          <button type="button" className="theme-toggle" onClick={toggleTheme} data-testid="theme-toggle" aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}>
            {theme === 'dark' ? '☀ Light' : '☾ Dark'}
          </button>
        </div>
      </header>
      {conn.state === 'unauthorized' ? (
        <TokenForm conn={conn} setToken={setToken} />
      ) : conn.state === 'unreachable' || (waiting && !conn.everConnected) ? (
        <div className="banner level-refusing" role="alert" data-testid="conn-banner">
          <b>Cannot reach the Sluice server</b> at <code>{conn.url}</code>
          {conn.lastError ? ` (${conn.lastError})` : ''}. {conn.attempts} attempt{conn.attempts === 1 ? '' : 's'} failed;{' '}
          {statusText(conn, now).toLowerCase()} {conn.everConnected ? 'The figures below are from before the connection was lost.' : ''}
          <button type="button" onClick={retryNow}>
            Retry now
          </button>
        </div>
      ) : waiting ? (
        <div className="banner level-elevated" role="status" data-testid="conn-banner">
          Connection lost ({conn.lastError ?? 'closed'}). {statusText(conn, now)} The figures below are frozen until it is back.
          <button type="button" onClick={retryNow}>
            Retry now
          </button>
        </div>
      ) : null}
    </>
  );
}
