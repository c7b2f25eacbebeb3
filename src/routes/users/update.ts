import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql, type SQL } from 'drizzle-orm';
import { guarded, requirePermission } from '../../auth/authorize';
import { assertNotBreached } from '../../auth/breached';
import { issueToken, newAccountToken } from '../../auth/account-tokens';
import { hashPassword } from '../../auth/password';
import { emailLink, LINK_PATHS } from '../../email/links';
import { emailVerification } from '../../email/messages/email-verification';
import { invitation } from '../../email/messages/invitation';
import { passwordChanged } from '../../email/messages/password-changed';
import { enqueueEmail } from '../../email/outbox';
import type { AppEnv } from '../../env';
import { auditInsert } from '../../lib/audit';
import { ApiError, notFound } from '../../lib/errors';
import { bearer, jsonBody, jsonResponse, problems } from '../../lib/openapi';
import { userJson } from '../../lib/sql';
import { User, type UserJson } from '../../lib/user';
import { refusalsAsProblems } from './conflicts';
import { UpdateUserBody, UserIdParam, userId } from './schema';

export const updateUser = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'patch',
    path: '/{id}',
    tags: ['Users'],
    summary: 'Change a user’s name, email, password or disabled flag',
    description:
      'Only the fields given change; `{}` answers the user unchanged. Setting a password or disabling the user ' +
      'revokes their sessions. Disabling the last enabled admin is a 409; a taken email a 409. Callers change their ' +
      'own password and email through /v1/me/password and /v1/me/email (with the current password): here that is a 403.' +
      ' The caller must hold every permission the user holds, and `admin` if the user holds it (403 `target-stronger`).',
    security: bearer,
    middleware: [requirePermission('users:write')] as const,
    request: { params: UserIdParam, body: jsonBody(UpdateUserBody) },
    responses: { 200: jsonResponse(User, 'The user, updated'), ...problems(400, 401, 403, 404, 409, 413, 415, 422) },
  }),
  async (c) => {
    const id = userId(c.req.valid('param').id);
    const body = c.req.valid('json');
    if (id === c.var.caller.id && (body.password !== undefined || body.email !== undefined)) {
      throw new ApiError(
        403,
        'use-self-service',
        'Change your own password with POST /v1/me/password and your own email with POST /v1/me/email; both take the current password.',
      );
    }
    if (body.password !== undefined) await assertNotBreached(c.var.config, body.password);
    const hash = body.password === undefined ? undefined : await hashPassword(body.password, c.var.config.PASSWORD_HASH_PARAMS);

    const sets: SQL[] = [];
    if (body.name !== undefined) sets.push(sql`name = ${body.name}`);
    // A new address is unproven until its verification link is used (contract §9).
    if (body.email !== undefined) sets.push(sql`email = ${body.email}`, sql`email_verified = users.email_verified and users.email = ${body.email}`);
    if (hash !== undefined) sets.push(sql`hashed_password = ${hash}`);
    if (body.disabled !== undefined) sets.push(sql`disabled = ${body.disabled}`);

    if (sets.length === 0) {
      const { user } = await guarded<{ user: UserJson | null }>(
        c,
        (g) => sql`with ${g.cte} select ${g.outcome}, (select ${userJson('u')} from users u where u.id = ${id}) as user`,
        { mode: 'read' },
      );
      if (!user) throw notFound('No such user.');
      return c.json(user, 200);
    }

    // Links for a new address: verification, or a fresh invitation while the account has no password yet.
    const config = c.var.config;
    const [verify, invite] = await Promise.all([newAccountToken(), newAccountToken()]);
    const links = sql`
      moved as (select id, email, hashed_password from u where 'email' = any(fields)),
      moved_verify as (select id, email from moved where hashed_password is not null),
      moved_invite as (select id, email from moved where hashed_password is null),
      ${issueToken('verify', { purpose: 'email_verification', hash: verify.hash, ttlSeconds: config.EMAIL_VERIFICATION_TTL, source: 'moved_verify', email: sql`email` })},
      ${issueToken('invite', { purpose: 'invitation', hash: invite.hash, ttlSeconds: config.INVITATION_TTL, source: 'moved_invite', email: sql`email` })},
      pending_changes as (
        update account_tokens set revoked_at = now()
        where user_id in (select id from moved) and purpose = 'email_change' and used_at is null and revoked_at is null
      ),
      verify_mail as (${enqueueEmail(c, {
        to: sql`email`,
        from: sql`moved_verify`,
        message: emailVerification(emailLink(c, LINK_PATHS.email_verification, verify.token), config.EMAIL_VERIFICATION_TTL),
      })}),
      invite_mail as (${enqueueEmail(c, {
        to: sql`email`,
        from: sql`moved_invite`,
        message: invitation(emailLink(c, LINK_PATHS.invitation, invite.token), config.INVITATION_TTL),
      })}),
      notice as (${enqueueEmail(c, { to: sql`email`, from: sql`u where 'password' = any(fields)`, message: passwordChanged('admin') })})`;

    // `old` locks the row and keeps the values before the change, so the audit row names only what really changed
    // (a password given always counts: hashes are not compared).
    const { user } = await refusalsAsProblems(
      guarded<{ user: UserJson | null }>(c, (g) => sql`
        with ${g.cte},
        old as (select id, name, email, disabled from users where id = ${id} and ${g.ok} and ${g.mayActOn(sql`${id}::int`)} for no key update),
        u as (
          update users set ${sql.join(sets, sql`, `)} from old where users.id = old.id
          returning users.*, array_remove(array[
            case when users.name is distinct from old.name then 'name' end,
            case when users.email is distinct from old.email then 'email' end,
            case when ${sql.raw(String(hash !== undefined))} then 'password' end,
            case when users.disabled is distinct from old.disabled then 'disabled' end
          ], null) as fields, users.disabled and not old.disabled as disabled_now
        ), ended as (
          update sessions set revoked_at = now()
          where user_id in (select id from u where disabled_now or 'password' = any(fields)) and revoked_at is null
        ), ${links},
        audit as (${auditInsert(c, 'user.update', {
          actor: g.id,
          targetType: 'user',
          targetId: sql`id`,
          details: sql`json_build_object('fields', to_json(fields))`,
          from: sql`u where cardinality(fields) > 0`,
        })})
        select ${g.outcome}, (select ${userJson('u')} from u) as user`),
    );
    if (!user) throw notFound('No such user.');
    return c.json(user, 200);
  },
);
