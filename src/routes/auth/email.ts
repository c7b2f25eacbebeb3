import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { sameAddress, spendToken } from '../../auth/account-tokens';
import type { AppEnv } from '../../env';
import { auditInsert } from '../../lib/audit';
import { sqlState } from '../../lib/db-errors';
import { sha256Hex } from '../../lib/sql';
import { conflict } from '../../lib/errors';
import { jsonBody, problems } from '../../lib/openapi';
import { TokenBody, unusableToken } from './schema';

const emailTaken = () => conflict('An account with this email already exists.', 'email-taken');

export const emailRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'post',
      path: '/email/verify',
      tags: ['Account lifecycle'],
      summary: 'Confirm that the account receives mail at its address',
      description: 'The token comes from the verification email; it works only while the account still has the address it was sent to.',
      request: { body: jsonBody(TokenBody) },
      responses: { 204: { description: 'emailVerified is now true' }, ...problems(400, 401, 413, 415, 422) },
    }),
    async (c) => {
      const spend = await spendToken('email_verification', c.req.valid('json').token, sameAddress);
      const rows = await c.var.db.execute<{ id: number }>(sql`
        with spent as (${spend}),
        u as (update users set email_verified = true from spent where users.id = spent.user_id returning users.id),
        audit as (${auditInsert(c, 'user.email_verify', { actor: sql`id`, targetType: 'user', targetId: sql`id`, from: sql`u` })})
        select id from u`);
      if (rows.rows.length === 0) throw unusableToken();
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/email/confirm',
      tags: ['Account lifecycle'],
      summary: 'Complete an email change with the link sent to the new address',
      description:
        'The account moves to the new address, `emailVerified: true`. 409 when another account took the address since ' +
        'the request (the link then stays usable); an unusable token is a 401.',
      request: { body: jsonBody(TokenBody) },
      responses: { 204: { description: 'The email is changed' }, ...problems(400, 401, 409, 413, 415, 422) },
    }),
    async (c) => {
      const hash = await sha256Hex(c.req.valid('json').token);
      const live = sql`t.token_hash = decode(${hash}, 'hex') and t.purpose = 'email_change' and t.used_at is null and t.revoked_at is null and t.expires_at > now()`;
      // The token is spent only when the address is free; a race for it ends in the unique index (→ 409, nothing changes).
      const statement = c.var.db.execute<{ found: boolean; taken: boolean; id: number | null }>(sql`
        with t as (select t.user_id, t.email from account_tokens t where ${live}),
        taken as (select 1 from users u join t on u.email = t.email and u.id <> t.user_id),
        spent as (
          update account_tokens t set used_at = now() where ${live} and not exists (select 1 from taken) returning t.user_id, t.email
        ), u as (
          update users set email = spent.email, email_verified = true from spent where users.id = spent.user_id returning users.id
        ), others as (
          update account_tokens set revoked_at = now()
          where user_id in (select id from u) and purpose in ('email_change', 'email_verification') and used_at is null and revoked_at is null
        ), audit as (${auditInsert(c, 'user.email_change', {
          actor: sql`id`,
          targetType: 'user',
          targetId: sql`id`,
          details: sql`json_build_object('via', 'confirmation')`,
          from: sql`u`,
        })})
        select exists (select 1 from t) as found, exists (select 1 from taken) as taken, (select id from u) as id`);
      const row = await statement.catch((error) => {
        throw sqlState(error) === '23505' ? emailTaken() : error;
      });
      const result = row.rows[0]!;
      if (!result.found) throw unusableToken();
      if (result.taken || result.id === null) throw emailTaken();
      return c.body(null, 204);
    },
  );
