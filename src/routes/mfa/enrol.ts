import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { guarded, requirePermission } from '../../auth/authorize';
import { matchStep, newRecoveryCodes, newTotpSecret, provisioning, recoveryCodeHash } from '../../auth/mfa';
import { releaseAttempt } from '../../auth/lockout';
import { factorColumns, openSecret, sealSecret, type FactorRow } from '../../auth/second-factor';
import { enqueueEmail } from '../../email/outbox';
import { mfaNotice } from '../../email/messages/mfa-notice';
import type { AppEnv } from '../../env';
import { auditInsert } from '../../lib/audit';
import { conflict, unauthorized, validationFailed } from '../../lib/errors';
import { checkCurrentPassword } from '../me/current-password';
import { bearer, jsonBody, jsonResponse, problems } from '../../lib/openapi';
import { oneRow, textArray } from './sql';
import { ConfirmBody, EnrolBody, Enrolment, ENROLMENT_SECONDS, RecoveryCodes } from './schema';

const alreadyEnabled = () => conflict('A second factor is already enabled; disable it first.', 'mfa-enabled');
const live = requirePermission(null);

export const enrol = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'post',
      path: '/totp',
      tags: ['Second factor'],
      summary: 'Start enrolling a TOTP authenticator',
      description:
        'Answers the secret to put into an authenticator app (as text and as an otpauth:// URI for a QR code). ' +
        'Nothing is enabled until POST /v1/me/mfa/totp/confirm receives a code within expiresIn seconds; starting ' +
        'again replaces a pending secret. A wrong password is a 401 and counts towards the sign-in lockout (429 when locked).',
      security: bearer,
      middleware: [live] as const,
      request: { body: jsonBody(EnrolBody) },
      responses: { 200: jsonResponse(Enrolment, 'The secret to enrol'), ...problems(400, 401, 403, 409, 413, 415, 422, 429) },
    }),
    async (c) => {
      const { currentPassword } = c.req.valid('json');
      const { config } = c.var;
      const { id } = c.var.caller;
      // The same lockout as sign-in (§3): an attempt is reserved before any hashing, so a stolen access token cannot
      // guess the current password here more than LOGIN_MAX_FAILURES times per window.
      const { stored, slot, email } = await checkCurrentPassword(c, currentPassword);

      const secret = newTotpSecret();
      const sealed = await sealSecret(config, id, secret);
      // Conditional on the password just verified and on no enabled factor, both as of this statement; the right
      // password gives its attempt back even when a factor is already on (409).
      const outcome = await guarded<{ saved: boolean; password_same: boolean }>(c, (g) => sql`
        with ${g.cte}, f as (
          insert into mfa_factors (user_id, secret, key_id)
          select id, decode(${sealed.sealed}, 'hex'), ${sealed.keyId} from users where id = ${g.id} and hashed_password = ${stored} and ${g.ok}
          on conflict (user_id) do update set secret = excluded.secret, key_id = excluded.key_id, created_at = now(), last_step = null
            where mfa_factors.enabled_at is null
          returning user_id
        ), me as (select email from users where id = ${g.id} and hashed_password = ${stored}),
        release as (${releaseAttempt(slot, sql`(select email from me)`)})
        select ${g.outcome}, exists (select 1 from f) as saved, exists (select 1 from me) as password_same`);
      if (!outcome.password_same) throw unauthorized('The current password is wrong.');
      if (!outcome.saved) throw alreadyEnabled();
      return c.json({ ...provisioning(secret, config.MFA_ISSUER, email), expiresIn: ENROLMENT_SECONDS }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/totp/confirm',
      tags: ['Second factor'],
      summary: 'Confirm the enrolment with a code: the factor is on',
      description:
        'A current code from the authenticator turns the factor on and answers ten recovery codes (shown only now). ' +
        'Every other session of the caller is revoked. A wrong code is a 422 at `code`.',
      security: bearer,
      middleware: [live] as const,
      request: { body: jsonBody(ConfirmBody) },
      responses: { 200: jsonResponse(RecoveryCodes, 'The factor is on'), ...problems(400, 401, 403, 409, 413, 415, 422) },
    }),
    async (c) => {
      const { code } = c.req.valid('json');
      const { config } = c.var;
      const { sid } = c.var.caller;
      const window = sql`make_interval(secs => ${ENROLMENT_SECONDS})`;
      const factor = await guarded<Partial<FactorRow> & { enabled: boolean | null; pending: boolean | null }>(
        c,
        (g) => sql`with ${g.cte} ${oneRow(g, sql`
          select ${factorColumns('f')}, f.enabled_at is not null as enabled, f.created_at > now() - ${window} as pending
          from mfa_factors f where f.user_id = ${g.id}`)}`,
        { mode: 'read' },
      );
      if (factor.enabled) throw alreadyEnabled();
      if (!factor.pending) {
        throw conflict('No enrolment is waiting for a code (none was started, or it expired): start with POST /v1/me/mfa/totp.', 'mfa-not-enrolling');
      }
      const step = matchStep(await openSecret(config, factor as FactorRow), code, null);
      if (step === null) throw validationFailed([{ path: 'code', message: 'is not a current code for this secret' }], 'The code is wrong.');

      const codes = newRecoveryCodes();
      const hashes = await Promise.all(codes.map(recoveryCodeHash));
      // Enables exactly the secret the code was checked against (a restarted enrolment in between wins).
      const enabled = await guarded<{ user_id: number | null }>(c, (g) => sql`
        with ${g.cte}, f as (
          update mfa_factors set enabled_at = now(), last_step = ${step}
          where user_id = ${g.id} and enabled_at is null and secret = decode(${factor.secret}, 'hex') and created_at > now() - ${window}
            and ${g.ok}
          returning user_id
        ), codes as (
          insert into mfa_recovery_codes (user_id, code_hash) select f.user_id, decode(h, 'hex') from f, unnest(${textArray(hashes)}::text[]) h
        ), ended as (
          update sessions set revoked_at = now() where user_id in (select user_id from f) and id::text <> ${sid} and revoked_at is null
        ), audit as (${auditInsert(c, 'mfa.enable', { actor: sql`user_id`, targetType: 'user', targetId: sql`user_id`, details: sql`json_build_object('method', 'totp')`, from: sql`f` })}),
        mail as (${enqueueEmail(c, { to: sql`u.email`, from: sql`f join users u on u.id = f.user_id`, message: mfaNotice('enabled') })})
        select ${g.outcome}, (select user_id from f) as user_id`);
      if (enabled.user_id === null) throw conflict('The enrolment changed meanwhile: start again with POST /v1/me/mfa/totp.', 'mfa-not-enrolling');
      return c.json({ recoveryCodes: codes }, 200);
    },
  );
