import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { dummyHash, hashPassword, needsRehash, verifyPassword } from '../../auth/password';
import { newRefreshToken, newSessionCtes, tokenPair } from '../../auth/tokens';
import type { AppEnv } from '../../env';
import { rateLimit } from '../../middleware/rate-limit';
import { auditInsert } from '../../lib/audit';
import { ApiError, tooManyRequests, unauthorized } from '../../lib/errors';
import { jsonBody, jsonResponse, problems } from '../../lib/openapi';
import { sha256Hex, userJson } from '../../lib/sql';
import type { UserJson } from '../../lib/user';
import { LoginBody, TokenPair } from './schema';

type Candidate = {
  slot: string | null;
  retry_after: number | null;
  id: number | null;
  hashed_password: string | null;
  disabled: boolean | null;
};

export const login = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'post',
    path: '/login',
    tags: ['Auth'],
    summary: 'Sign in with email and password',
    description:
      'Unknown email and wrong password give the same 401 in about the same time. After 5 failed attempts for one ' +
      'email within 15 minutes every attempt gets 429 with Retry-After until the oldest failure leaves the window.',
    middleware: [rateLimit('login')] as const,
    request: { body: jsonBody(LoginBody) },
    responses: {
      200: jsonResponse(TokenPair, 'Signed in'),
      ...problems(400, 401, 403, 413, 415, 422, 429),
    },
  }),
  async (c) => {
    const { email, password } = c.req.valid('json');
    const { db, config } = c.var;
    const emailHash = await sha256Hex(email);
    const window = sql`make_interval(secs => ${config.LOGIN_WINDOW_SECONDS})`;

    // Statement 1 reserves an attempt before any hashing: the upsert serialises concurrent attempts on one email,
    // so no burst can get more than LOGIN_MAX_FAILURES passwords checked per window. It also loads the account.
    const first = await db.execute<Candidate>(sql`
      with slot as (
        insert into login_throttle as t (email_hash, attempts) values (decode(${emailHash}, 'hex'), array[clock_timestamp()])
        on conflict (email_hash) do update
          set attempts = array(select a from unnest(t.attempts) a where a > now() - ${window}) || clock_timestamp()
          where (select count(*) from unnest(t.attempts) a where a > now() - ${window}) < ${config.LOGIN_MAX_FAILURES}
        returning attempts[cardinality(attempts)]::text as slot
      )
      select (select slot from slot) as slot,
        (select ceil(extract(epoch from min(a) + ${window} - now()))::int
           from login_throttle t, unnest(t.attempts) a
          where t.email_hash = decode(${emailHash}, 'hex') and a > now() - ${window}) as retry_after,
        u.id, u.hashed_password, u.disabled
      from (select 1) one left join users u on u.email = ${email}`);
    const found = first.rows[0]!;
    if (found.slot === null) throw tooManyRequests(found.retry_after ?? config.LOGIN_WINDOW_SECONDS, 'Too many failed sign-in attempts for this email; try again later.');

    const stored = found.hashed_password ?? (await dummyHash(config.PASSWORD_HASH_PARAMS));
    const valid = (await verifyPassword(password, stored)) && found.id !== null;
    const release = sql`update login_throttle set attempts = array_remove(attempts, ${found.slot}::timestamptz)
                        where email_hash = decode(${emailHash}, 'hex')`;

    if (!valid) {
      // The reserved attempt stays: it is the failure that counts towards the lockout.
      await db.execute(sql`${auditInsert(c, 'auth.login_failed', {
        actor: sql`null::int`,
        targetType: 'user',
        targetId: sql`${found.id}::int`,
        details: sql`json_build_object('reason', 'bad_credentials')`,
      })}`);
      throw unauthorized('The email or password is wrong.');
    }
    if (found.disabled) {
      await db.execute(sql`with release as (${release}) ${auditInsert(c, 'auth.login_failed', {
        actor: sql`null::int`,
        targetType: 'user',
        targetId: sql`${found.id}::int`,
        details: sql`json_build_object('reason', 'disabled')`,
      })}`);
      throw new ApiError(403, 'account-disabled', 'This account is disabled.');
    }

    const rehash = needsRehash(stored, config.PASSWORD_HASH_PARAMS) ? await hashPassword(password, config.PASSWORD_HASH_PARAMS) : null;
    // Compare-and-set on the hash just verified: a password changed or reset since statement 1 (the old password
    // no longer the account's) creates no session and is not re-hashed over.
    const refresh = await newRefreshToken();
    const second = await db.execute<{ sid: string; user: UserJson }>(sql`
      with release as (${release}),
      u as (
        update users set last_login_at = now(), hashed_password = coalesce(${rehash}, hashed_password)
        where id = ${found.id} and not disabled and hashed_password = ${stored}
        returning *
      ), ${newSessionCtes(c, 'u', refresh.hash)},
      audit as (
        ${auditInsert(c, 'auth.login', {
          actor: sql`user_id`,
          targetType: 'user',
          targetId: sql`user_id`,
          details: sql`json_build_object('sessionId', id)`,
          from: sql`session`,
        })}
      )
      select s.id as sid, ${userJson('u')} as user from u join session s on s.user_id = u.id`);
    const row = second.rows[0];
    // Disabled, deleted or given another password between the two statements.
    if (!row) throw unauthorized('The email or password is wrong.');
    return c.json(await tokenPair(config, row.sid, row.user, refresh.token), 200);
  },
);
