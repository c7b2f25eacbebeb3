import { createMiddleware } from 'hono/factory';
import type { Context } from 'hono';
import { apiKeyHash, looksLikeApiKey } from '../auth/api-keys';
import { checkCaller } from '../auth/authorize';
import { verifyAccessToken } from '../auth/jwt';
import type { AppEnv } from '../env';
import { forbidden, tooManyRequests, unauthorized } from '../lib/errors';
import { WINDOW_SECONDS } from './rate-limit';

const BEARER = /^Bearer +([A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+) *$/i;
const BEARER_KEY = /^Bearer +(\S+) *$/i;

/** The API key in `Authorization: Bearer dak_…`, or undefined when the header carries something else. */
function bearerKey(c: Context<AppEnv>): string | undefined {
  const key = BEARER_KEY.exec(c.req.header('authorization') ?? '')?.[1];
  return key !== undefined && looksLikeApiKey(key) ? key : undefined;
}

/**
 * Sets `caller` for a personal API key (§16): its format and checksum are checked here, so a mistyped key is a 401
 * without any database statement; the key itself is looked up by the route's guarded statement (its hash only).
 * With Cloudflare's Rate Limiting binding the key's requests are counted at the edge here; without it the guarded
 * statement counts them (src/auth/api-key-check.ts).
 */
async function authenticateKey(c: Context<AppEnv>, key: string): Promise<void> {
  const hash = await apiKeyHash(key);
  if (!hash) throw unauthorized('The API key is malformed or mistyped (its checksum does not match).');
  const limiter = c.env.API_KEY_RATE_LIMITER;
  if (limiter && !(await limiter.limit({ key: `api_key:${hash.slice(0, 32)}` })).success) {
    throw tooManyRequests(WINDOW_SECONDS, 'Too many requests with this API key; try again later.');
  }
  c.set('caller', { id: 0, sid: '', amr: [], apiKey: { hash } });
}

/**
 * Authenticates `Authorization: Bearer <access token>` from the token alone, or `Bearer <API key>` from its format:
 * no database statement. Sets `caller` (user id, session id, amr; or the key's hash). What the caller may do is
 * decided later, by the route's guarded statement (`requirePermission`, src/auth/authorize.ts), against the present state.
 */
export const auth = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header('authorization');
    if (!header) throw unauthorized('An access token is required: Authorization: Bearer <token>.');
    const key = bearerKey(c);
    if (key !== undefined) {
      await authenticateKey(c, key);
      return next();
    }
    const match = BEARER.exec(header);
    if (!match) throw unauthorized('The Authorization header must be "Bearer <access token>".');
    try {
      c.set('caller', await verifyAccessToken(c.var.config, match[1]!));
    } catch (cause) {
      throw unauthorized('The access token is invalid or has expired.', cause);
    }
    await next();
  });

/**
 * Refuses a request made with an API key (403): what a key may never reach (§16: /v1/me…, /v1/auth/…, API-key
 * management, dashboards' edits), whatever its permissions. Mount it where the caller is authenticated (after
 * `auth()`), or on a public route, where it reads the header itself. A dead key is still told it is dead (401, one
 * guarded statement, as everywhere: 401 before 403); a request with a token or without credentials passes untouched.
 */
export const refuseApiKeys = (what = 'do this') =>
  createMiddleware<AppEnv>(async (c, next) => {
    if (!c.get('caller')) {
      const key = bearerKey(c);
      if (key === undefined) return next();
      await authenticateKey(c, key);
    }
    if (!c.var.caller.apiKey) return next();
    if (!c.get('authz')) c.set('authz', { permission: null, pending: true, guarded: 0 });
    if (c.var.authz.pending) await checkCaller(c);
    throw forbidden(`An API key cannot ${what}: this needs the person, signed in.`);
  });
