import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import type { Context } from 'hono';
import {
  authenticationOptions,
  CHALLENGE_TTL_SECONDS,
  claimedChallenge,
  counterWentBack,
  fromB64url,
  newChallenge,
  relyingParty,
  toHex,
  userHandle,
  verifyAuthentication,
} from '../../auth/passkeys';
import { newRefreshToken, newSessionCtes, tokenPair } from '../../auth/tokens';
import type { AppEnv } from '../../env';
import { recordActivity } from '../../lib/activity';
import { auditInsert } from '../../lib/audit';
import { ApiError, unauthorized } from '../../lib/errors';
import { jsonBody, jsonResponse, problems } from '../../lib/openapi';
import { userJson } from '../../lib/sql';
import type { UserJson } from '../../lib/user';
import { rateLimit } from '../../middleware/rate-limit';
import { TokenPair } from '../auth/schema';
import { PasskeySignInBody, RequestOptions } from './schema';

/** RFC 8176: proof of possession of a key, and user-verified (more than one factor). */
const AMR = ['pop', 'mfa'];

type Found = {
  challenged: boolean;
  id: number | null;
  user_id: number | null;
  credential_id: string | null;
  public_key: string | null;
  counter: string | null;
  disabled: boolean | null;
  email_verified: boolean | null;
};

const failed = () => unauthorized('The passkey could not be verified: sign in again.');

/** A refused sign-in's audit row (the second statement of a refusal, as for a wrong password). */
async function refuse(c: Context<AppEnv>, found: Found | null, reason: string, error: ApiError, extra = sql`'{}'::jsonb`): Promise<never> {
  const details = sql`jsonb_build_object('reason', ${reason}::text, 'method', 'passkey', 'passkeyId', ${found?.id ?? null}::int) || ${extra}`;
  await c.var.db.execute(
    auditInsert(c, reason === 'counter' ? 'auth.passkey_counter' : 'auth.login_failed', {
      actor: sql`null::int`,
      targetType: 'user',
      targetId: sql`${found?.user_id ?? null}::int`,
      details,
    }),
  );
  throw error;
}

/**
 * Contract §17, signing in with a passkey: options (a challenge, no allowCredentials), then the assertion. Not
 * subject to the per-email lockout of §3 (docs/passkeys.md says why), but to the per-address limit of sign-in.
 */
