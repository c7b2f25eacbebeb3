/**
 * A browser's part of a single sign-on, done with plain requests: start at the Worker, follow the provider's
 * redirects (keeping its cookies, as a browser would) up to the Worker's callback, and call the callback with the
 * binding cookie the start set. The providers are those of test/oidc-setup.ts.
 */
import { expect } from 'vitest';
import type { CallResult, Harness } from './harness';

export interface Started {
  start: CallResult;
  /** The provider's authorization URL (the start's Location). */
  authorize: URL;
  /** `oidc_nonce=<value>`, as the browser would send it back. */
  cookie: string;
}

export async function startSignIn(h: Harness, provider: string, options: { redirect?: string; loginHint?: string } = {}): Promise<Started> {
  const query = new URLSearchParams();
  if (options.redirect !== undefined) query.set('redirect', options.redirect);
  if (options.loginHint !== undefined) query.set('loginHint', options.loginHint);
  const start = await h.call('GET', `/v1/auth/oidc/${provider}/start?${query}`);
  expect(start.status, start.text).toBe(302);
  const setCookie = start.headers.get('set-cookie') ?? '';
  const cookie = /oidc_nonce=[^;]+/.exec(setCookie)?.[0];
  expect(cookie, setCookie).toBeDefined();
  return { start, authorize: new URL(start.headers.get('location')!), cookie: cookie! };
}

/** Follows the provider's redirects until one leads back to the Worker (host api.test); returns that URL. */
export async function atProvider(authorize: URL): Promise<URL> {
  const jar = new Map<string, string>();
  let url = authorize;
  for (let hop = 0; hop < 10; hop++) {
    if (url.host === 'api.test') return url;
    const res = await fetch(url, { redirect: 'manual', headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } });
    for (const line of (res.headers as unknown as { getSetCookie(): string[] }).getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      jar.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
    const location = res.headers.get('location');
    if (!location) throw new Error(`the provider answered ${res.status} without a redirect: ${(await res.text()).slice(0, 300)}`);
    await res.body?.cancel();
    url = new URL(location, url);
  }
  throw new Error('too many redirects at the provider');
}

/** The Worker's callback for `url` (the provider's redirect), with the browser's cookie. */
export function callback(h: Harness, url: URL, cookie: string | undefined): Promise<CallResult> {
  return h.call('GET', url.pathname + url.search, cookie ? { headers: { cookie } } : {});
}

/** Where a callback sent the browser, and the `code` or `error` it carries. */
export function landing(res: CallResult) {
  expect(res.status, res.text).toBe(302);
  const to = new URL(res.headers.get('location')!);
  return { to, code: to.searchParams.get('code'), error: to.searchParams.get('error') };
}

/** A whole sign-in up to the callback's answer (as `email`, through `login_hint`). */
export async function signInThrough(h: Harness, provider: string, email: string, options: { redirect?: string } = {}) {
  const started = await startSignIn(h, provider, { ...options, loginHint: email });
  const back = await atProvider(started.authorize);
  const res = await callback(h, back, started.cookie);
  return { started, back, res, ...landing(res) };
}
