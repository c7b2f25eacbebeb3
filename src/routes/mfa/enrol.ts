import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { matchStep, newRecoveryCodes, newTotpSecret, provisioning, recoveryCodeHash } from '../../auth/mfa';
import { verifyPassword } from '../../auth/password';
import { factorColumns, openSecret, sealSecret, type FactorRow } from '../../auth/second-factor';
import type { AppEnv } from '../../env';
import { enqueueEmail } from '../../email/outbox';
import { mfaNotice } from '../../email/messages/mfa-notice';
import { auditInsert } from '../../lib/audit';
import { conflict, unauthorized, validationFailed } from '../../lib/errors';
import { bearer, jsonBody, jsonResponse, problems } from '../../lib/openapi';
import { ConfirmBody, EnrolBody, Enrolment, ENROLMENT_SECONDS, RecoveryCodes } from './schema';

const gone = () => unauthorized('The account behind this token no longer exists.');
const alreadyEnabled = () => conflict('A second factor is already enabled; disable it first.', 'mfa-enabled');
const textArray = (items: string[]) => `{${items.join(',')}}`; // hex strings only: nothing to quote

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
        'again replaces a pending secret.',
      security: bearer,
      request: { body: jsonBody(EnrolBody) },
      responses: { 200: jsonResponse(Enrolment, 'The secret to enrol'), ...problems(400, 401, 409, 413, 415, 422) },
    }),
    async (c) => {
      const { currentPassword } = c.req.valid('json');
      const { db, config } = c.var;
      const { id } = c.var.caller;
      const found = await db.execute<{ hashed_password: string; email: string; enabled: boolean }>(sql`
        select u.hashed_password, u.email,
          exists (select 1 from mfa_factors f where f.user_id = u.id and f.enabled_at is not null) as enabled
        from users u where u.id = ${id}`);
      const row = found.rows[0];
      if (!row) throw gone();
      if (!(await verifyPassword(currentPassword, row.hashed_password))) throw unauthorized('The current password is wrong.');
      if (row.enabled) throw alreadyEnabled();

      const secret = newTotpSecret();
      const sealed = await sealSecret(config, id, secret);
      // Conditional on the password just verified and on no enabled factor, both as of this statement.
      const saved = await db.execute<{ saved: boolean; password_same: boolean }>(sql`
        with f as (
          insert into mfa_factors (user_id, secret, key_id)
          select id, decode(${sealed.sealed}, 'hex'), ${sealed.keyId} from users where id = ${id} and hashed_password = ${row.hashed_password}
          on conflict (user_id) do update set secret = excluded.secret, key_id = excluded.key_id, created_at = now(), last_step = null
            where mfa_factors.enabled_at is null
          returning user_id
        )
        select exists (select 1 from f) as saved,
          exists (select 1 from users where id = ${id} and hashed_password = ${row.hashed_password}) as password_same`);
      const outcome = saved.rows[0]!;
      if (!outcome.password_same) throw unauthorized('The current password is wrong.');
      if (!outcome.saved) throw alreadyEnabled();
      return c.json({ ...provisioning(secret, config.MFA_ISSUER, row.email), expiresIn: ENROLMENT_SECONDS }, 200);
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
      request: { body: jsonBody(ConfirmBody) },
      responses: { 200: jsonResponse(RecoveryCodes, 'The factor is on'), ...problems(400, 401, 409, 413, 415, 422) },
    }),
    async (c) => {
      const { code } = c.req.valid('json');
      const { db, config } = c.var;
      const { id, sid } = c.var.caller;
      const window = sql`make_interval(secs => ${ENROLMENT_SECONDS})`;
      const found = await db.execute<FactorRow & { enabled: boolean; pending: boolean }>(sql`
        select ${factorColumns('f')}, f.enabled_at is not null as enabled, f.created_at > now() - ${window} as pending
        from mfa_factors f where f.user_id = ${id}`);
      const factor = found.rows[0];
      if (factor?.enabled) throw alreadyEnabled();
      if (!factor?.pending) {
        throw conflict('No enrolment is waiting for a code (none was started, or it expired): start with POST /v1/me/mfa/totp.', 'mfa-not-enrolling');
      }
      const step = matchStep(await openSecret(config, factor), code, null);
      if (step === null) throw validationFailed([{ path: 'code', message: 'is not a current code for this secret' }], 'The code is wrong.');

      const codes = newRecoveryCodes();
      const hashes = await Promise.all(codes.map(recoveryCodeHash));
      // Enables exactly the secret the code was checked against (a restarted enrolment in between wins).
      const enabled = await db.execute<{ user_id: number }>(sql`
        with f as (
          update mfa_factors set enabled_at = now(), last_step = ${step}
          where user_id = ${id} and enabled_at is null and secret = decode(${factor.secret}, 'hex') and created_at > now() - ${window}
          returning user_id
        ), codes as (
          insert into mfa_recovery_codes (user_id, code_hash) select f.user_id, decode(h, 'hex') from f, unnest(${textArray(hashes)}::text[]) h
        ), ended as (
          update sessions set revoked_at = now() where user_id in (select user_id from f) and id::text <> ${sid} and revoked_at is null
        ), audit as (${auditInsert(c, 'mfa.enable', { actor: sql`user_id`, targetType: 'user', targetId: sql`user_id`, details: sql`json_build_object('method', 'totp')`, from: sql`f` })}),
        mail as (${enqueueEmail(c, { to: sql`u.email`, from: sql`f join users u on u.id = f.user_id`, message: mfaNotice('enabled') })})
        select user_id from f`);
      if (!enabled.rows[0]) throw conflict('The enrolment changed meanwhile: start again with POST /v1/me/mfa/totp.', 'mfa-not-enrolling');
      return c.json({ recoveryCodes: codes }, 200);
    },
  );
