import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { spendToken, sameAddress } from '../../auth/account-tokens';
import { assertNotBreached } from '../../auth/breached';
import { hashPassword } from '../../auth/password';
import { newRefreshToken, newSessionCtes, tokenPair } from '../../auth/tokens';
import type { AppEnv } from '../../env';
import { auditInsert } from '../../lib/audit';
import { jsonBody, jsonResponse, problems } from '../../lib/openapi';
import { userJson } from '../../lib/sql';
import type { UserJson } from '../../lib/user';
import { rateLimit } from '../../middleware/rate-limit';
import { AcceptInvitationBody, TokenPair, unusableToken } from './schema';

export const acceptInvitation = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'post',
    path: '/invitation/accept',
    tags: ['Account lifecycle'],
    summary: 'Accept an invitation: set the password (and optionally the name) and sign in',
    description:
      'The token comes from the invitation email. The account becomes `invited: false`, `emailVerified: true`. ' +
      'An unusable token (unknown, used, expired, superseded, of another purpose) is a 401; of two concurrent accepts one wins.',
    middleware: [rateLimit('invitation')] as const,
    request: { body: jsonBody(AcceptInvitationBody) },
    responses: { 200: jsonResponse(TokenPair, 'Signed in'), ...problems(400, 401, 413, 415, 422, 429) },
  }),
  async (c) => {
    const { token, password, name } = c.req.valid('json');
    const config = c.var.config;
    await assertNotBreached(config, password);
    const hash = await hashPassword(password, config.PASSWORD_HASH_PARAMS);
    const refresh = await newRefreshToken();
    // One statement: spend the token (only while the account is still an enabled invitation for that address), set
    // the password, sign in, audit. The token's row lock lets exactly one of concurrent accepts through.
    const spend = await spendToken('invitation', token, sql`${sameAddress} and u.hashed_password is null and not u.disabled`);
    const rows = await c.var.db.execute<{ sid: string; user: UserJson }>(sql`
      with spent as (${spend}),
      u as (
        update users set hashed_password = ${hash}, email_verified = true, name = coalesce(${name ?? null}, name)
        from spent where users.id = spent.user_id and users.hashed_password is null
        returning users.*
      ), ${newSessionCtes(c, 'u', refresh.hash)},
      audit as (${auditInsert(c, 'user.invitation_accept', { actor: sql`id`, targetType: 'user', targetId: sql`id`, from: sql`u` })})
      select s.id as sid, ${userJson('u')} as user from u join session s on s.user_id = u.id`);
    const row = rows.rows[0];
    if (!row) throw unusableToken();
    return c.json(await tokenPair(config, row.sid, row.user, refresh.token), 200);
  },
);

