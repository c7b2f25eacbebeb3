import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { checkCode, consumeProof, factorColumns, type FactorRow } from '../../auth/second-factor';
import { isLocked, releaseAttempt, reserveAttempt, retryAfter } from '../../auth/throttle';
import { newRefreshToken, newSessionCtes, tokenPair } from '../../auth/tokens';
import type { AppEnv } from '../../env';
import { recordActivity } from '../../lib/activity';
import { auditInsert } from '../../lib/audit';
import { tooManyRequests, unauthorized } from '../../lib/errors';
import { jsonBody, jsonResponse, problems } from '../../lib/openapi';
import { sha256Hex, userJson } from '../../lib/sql';
import type { UserJson } from '../../lib/user';
import { rateLimit } from '../../middleware/rate-limit';
import { TokenPair } from '../auth/schema';
import { MFA_TOKEN_MAX_FAILURES, MfaSignInBody } from './schema';

type Challenge = FactorRow & { live: boolean; slot: string | null; locked: boolean; retry_after: number | null; key: string };

const AMR = ['pwd', 'otp'];
const expired = () => unauthorized('This sign-in is no longer valid (used, expired or too many wrong codes): sign in again.');

/** Contract §10: the second step of a sign-in for an account with a factor. */
export const mfaSignIn = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'post',
    path: '/mfa',
    tags: ['Auth'],
    summary: 'Finish a sign-in with a TOTP code or a recovery code',
    description:
      'Takes the mfaToken of the 202 answer of POST /v1/auth/login and either `code` (TOTP) or `recoveryCode`. ' +
      'A wrong code is a 401 and counts as a failed sign-in of the email (5 lock it: 429 with Retry-After, whatever ' +
      'the code). The mfaToken works once, for 5 minutes, and dies after 5 wrong codes.',
    middleware: [rateLimit('mfa')] as const,
    request: { body: jsonBody(MfaSignInBody) },
    responses: { 200: jsonResponse(TokenPair, 'Signed in; amr ["pwd","otp"]'), ...problems(400, 401, 413, 415, 422, 429) },
  }),
  async (c) => {
    const { mfaToken, code, recoveryCode } = c.req.valid('json');
    const { db, config } = c.var;
    const tokenHash = await sha256Hex(mfaToken);

    // Statement 1: the challenge, its account's factor, and an attempt reserved on the email's lockout (only for a
    // live challenge) before any code is checked, exactly as the password step does.
    const first = await db.execute<Challenge>(sql`
      with ch as (
        select ch.*, ch.used_at is null and ch.expires_at > now() and ch.failures < ${MFA_TOKEN_MAX_FAILURES} and not u.disabled as live
        from mfa_challenges ch join users u on u.id = ch.user_id where ch.token_hash = decode(${tokenHash}, 'hex')
      ), slot as (${reserveAttempt(config, sql`ch.email_hash`, sql`ch where live`)})
      select ch.live, (select slot from slot) as slot, ${isLocked(config, sql`ch.email_hash`)} as locked,
        ${retryAfter(config, sql`ch.email_hash`)} as retry_after, encode(ch.email_hash, 'hex') as key, ${factorColumns('f')}
      from ch join mfa_factors f on f.user_id = ch.user_id and f.enabled_at is not null`);
    const found = first.rows[0];
    if (!found) throw expired();
    if (found.slot === null && (found.locked || found.live)) {
      throw tooManyRequests(found.retry_after ?? config.LOGIN_WINDOW_SECONDS, 'Too many failed sign-in attempts for this email; try again later.');
    }
    if (!found.live) throw expired();

    const proof = await checkCode(config, found, { code, recoveryCode });
    const method = recoveryCode !== undefined ? 'recovery' : 'totp';
    if (!proof) {
      // The reserved attempt stays: a failed sign-in. The challenge counts it too.
      await db.execute(sql`
        with ch as (
          update mfa_challenges set failures = failures + 1 where token_hash = decode(${tokenHash}, 'hex') returning user_id
        ) ${auditInsert(c, 'auth.mfa_failed', {
          actor: sql`null::int`,
          targetType: 'user',
          targetId: sql`user_id`,
          details: sql`json_build_object('reason', 'wrong_code', 'method', ${method}::text)`,
          from: sql`ch`,
        })}`);
      throw unauthorized('The code is wrong or was already used.');
    }

    // Statement 2: the challenge is used up first, then the code (only for that challenge), then the session.
    // Under concurrency each compare-and-set lets one request through; a loser keeps its attempt as a failure.
    const refresh = await newRefreshToken();
    const key = sql`decode(${found.key}, 'hex')`;
    const second = await db.execute<{ sid: string; user: UserJson }>(sql`
      with ch as (
        update mfa_challenges set used_at = now()
        where token_hash = decode(${tokenHash}, 'hex') and used_at is null and expires_at > now() and failures < ${MFA_TOKEN_MAX_FAILURES}
        returning user_id
      ), proof as (
        ${consumeProof(proof, sql`(select user_id from ch)`)}
      ), u as (
        update users set last_login_at = now() where id in (select user_id from proof) and not disabled returning *
      ), ${newSessionCtes(c, 'u', refresh.hash, AMR)},
      release as (${releaseAttempt(key, found.slot!, sql`exists (select 1 from session)`)}),
      ${recordActivity(sql`select user_id from session`)},
      audit as (
        ${auditInsert(c, 'auth.login', {
          actor: sql`user_id`,
          targetType: 'user',
          targetId: sql`user_id`,
          details: sql`json_build_object('sessionId', id, 'mfa', ${proof.method}::text)`,
          from: sql`session`,
        })}
      )
      select s.id as sid, ${userJson('u')} as user from u join session s on s.user_id = u.id`);
    const row = second.rows[0];
    if (!row) throw unauthorized('The code is wrong or was already used.');
    return c.json(await tokenPair(config, row.sid, row.user, refresh.token, AMR), 200);
  },
);
