import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../../env';
import type { OidcProviderConfig } from '../../auth/oidc/config';
import { notFound } from '../../lib/errors';

/** How long a sign-in may take at the provider (state, nonce and verifier live this long). */
export const STATE_SECONDS = 600;
/** How long the callback's one-time code waits for its exchange: the console exchanges it at once. */
export const CODE_SECONDS = 60;
/** The browser's half of a sign-in: the raw nonce, in a cookie scoped to these routes (docs/sso.md, "Binding"). */
export const NONCE_COOKIE = 'oidc_nonce';
/** Where the callback sends a failure it cannot send to the `redirect` of its sign-in (no valid state). */
export const SIGN_IN_PAGE = '/console/sign-in';

/**
 * The codes the callback puts in `?error=` of its redirect (docs/sso.md): the console shows a message for each.
 */
export type SsoErrorCode =
  | 'invalid_state'
  | 'access_denied'
  | 'provider_error'
  | 'provider_unavailable'
  | 'id_token_invalid'
  | 'email_unverified'
  | 'domain_not_allowed'
  | 'no_account'
  | 'account_disabled';

export const ProviderParams = z.object({ id: z.string().max(32).openapi({ param: { name: 'id', in: 'path' }, example: 'google' }) });

export const ProviderList = z
  .object({ data: z.array(z.object({ id: z.string(), name: z.string() })) })
  .openapi('OidcProviderList');

/**
 * A same-origin path: one leading slash and no second one or backslash after it (`//evil.example` and `/\evil`
 * are other hosts to a browser), nothing a browser would strip or reinterpret (whitespace, control characters), no
 * fragment (the code goes in the query). Absolute URLs are refused even when they name this origin.
 */
export const RedirectPath = z
  .string()
  .max(500)
  .refine((p) => /^\/(?![/\\])[^\\\s\x00-\x1f\x7f#]*$/.test(p), 'must be a path on this origin, such as /console/')
  .openapi({ example: '/console/', description: 'Where the browser returns, on this origin' });

export const StartQuery = z.object({
  redirect: RedirectPath.default('/console/'),
  // Passed to the provider as login_hint (OpenID Connect Core §3.1.2.1): it preselects the account there.
  loginHint: z.string().min(1).max(200).optional().openapi({ description: "Passed to the provider as login_hint" }),
});

export const CallbackQuery = z.object({
  state: z.string().max(500).optional(),
  code: z.string().max(2000).optional(),
  error: z.string().max(200).optional(),
});

export const ExchangeBody = z
  .strictObject({ code: z.string().min(1).max(200).openapi({ description: 'The `code` of the callback\'s redirect' }) })
  .openapi('OidcExchangeRequest');

export function providerOf(c: Context<AppEnv>, id: string): OidcProviderConfig {
  const provider = c.var.config.OIDC_PROVIDERS.find((p) => p.id === id);
  if (!provider) throw notFound(`No single sign-on provider ${id}.`);
  return provider;
}

/** The origin sign-ins return to: APP_URL when set, else the origin the request came to (`npm run dev`). */
export const baseUrl = (c: Context<AppEnv>) => c.var.config.APP_URL ?? new URL(c.req.url).origin;

export const callbackUrl = (c: Context<AppEnv>, id: string) => `${baseUrl(c)}/v1/auth/oidc/${id}/callback`;

/** `path` on this origin with one more query parameter. */
export function withParam(c: Context<AppEnv>, path: string, name: string, value: string): string {
  const url = new URL(path, baseUrl(c));
  url.searchParams.set(name, value);
  return url.toString();
}
