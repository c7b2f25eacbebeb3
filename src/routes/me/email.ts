import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { issueToken, newAccountToken } from '../../auth/account-tokens';
import { guarded, requirePermission } from '../../auth/authorize';
import { releaseAttempt } from '../../auth/lockout';
import { emailLink, LINK_PATHS } from '../../email/links';
import { emailChange } from '../../email/messages/email-change';
import { emailChangeNotice } from '../../email/messages/email-change-notice';
import { emailVerification } from '../../email/messages/email-verification';
import { enqueueEmail } from '../../email/outbox';
import type { AppEnv } from '../../env';
import { conflict, unauthorized, validationFailed } from '../../lib/errors';
import { bearer, jsonBody, jsonResponse, problems } from '../../lib/openapi';
import { Email } from '../../lib/user';
import { Accepted } from '../auth/schema';
import { checkCurrentPassword } from './current-password';

const live = requirePermission(null);
const gone = () => unauthorized('The account behind this token no longer exists.');

const ChangeEmailBody = z
  .strictObject({ newEmail: Email, currentPassword: z.string().min(1).max(1024) })
  .openapi('ChangeEmailRequest');

/** Contract §9: the caller's own address — a new verification link, and a change confirmed by the new address. */
export const meEmail = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'post',
      path: '/email/verification',
      tags: ['Me'],
      summary: 'Send a new verification link to the caller’s address',
      description: 'Earlier verification links stop working. 409 when the address is already verified.',
      security: bearer,
      middleware: [live] as const,
      responses: { 202: jsonResponse(Accepted, 'A link is on its way'), ...problems(401, 403, 409) },
    }),
    async (c) => {
      const config = c.var.config;
      const link = await newAccountToken();
      const message = emailVerification(emailLink(c, LINK_PATHS.email_verification, link.token), config.EMAIL_VERIFICATION_TTL);
      const row = await guarded<{ verified: boolean | null }>(c, (g) => sql`
        with ${g.cte},
        me as (select id, email, email_verified from users where id = ${g.id} and ${g.ok}),
        target as (select id, email from me where not email_verified),
        ${issueToken('verify', { purpose: 'email_verification', hash: link.hash, ttlSeconds: config.EMAIL_VERIFICATION_TTL, source: 'target', email: sql`email` })},
        mail as (${enqueueEmail(c, { to: sql`email`, from: sql`target`, message })})
        select ${g.outcome}, (select email_verified from me) as verified`);
      if (row.verified === null) throw gone();
      if (row.verified) throw conflict('This address is already verified.', 'already-verified');
      return c.json({ status: 'accepted' as const, detail: 'A verification link is on its way to your address.' }, 202);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/email',
      tags: ['Me'],
      summary: 'Move the caller to another email address (confirmed by the new address)',
      description:
        'Sends a confirmation link to the new address and, at the same time, a notice to the current one; the change ' +
        'happens when the link is used (POST /v1/auth/email/confirm). A pending change reserves nothing. 401 on a wrong ' +
        'password (with the sign-in lockout: 429 after too many), 409 when the address is taken.',
      security: bearer,
      middleware: [live] as const,
      request: { body: jsonBody(ChangeEmailBody) },
      responses: { 202: jsonResponse(Accepted, 'The confirmation link is on its way'), ...problems(400, 401, 403, 409, 413, 415, 422, 429) },
    }),
    async (c) => {
      const { newEmail, currentPassword } = c.req.valid('json');
      const config = c.var.config;
      const { stored, slot, email } = await checkCurrentPassword(c, currentPassword);
      if (email === newEmail) {
        // The password was right: give the attempt back before refusing.
        await guarded(c, (g) => sql`with ${g.cte}, release as (${releaseAttempt(slot, sql`${email}::text`)}) select ${g.outcome}`);
        throw validationFailed([{ path: 'newEmail', message: 'is already the account’s email' }]);
      }
      const link = await newAccountToken();
      const row = await guarded<{ id: number | null; taken: boolean }>(c, (g) => sql`
        with ${g.cte},
        me as (select id, email from users where id = ${g.id} and hashed_password = ${stored} and ${g.ok}),
        release as (${releaseAttempt(slot, sql`${email}::text`)}),
        taken as (select 1 from users where email = ${newEmail} and id <> ${g.id}),
        target as (select id, ${newEmail}::text as email from me where not exists (select 1 from taken)),
        ${issueToken('change', { purpose: 'email_change', hash: link.hash, ttlSeconds: config.EMAIL_CHANGE_TTL, source: 'target', email: sql`email` })},
        confirm_mail as (${enqueueEmail(c, {
          to: sql`email`,
          from: sql`target`,
          message: emailChange(emailLink(c, LINK_PATHS.email_change, link.token), config.EMAIL_CHANGE_TTL),
        })}),
        notice_mail as (${enqueueEmail(c, { to: sql`email`, from: sql`me where exists (select 1 from target)`, message: emailChangeNotice() })})
        select ${g.outcome}, (select id from me) as id, exists (select 1 from taken) as taken`);
      if (row.id === null) throw unauthorized('The current password is wrong.');
      if (row.taken) throw conflict('An account with this email already exists.', 'email-taken');
      return c.json({ status: 'accepted' as const, detail: 'A confirmation link is on its way to the new address.' }, 202);
    },
  );
