import { hc, type ClientResponse } from 'hono/client';
import type { AppType } from '../../src/index';
import { Problem, problemOf } from './problem';
import { session } from './session';

type Pair = { accessToken: string; refreshToken: string };

let refreshing: Promise<boolean> | null = null;
let onSignedOut: () => void = () => {};

/** Called when the session cannot be renewed (refresh refused): the app goes back to the sign-in page. */
export const whenSignedOut = (handler: () => void) => (onSignedOut = handler);

/** One refresh at a time: concurrent 401s wait for the same rotation instead of presenting a rotated token. */
export function renew(): Promise<boolean> {
  const refreshToken = session.refresh();
  if (!refreshToken) return Promise.resolve(false);
  refreshing ??= fetch('/v1/auth/refresh', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refreshToken }),
  })
    .then(async (res) => {
      if (!res.ok) {
        if (res.status === 401) session.clear();
        return false;
      }
      session.store((await res.json()) as Pair);
      return true;
    })
    .catch(() => false)
    .finally(() => (refreshing = null));
  return refreshing;
}

const withToken = (init: RequestInit | undefined) => {
  const headers = new Headers(init?.headers);
  const token = session.access();
  if (token) headers.set('authorization', `Bearer ${token}`);
  return { ...init, headers };
};

/** Same-origin fetch with the access token; an expired one is renewed once and the request sent again. */
async function authedFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const res = await fetch(input, withToken(init));
  const path = new URL(typeof input === 'string' || input instanceof URL ? input : input.url, location.origin).pathname;
  if (res.status !== 401 || path.startsWith('/v1/auth/') || !session.refresh()) return res;
  if (await renew()) return fetch(input, withToken(init));
  session.clear();
  onSignedOut();
  return res;
}

/** The API, typed from its own routes (AppType): a change of a route's input or output breaks the console's build. */
export const api = hc<AppType>(location.origin, { fetch: authedFetch });

type Success<R> = R extends ClientResponse<infer T, infer S, infer _F> ? (S extends 200 | 201 | 202 ? T : never) : never;

/** The body of a successful answer; a problem+json (or no answer at all) is thrown as a Problem. */
export async function data<R extends ClientResponse<unknown, number, string>>(call: Promise<R>): Promise<Success<R>> {
  let res: R;
  try {
    res = await call;
  } catch {
    throw new Problem(0, '');
  }
  if (!res.ok) throw await problemOf(res as unknown as Response);
  return (await res.json()) as Success<R>;
}

/** For answers without a body (204, or 202 with one the page does not need). */
export async function done(call: Promise<ClientResponse<unknown, number, string>>): Promise<void> {
  let res: ClientResponse<unknown, number, string>;
  try {
    res = await call;
  } catch {
    throw new Problem(0, '');
  }
  if (!res.ok) throw await problemOf(res as unknown as Response);
}

/** A CSV export: fetched with the token (a plain link could not carry it), then saved as a file. */
export async function download(url: string, filename: string): Promise<void> {
  const res = await authedFetch(url);
  if (!res.ok) throw await problemOf(res);
  const link = document.createElement('a');
  link.href = URL.createObjectURL(await res.blob());
  link.download = filename;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}
