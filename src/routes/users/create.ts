import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { guarded, requirePermission } from '../../auth/authorize';
import { assertNotBreached } from '../../auth/breached';
import { issueToken, newAccountToken } from '../../auth/account-tokens';
import { hashPassword } from '../../auth/password';
import { emailLink, LINK_PATHS } from '../../email/links';
import { emailVerification } from '../../email/messages/email-verification';
import { invitation } from '../../email/messages/invitation';
import { enqueueEmail } from '../../email/outbox';
import type { AppEnv } from '../../env';
import { auditInsert } from '../../lib/audit';
import { conflict, validationFailed } from '../../lib/errors';
import { bearer, jsonBody, jsonResponse, problems } from '../../lib/openapi';
import { userJson } from '../../lib/sql';
import { User, type UserJson } from '../../lib/user';
import { CreateUserBody } from './schema';

export const createUser = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'post',
    path: '/',
    tags: ['Users'],
    summary: 'Create a user',
    description:
      'Needs `users:write`. Roles default to ["viewer"]. An unknown role is a 422 (path `roles`); a taken email a 409. ' +
      'Each role given must carry only permissions the caller holds, and `admin` needs the caller to hold `admin` (403). ' +
      'Without `password` the account is an invitation (`invited: true`): an email with a link to set a password goes ' +
      'out; with one, a link to verify the address. Nothing is sent when the creation is refused.',
    security: bearer,
    middleware: [requirePermission('users:write')] as const,
    request: { body: jsonBody(CreateUserBody) },
    responses: { 201: jsonResponse(User, 'The new user'), ...problems(400, 401, 403, 409, 413, 415, 422) },
  }),
  async (c) => {
    const { name, email, password, roles = ['viewer'], disabled = false } = c.req.valid('json');
    if (password !== undefined) await assertNotBreached(c.var.config, password);
    const config = c.var.config;
    const hash = password === undefined ? null : await hashPassword(password, config.PASSWORD_HASH_PARAMS);
    // An invitation (no password) or a verification link, queued in the statement that creates the account.
    const link = await newAccountToken();
    const mail =
      hash === null
        ? { purpose: 'invitation' as const, ttl: config.INVITATION_TTL, message: invitation(emailLink(c, LINK_PATHS.invitation, link.token), config.INVITATION_TTL) }
        : {
            purpose: 'email_verification' as const,
            ttl: config.EMAIL_VERIFICATION_TTL,
            message: emailVerification(emailLink(c, LINK_PATHS.email_verification, link.token), config.EMAIL_VERIFICATION_TTL),
          };
    // One statement: unknown roles stop the insert (nothing is written), a taken email makes it do nothing, a role the
    // caller may not give out refuses the whole statement (403).
    const row = await guarded<{ unknown: string[]; user: UserJson | null }>(c, (g) => sql`
      with ${g.cte},
      wanted as (select unnest(${sql.param(roles)}::text[]) as name),
      known as (select r.id, r.name from roles r where r.name in (select name from wanted)),
      unknown as (select name from wanted where name not in (select name from known)),
      u as (
        insert into users (name, email, hashed_password, disabled)
        select ${name}, ${email}, ${hash}, ${disabled}
        where not exists (select 1 from unknown) and ${g.ok} and coalesce((select bool_and(${g.mayAssign(sql`k.id`)}) from known k), true)
        on conflict (email) do nothing
        returning *
      ), granted as (
        insert into users_roles (user_id, role_id) select u.id, k.id from u, known k
      ), ${issueToken('link', { purpose: mail.purpose, hash: link.hash, ttlSeconds: mail.ttl, source: 'u', email: sql`email` })},
      mail as (${enqueueEmail(c, { to: sql`email`, from: sql`u`, message: mail.message })}),
      invite_audit as (${auditInsert(c, 'user.invite', {
        actor: g.id,
        targetType: 'user',
        targetId: sql`id`,
        details: sql`json_build_object('resend', false)`,
        from: sql`u where hashed_password is null`,
      })}), audit as (${auditInsert(c, 'user.create', {
        actor: g.id,
        targetType: 'user',
        targetId: sql`id`,
        details: sql`json_build_object('email', email, 'roles', (select coalesce(json_agg(name order by name), '[]'::json) from known), 'disabled', disabled, 'invited', hashed_password is null)`,
        from: sql`u`,
      })})
      select ${g.outcome}, array(select name from unknown order by name) as unknown,
        (select ${userJson('u', sql`(select coalesce(json_agg(name order by name), '[]'::json) from known)`)} from u) as user`);
    if (row.unknown.length > 0) {
      throw validationFailed(row.unknown.map((r) => ({ path: 'roles', message: `unknown role: ${r}` })));
    }
    if (!row.user) throw conflict('An account with this email already exists.', 'email-taken');
    return c.json(row.user, 201);
  },
);
