import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { issueToken, newAccountToken } from '../../auth/account-tokens';
import { emailLink, LINK_PATHS } from '../../email/links';
import { emailVerification } from '../../email/messages/email-verification';
import { enqueueEmail } from '../../email/outbox';
import { underQuota } from '../../email/quota';
import { dummyHash, hashPassword, needsRehash, verifyPassword } from '../../auth/password';
import { newRefreshToken, newSessionCtes, tokenPair } from '../../auth/tokens';
import type { AppEnv } from '../../env';
import { rateLimit } from '../../middleware/rate-limit';
import { recordActivity } from '../../lib/activity';
import { auditInsert } from '../../lib/audit';
import { ApiError, tooManyRequests, unauthorized } from '../../lib/errors';
import { jsonBody, jsonResponse, problems } from '../../lib/openapi';
import { sha256Hex, userJson } from '../../lib/sql';
import type { UserJson } from '../../lib/user';
import { challengeAnswer, challengeCte, factorCte, withoutFactor } from '../mfa/challenge';
import { MfaChallenge } from '../mfa/schema';
import { LoginBody, TokenPair } from './schema';

type Candidate = {
  slot: string | null;
  retry_after: number | null;
  id: number | null;
  hashed_password: string | null;
  disabled: boolean | null;
  email_verified: boolean | null;
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
      202: jsonResponse(MfaChallenge, 'Password right; the account has a second factor: finish with POST /v1/auth/mfa'),
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
        u.id, u.hashed_password, u.disabled, u.email_verified
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
    if (config.REQUIRE_VERIFIED_EMAIL && !found.email_verified) {
      // Only after a correct password, like a disabled account: the answer reveals nothing to a guesser. The account
      // cannot sign in to ask for a new link, so one is sent here (at most 3 an hour; earlier links stop working).
      const verify = await newAccountToken();
      const message = emailVerification(emailLink(c, LINK_PATHS.email_verification, verify.token), config.EMAIL_VERIFICATION_TTL);
      await db.execute(sql`with release as (${release}),
        target as (select id, email from users where id = ${found.id} and not email_verified),
        quota as (${underQuota('email_verification', 'target', 3)}),
        allowed as (select t.id, t.email from target t join quota using (id)),
        ${issueToken('verify', { purpose: 'email_verification', hash: verify.hash, ttlSeconds: config.EMAIL_VERIFICATION_TTL, source: 'allowed', email: sql`email` })},
        mail as (${enqueueEmail(c, { to: sql`email`, from: sql`allowed`, message })})
        ${auditInsert(c, 'auth.login_failed', {
          actor: sql`null::int`,
          targetType: 'user',
          targetId: sql`${found.id}::int`,
          details: sql`json_build_object('reason', 'email_unverified')`,
        })}`);
      throw new ApiError(403, 'email-unverified', 'Confirm your email address first: a new link is on its way to it.');
    }

    const rehash = needsRehash(stored, config.PASSWORD_HASH_PARAMS) ? await hashPassword(password, config.PASSWORD_HASH_PARAMS) : null;
    // Compare-and-set on the hash just verified: a password changed or reset since statement 1 (the old password
    // no longer the account's) creates no session and is not re-hashed over.
    const refresh = await newRefreshToken();
    const mfaToken = await newRefreshToken(); // the same 256 random bits, hashed the same way
    // An account with a second factor gets a challenge (and a 202) instead of a session (contract §10).
    const second = await db.execute<{ sid: string | null; user: UserJson; mfa: boolean }>(sql`
      with release as (${release}), ${factorCte(found.id!)},
      u as (
        update users set last_login_at = case when ${withoutFactor} then now() else last_login_at end,
          hashed_password = coalesce(${rehash}, hashed_password)
        where id = ${found.id} and not disabled and hashed_password = ${stored}
        returning *
      ), signed as (select * from u where ${withoutFactor}), ${newSessionCtes(c, 'signed', refresh.hash)},
      ${challengeCte('u', emailHash, mfaToken.hash)},
      ${recordActivity(sql`select id as user_id from signed`)},
      audit as (
        ${auditInsert(c, 'auth.login', {
          actor: sql`user_id`,
          targetType: 'user',
          targetId: sql`user_id`,
          details: sql`json_build_object('sessionId', id)`,
          from: sql`session`,
        })}
      )
      select s.id as sid, ${userJson('u')} as user, exists (select 1 from challenge) as mfa from u left join session s on s.user_id = u.id`);
    const row = second.rows[0];
    // Disabled, deleted or given another password between the two statements.
    if (!row) throw unauthorized('The email or password is wrong.');
    if (row.mfa) return c.json(challengeAnswer(mfaToken.token), 202);
    return c.json(await tokenPair(config, row.sid!, row.user, refresh.token), 200);
  },
);
