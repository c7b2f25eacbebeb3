import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { issueToken, newAccountToken, sameAddress, spendToken } from '../../auth/account-tokens';
import { clearLockout } from '../../auth/lockout';
import { assertNotBreached } from '../../auth/breached';
import { hashPassword } from '../../auth/password';
import { emailLink, LINK_PATHS } from '../../email/links';
import { passwordChanged } from '../../email/messages/password-changed';
import { passwordReset } from '../../email/messages/password-reset';
import { enqueueEmail } from '../../email/outbox';
import { underQuota } from '../../email/quota';
import type { AppEnv } from '../../env';
import { auditInsert } from '../../lib/audit';
import { jsonBody, jsonResponse, problems } from '../../lib/openapi';
import { rateLimit } from '../../middleware/rate-limit';
import { Accepted, ForgotPasswordBody, ResetPasswordBody, unusableToken } from './schema';

/** Reset emails per account within any hour (contract §9). */
const RESETS_PER_HOUR = 3;

export const passwordRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'post',
      path: '/password/forgot',
      tags: ['Account lifecycle'],
      summary: 'Ask for a password reset link',
      description:
        'Always 202 with the same body, in about the same time, whether or not the account exists. An enabled account ' +
        'that is not an invitation gets a link (earlier reset links stop working), at most 3 per hour; past the cap ' +
        'nothing is sent and the earlier links keep working.',
      middleware: [rateLimit('password-forgot')] as const,
      request: { body: jsonBody(ForgotPasswordBody) },
      responses: { 202: jsonResponse(Accepted, 'Taken; a link is sent if the account can use one'), ...problems(400, 413, 415, 422, 429) },
    }),
    async (c) => {
      const { email } = c.req.valid('json');
      const config = c.var.config;
      // The token and message are made whatever the email, so a known and an unknown address cost the same work.
      const reset = await newAccountToken();
      const message = passwordReset(emailLink(c, LINK_PATHS.password_reset, reset.token), config.PASSWORD_RESET_TTL);
      // `quota` yields the account only under the cap (race-safe, src/email/quota.ts).
      await c.var.db.execute(sql`
        with target as (select id, email from users where email = ${email} and not disabled and hashed_password is not null),
        quota as (${underQuota('password_reset', 'target', RESETS_PER_HOUR)}
        ), allowed as (select t.id, t.email from target t join quota using (id)),
        ${issueToken('reset', { purpose: 'password_reset', hash: reset.hash, ttlSeconds: config.PASSWORD_RESET_TTL, source: 'allowed', email: sql`email` })},
        mail as (${enqueueEmail(c, { to: sql`email`, from: sql`allowed`, message })}),
        audit as (${auditInsert(c, 'user.password_reset_request', { actor: sql`null::int`, targetType: 'user', targetId: sql`id`, from: sql`allowed` })})
        select 1`);
      return c.json({ status: 'accepted' as const, detail: 'If an account can use it, a reset link is on its way to this address.' }, 202);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/password/reset',
      tags: ['Account lifecycle'],
      summary: 'Set a new password with a reset link',
      description:
        'The new password works at once; every session of the account is revoked, the sign-in lockout of its email ' +
        'is cleared, its other reset links stop working and a notice is sent. An unusable token is a 401.',
      middleware: [rateLimit('password-reset')] as const,
      request: { body: jsonBody(ResetPasswordBody) },
      responses: { 204: { description: 'The password is changed' }, ...problems(400, 401, 413, 415, 422, 429) },
    }),
    async (c) => {
      const { token, newPassword } = c.req.valid('json');
      await assertNotBreached(c.var.config, newPassword, 'newPassword');
      const hash = await hashPassword(newPassword, c.var.config.PASSWORD_HASH_PARAMS);
      const spend = await spendToken('password_reset', token, sql`${sameAddress} and not u.disabled and u.hashed_password is not null`);
      // The link reached the account's address, so that address is proven too.
      const rows = await c.var.db.execute<{ id: number }>(sql`
        with spent as (${spend}),
        u as (
          update users set hashed_password = ${hash}, email_verified = true from spent where users.id = spent.user_id
          returning users.id, users.email
        ), others as (
          update account_tokens set revoked_at = now()
          where user_id in (select id from u) and purpose = 'password_reset' and used_at is null and revoked_at is null
        ), ended as (
          update sessions set revoked_at = now() where user_id in (select id from u) and revoked_at is null
        ), unlocked as (${clearLockout(sql`email`, sql`u`)}),
        mail as (${enqueueEmail(c, { to: sql`email`, from: sql`u`, message: passwordChanged('reset') })}),
        audit as (${auditInsert(c, 'user.password_reset', { actor: sql`id`, targetType: 'user', targetId: sql`id`, from: sql`u` })})
        select id from u`);
      if (rows.rows.length === 0) throw unusableToken();
      return c.body(null, 204);
    },
  );
