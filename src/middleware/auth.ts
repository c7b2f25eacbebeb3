import { createMiddleware } from 'hono/factory';
import { verifyAccessToken } from '../auth/jwt';
import type { AppEnv } from '../env';
import { unauthorized } from '../lib/errors';

const BEARER = /^Bearer +([A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+) *$/i;

/**
 * Authenticates `Authorization: Bearer <access token>` from the token alone: no database statement.
 * Sets `caller` (user id, session id, amr). What the caller may do is decided later, by the route's guarded
 * statement (`requirePermission`, src/auth/authorize.ts), against the present state.
 */
export const auth = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header('authorization');
    if (!header) throw unauthorized('An access token is required: Authorization: Bearer <token>.');
    const match = BEARER.exec(header);
    if (!match) throw unauthorized('The Authorization header must be "Bearer <access token>".');
    try {
      c.set('caller', await verifyAccessToken(c.var.config, match[1]!));
    } catch (cause) {
      throw unauthorized('The access token is invalid or has expired.', cause);
    }
    await next();
  });
