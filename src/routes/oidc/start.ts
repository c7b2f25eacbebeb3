import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { setCookie } from 'hono/cookie';
import { newAuthorization, OidcError } from '../../auth/oidc/client';
import type { AppEnv } from '../../env';
import { problems } from '../../lib/openapi';
import { sha256Hex } from '../../lib/sql';
import { rateLimit } from '../../middleware/rate-limit';
import { callbackUrl, NONCE_COOKIE, ProviderParams, providerOf, StartQuery, STATE_SECONDS, withParam } from './schema';

export const start = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'get',
    path: '/{id}/start',
    tags: ['Single sign-on'],
    summary: 'Start a sign-in with an OpenID provider (browser navigation)',
    description:
      'Redirects (302) to the provider: authorization code flow with PKCE S256, a `state` and a `nonce` that work ' +
      'once, for 10 minutes. Sets a cookie scoped to /v1/auth/oidc/ holding the nonce, which binds the sign-in to ' +
      'this browser (it authenticates nothing). `redirect` must be a path on this origin; when the provider cannot ' +
      'be reached the browser is sent there with `?error=provider_unavailable`.',
    middleware: [rateLimit('oidc')] as const,
    request: { params: ProviderParams, query: StartQuery },
    responses: {
      302: { description: 'To the provider (Location), or back to `redirect` with `?error=`' },
      ...problems(404, 422, 429),
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const { redirect, loginHint } = c.req.valid('query');
    const provider = providerOf(c, id);
    const redirectUri = callbackUrl(c, id);
    let auth: Awaited<ReturnType<typeof newAuthorization>>;
    try {
      auth = await newAuthorization(provider, redirectUri);
    } catch (error) {
      if (!(error instanceof OidcError)) throw error;
      console.error(JSON.stringify({ level: 'warn', msg: 'oidc start failed', provider: id, requestId: c.get('requestId'), error: String(error.cause ?? error) }));
      return c.redirect(withParam(c, redirect, 'error', error.code), 302);
    }
    if (loginHint) auth.url.searchParams.set('login_hint', loginHint);
    // One statement: the sign-in's row, and a few expired ones of abandoned sign-ins removed on the way.
    await c.var.db.execute(sql`
      with purge as (
        delete from oidc_states where state_hash = any (array(select state_hash from oidc_states where expires_at < now() limit 10))
      )
      insert into oidc_states (state_hash, nonce_hash, provider, code_verifier, redirect_uri, return_to, expires_at)
      values (decode(${await sha256Hex(auth.state)}, 'hex'), decode(${await sha256Hex(auth.nonce)}, 'hex'), ${id},
        ${auth.codeVerifier}, ${redirectUri}, ${redirect}, now() + make_interval(secs => ${STATE_SECONDS}))`);
    setCookie(c, NONCE_COOKIE, auth.nonce, {
      path: '/v1/auth/oidc/',
      httpOnly: true,
      // Lax: sent on the provider's top-level redirect back to the callback, not on cross-site subrequests.
      sameSite: 'Lax',
      secure: new URL(redirectUri).protocol === 'https:',
      maxAge: STATE_SECONDS,
    });
    return c.redirect(auth.url.toString(), 302);
  },
);