export const passkeySignIn = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'post',
      path: '/passkey/options',
      tags: ['Auth'],
      summary: 'Start signing in with a passkey',
      description:
        'Answers the PublicKeyCredentialRequestOptions (JSON, binary fields base64url) for navigator.credentials.get(): ' +
        'a single-use challenge valid 5 minutes, no allowCredentials (discoverable credentials: no email needed), ' +
        'user verification required. Finish with POST /v1/auth/passkey.',
      middleware: [rateLimit('login')] as const,
      responses: { 200: jsonResponse(RequestOptions, 'Options for navigator.credentials.get()'), ...problems(429) },
    }),
    async (c) => {
      const { challenge, hash } = await newChallenge();
      await c.var.db.execute(sql`insert into passkey_challenges (challenge_hash, purpose, expires_at)
        values (decode(${hash}, 'hex'), 'authentication', now() + make_interval(secs => ${CHALLENGE_TTL_SECONDS}))`);
      return c.json((await authenticationOptions(relyingParty(c), challenge)) as never, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/passkey',
      tags: ['Auth'],
      summary: 'Sign in with a passkey',
      description:
        'Takes the assertion navigator.credentials.get() made (PublicKeyCredential.toJSON()); its challenge is used ' +
        'up. Answers a TokenPair whose session has amr ["pop","mfa"], which satisfies MFA_REQUIRED_ROLES. Any failed ' +
        'verification → 401; a signature counter that went backwards (a possibly cloned key) → 401 and an audit event ' +
        '`auth.passkey_counter`; a disabled account → 403 after a valid assertion.',
      middleware: [rateLimit('login')] as const,
      request: { body: jsonBody(PasskeySignInBody) },
      responses: { 200: jsonResponse(TokenPair, 'Signed in; amr ["pop","mfa"]'), ...problems(400, 401, 403, 413, 415, 422, 429) },
    }),
    async (c) => {
      const { response } = c.req.valid('json');
      const { db, config } = c.var;
      const claimed = await claimedChallenge(response);
      const credentialId = toHex(fromB64url(response.rawId));

      // Statement 1 uses the challenge up (whatever follows, it never works again) and loads the credential.
      const first = await db.execute<Found>(sql`
        with challenge as (
          delete from passkey_challenges
          where challenge_hash = decode(${claimed?.hash ?? ''}, 'hex') and purpose = 'authentication' and expires_at > now()
          returning 1
        )
        select exists (select 1 from challenge) as challenged, p.id, p.user_id, encode(p.credential_id, 'hex') as credential_id,
          encode(p.public_key, 'hex') as public_key, p.counter::text as counter, u.disabled, u.email_verified
        from (select 1) one left join passkeys p on p.credential_id = decode(${credentialId}, 'hex') left join users u on u.id = p.user_id`);
      const found = first.rows[0]!;
      if (!claimed || !found.challenged) return refuse(c, found, 'challenge', failed());
      if (found.id === null) return refuse(c, null, 'unknown_credential', failed());
      const rp = relyingParty(c);
      const verified = await verifyAuthentication(rp, claimed.challenge, response as never, {
        credential_id: found.credential_id!,
        public_key: found.public_key!,
        counter: 0,
      });
      if (!verified) return refuse(c, found, 'bad_assertion', failed());
      // A discoverable credential names its account; it must be the one the credential was registered to.
      const handle = response.response.userHandle;
      if (handle && toHex(fromB64url(handle)) !== toHex(userHandle(found.user_id!))) return refuse(c, found, 'user_handle', failed());
      const stored = Number(found.counter);
      if (counterWentBack(stored, verified.counter)) {
        return refuse(c, found, 'counter', failed(), sql`jsonb_build_object('stored', ${stored}::bigint, 'received', ${verified.counter}::bigint)`);
      }
      if (found.disabled) return refuse(c, found, 'disabled', new ApiError(403, 'account-disabled', 'This account is disabled.'));
      if (config.REQUIRE_VERIFIED_EMAIL && !found.email_verified) {
        return refuse(c, found, 'email_unverified', new ApiError(403, 'email-unverified', 'Confirm your email address first: sign in with your password to get a new link.'));
      }

      // Statement 2: the counter moves forward by compare-and-set (two assertions of one counter value: one wins),
      // then the session, as a password sign-in opens one.
      const refresh = await newRefreshToken();
      const second = await db.execute<{ sid: string; user: UserJson }>(sql`
        with used as (
          update passkeys set counter = greatest(counter, ${verified.counter}), last_used_at = now()
          where id = ${found.id} and (counter < ${verified.counter} or ${verified.counter} = 0)
          returning id, user_id
        ), u as (
          update users set last_login_at = now() where id in (select user_id from used) and not disabled returning *
        ), ${newSessionCtes(c, 'u', refresh.hash, AMR)},
        ${recordActivity(sql`select user_id from session`)},
        audit as (
          ${auditInsert(c, 'auth.login', {
            actor: sql`user_id`,
            targetType: 'user',
            targetId: sql`user_id`,
            details: sql`json_build_object('sessionId', id, 'method', 'passkey', 'passkeyId', ${found.id}::int)`,
            from: sql`session`,
          })}
        )
        select s.id as sid, ${userJson('u')} as user from u join session s on s.user_id = u.id`);
      const row = second.rows[0];
      // The passkey removed, the account disabled or deleted, or the same counter used, since statement 1.
      if (!row) throw failed();
      return c.json(await tokenPair(config, row.sid, row.user, refresh.token, AMR), 200);
    },
  );
