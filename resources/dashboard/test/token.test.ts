import { describe, expect, it } from 'vitest';
import { type TokenEnv, loadToken, saveToken, tokenCookie } from '../src/token';

function env(hash: string, stored: string | null = null) {
  const store = new Map<string, string>(stored === null ? [] : [['sluice.adminToken', stored]]);
  const urls: string[] = [];
  const e: TokenEnv = {
    location: { hash, pathname: '/', search: '?theme=dark' },
    storage: {
      getItem: (k) => store.get(k) ?? null,
      setItem: (k, v) => void store.set(k, v),
      removeItem: (k) => void store.delete(k),
    },
    replaceUrl: (u) => void urls.push(u),
  };
  return { e, store, urls };
}

describe('admin token', () => {
  it('comes from #token=…, is kept for the tab and removed from the address bar', () => {
    const { e, store, urls } = env('#token=s3%20cret&x=1');
    expect(loadToken(e)).toBe('s3 cret');
    expect(store.get('sluice.adminToken')).toBe('s3 cret');
    expect(urls).toEqual(['/?theme=dark#x=1']);
  });

  it('else comes from what the tab kept; else there is none', () => {
    expect(loadToken(env('', 'kept').e)).toBe('kept');
    const { e, urls } = env('#other');
    expect(loadToken(e)).toBeNull();
    expect(urls).toEqual([]);
  });

  it('an empty #token= forgets the kept one', () => {
    const { e, store } = env('#token=', 'kept');
    expect(loadToken(e)).toBeNull();
    expect(store.has('sluice.adminToken')).toBe(false);
    saveToken(e, 'typed');
    expect(store.get('sluice.adminToken')).toBe('typed');
  });

  it('is presented in a cookie for the stream path only, never cross-site, Secure over wss', () => {
    expect(tokenCookie('a b;c', 'ws://127.0.0.1:8080/api/v1/stream')).toBe(
      'sluice_token=a%20b%3Bc; Path=/api/v1/stream; SameSite=Strict',
    );
    expect(tokenCookie('t', 'wss://sluice.example/gw/api/v1/stream')).toBe(
      'sluice_token=t; Path=/gw/api/v1/stream; SameSite=Strict; Secure',
    );
  });
});
