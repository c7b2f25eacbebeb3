import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { newRefreshToken, tokenPair } from '../../auth/tokens';
import type { AppEnv } from '../../env';
import { rateLimit } from '../../middleware/rate-limit';
import { auditInsert, origin } from '../../lib/audit';
import { unauthorized } from '../../lib/errors';
import { jsonBody, jsonResponse, problems } from '../../lib/openapi';
import { sha256Hex, userJson } from '../../lib/sql';
import type { UserJson } from '../../lib/user';
import { RefreshBody, TokenPair } from './schema';

export const refresh = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'post',
    path: '/refresh',
    tags: ['Auth'],
    summary: 'Rotate a refresh token into a new token pair',
    description:
      'Each refresh token works once. Presenting one that was already rotated, also by a request racing the one ' +
      'that rotated it, is treated as theft: 401, and the whole session (every token of that login) is revoked.',
    middleware: [rateLimit('refresh')] as const,
    request: { body: jsonBody(RefreshBody) },
    responses: {
      200: jsonResponse(TokenPair, 'A new token pair; the presented refresh token no longer works'),
      ...problems(400, 401, 413, 415, 422),
    },
  }),
  async (c) => {
    const { refreshToken } = c.req.valid('json');
    const config = c.var.config;
    const presented = await sha256Hex(refreshToken);
    const next = await newRefreshToken();
    const { ip, userAgent } = origin(c);
    // One statement. `rotated` marks the token used only if it is still unused: under concurrency the row lock
    // lets exactly one request through; the others re-check and find it used. Any second presentation is reuse —
    // one that was used before this statement began, and one that lost that race (live and unused in this
    // statement's snapshot, yet not rotated by it) — so the session is revoked (the winner's new tokens with it)
    // and audited.
    const result = await c.var.db.execute<{ sid: string | null; amr: string[] | null; user: UserJson | null }>(sql`
      with presented as (
        select t.session_id, t.used_at, s.user_id,
          s.revoked_at is null and s.expires_at > now() and not u.disabled as live
        from refresh_tokens t join sessions s on s.id = t.session_id join users u on u.id = s.user_id
        where t.token_hash = decode(${presented}, 'hex')
      ), rotated as (
        update refresh_tokens t set used_at = now()
        from sessions s join users u on u.id = s.user_id
        where t.token_hash = decode(${presented}, 'hex') and t.used_at is null and s.id = t.session_id
          and s.revoked_at is null and s.expires_at > now() and not u.disabled
        returning t.session_id, s.user_id, s.amr
      ), reused as (
        select session_id, user_id from presented
        where used_at is not null or (live and not exists (select 1 from rotated))
      ), fresh as (
        insert into refresh_tokens (token_hash, session_id) select decode(${next.hash}, 'hex'), session_id from rotated
      ), touched as (
        update sessions set last_used_at = now(), ip = coalesce(${ip}, ip), user_agent = coalesce(${userAgent}, user_agent)
        where id in (select session_id from rotated)
      ), revoked as (
        update sessions set revoked_at = now()
        where id in (select session_id from reused) and revoked_at is null
      ), audit as (
        ${auditInsert(c, 'auth.refresh_reuse', {
          actor: sql`user_id`,
          targetType: 'session',
          targetId: sql`session_id`,
          from: sql`reused`,
        })}
      )
      select r.session_id as sid, r.amr, ${userJson('u')} as user
      from rotated r join users u on u.id = r.user_id`);
    const row = result.rows[0];
    if (!row?.sid || !row.user) throw unauthorized('The refresh token is invalid, expired or revoked.');
    return c.json(await tokenPair(config, row.sid, row.user, next.token, row.amr ?? ['pwd']), 200);
  },
);
