// The admin token, for a gateway that has one (PROTOCOL.md, "Connection").
//
// A page cannot set headers on a WebSocket, so the dashboard presents the
// token in the `sluice_token` cookie, scoped to the stream's path, which it
// sets just before each connect. It gets the token from the page's fragment
// (`http://host:port/#token=…`: a fragment never leaves the browser) or,
// when the stream refuses it, from a prompt; either is kept in
// sessionStorage (this tab only) and the fragment is removed from the
// address bar, so the token is not bookmarked or shared with the URL.

export const TOKEN_COOKIE = 'sluice_token';
const STORAGE_KEY = 'sluice.adminToken';

export interface TokenEnv {
  location: { hash: string; pathname: string; search: string };
  storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | null;
  replaceUrl: (url: string) => void;
}

/** The page's token: from `#token=…` (then stored and removed from the URL), else the stored one, else null. */
export function loadToken(env: TokenEnv): string | null {
  const hash = env.location.hash.startsWith('#') ? env.location.hash.slice(1) : env.location.hash;
  const params = new URLSearchParams(hash);
  const fromUrl = params.get('token');
  if (fromUrl !== null) {
    params.delete('token');
    const rest = params.toString();
    env.replaceUrl(`${env.location.pathname}${env.location.search}${rest ? `#${rest}` : ''}`);
    saveToken(env, fromUrl);
    return fromUrl === '' ? null : fromUrl;
  }
  try {
    const stored = env.storage?.getItem(STORAGE_KEY) ?? null;
    return stored === '' ? null : stored;
  } catch {
    return null; // storage disabled
  }
}

export function saveToken(env: Pick<TokenEnv, 'storage'>, token: string | null): void {
  try {
    if (token) env.storage?.setItem(STORAGE_KEY, token);
    else env.storage?.removeItem(STORAGE_KEY);
  } catch {
    // storage disabled: the token lasts as long as the page
  }
}

/**
 * The `document.cookie` assignment that presents `token` to the stream at
 * `streamUrl` (ws:// or wss://): only to that path, never cross-site, only
 * over TLS when the stream is. A session cookie (no expiry).
 */
export function tokenCookie(token: string, streamUrl: string): string {
  const u = new URL(streamUrl);
  return `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=${u.pathname}; SameSite=Strict${u.protocol === 'wss:' ? '; Secure' : ''}`;
}
