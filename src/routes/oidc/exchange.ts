import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { newRefreshToken, newSessionCtes, tokenPair } from '../../auth/tokens';
import type { AppEnv } from '../../env';
import { recordActivity } from '../../lib/activity';
import { auditInsert } from '../../lib/audit';
import { ApiError, unauthorized } from '../../lib/errors';
import { jsonBody, jsonResponse, problems } from '../../lib/openapi';
import { sha256Hex, userJson } from '../../lib/sql';
import type { UserJson } from '../../lib/user';
import { rateLimit } from '../../middleware/rate-limit';
import { TokenPair } from '../auth/schema';
import { ExchangeBody } from './schema';

/** RFC 8176: federated authentication. It is not a second factor here (docs/sso.md, "MFA_REQUIRED_ROLES"). */
const AMR = ['fed'];

export const exchange = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'post',
    path: '/exchange',
    tags: ['Single sign-on'],
    summary: "Trade the callback's one-time code for a token pair",
    description:
      'The code works once, for 60 seconds: a used, expired or unknown code is a 401. A disabled account is a 403, as ' +
      'at password sign-in. The session has `amr: ["fed"]`.',
    middleware: [rateLimit('oidc')] as const,
    request: { body: jsonBody(ExchangeBody) },
    responses: { 200: jsonResponse(TokenPair, 'Signed in; amr ["fed"]'), ...problems(400, 401, 403, 413, 415, 422, 429) },
  }),
  async (c) => {
    const { code } = c.req.valid('json');
    const { db, config } = c.var;
    const refresh = await newRefreshToken();
    // One statement: the code used up (once, even under concurrency), then the session for an enabled account.
    const result = await db.execute<{ user_id: number | null; sid: string | null; user: UserJson | null }>(sql`
      with used as (
        update oidc_codes set used_at = now()
        where code_hash = decode(${await sha256Hex(code)}, 'hex') and used_at is null and expires_at > now()
        returning user_id, provider
      ), u as (
        update users set last_login_at = now() where id in (select user_id from used) and not disabled returning *
      ), ${newSessionCtes(c, 'u', refresh.hash, AMR)},
      ${recordActivity(sql`select user_id from session`)},
      audit as (
        ${auditInsert(c, 'auth.login', {
          actor: sql`s.user_id`,
          targetType: 'user',
          targetId: sql`s.user_id`,
          details: sql`json_build_object('sessionId', s.id, 'method', 'oidc', 'provider', used.provider)`,
          from: sql`session s, used`,
        })}
      ), refused as (
        ${auditInsert(c, 'auth.login_failed', {
          actor: sql`null::int`,
          targetType: 'user',
          targetId: sql`user_id`,
          details: sql`json_build_object('reason', 'disabled', 'method', 'oidc', 'provider', provider)`,
          from: sql`used where not exists (select 1 from u)`,
        })}
      )
      select (select user_id from used) as user_id, s.id as sid, ${userJson('u')} as user
      from (select 1) one left join u on true left join session s on s.user_id = u.id`);
    const row = result.rows[0]!;
    if (row.user_id === null) throw unauthorized('This sign-in code is unknown, expired or already used: sign in again.');
    if (!row.sid || !row.user) throw new ApiError(403, 'account-disabled', 'This account is disabled.');
    return c.json(await tokenPair(config, row.sid, row.user, refresh.token, AMR), 200);
  },
);
