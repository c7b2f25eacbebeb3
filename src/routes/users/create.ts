import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { guarded, requirePermission } from '../../auth/authorize';
import { assertNotBreached } from '../../auth/breached';
import { hashPassword } from '../../auth/password';
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
      'Each role given must carry only permissions the caller holds, and `admin` needs the caller to hold `admin` (403).',
    security: bearer,
    middleware: [requirePermission('users:write')] as const,
    request: { body: jsonBody(CreateUserBody) },
    responses: { 201: jsonResponse(User, 'The new user'), ...problems(400, 401, 403, 409, 413, 415, 422) },
  }),
  async (c) => {
    const { name, email, password, roles = ['viewer'], disabled = false } = c.req.valid('json');
    await assertNotBreached(c.var.config, password);
    const hash = await hashPassword(password, c.var.config.PASSWORD_HASH_PARAMS);
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
      ), audit as (${auditInsert(c, 'user.create', {
        actor: g.id,
        targetType: 'user',
        targetId: sql`id`,
        details: sql`json_build_object('email', email, 'roles', (select coalesce(json_agg(name order by name), '[]'::json) from known), 'disabled', disabled)`,
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
