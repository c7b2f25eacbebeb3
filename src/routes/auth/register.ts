import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { createMiddleware } from 'hono/factory';
import { assertNotBreached } from '../../auth/breached';
import { hashPassword } from '../../auth/password';
import { newRefreshToken, newSessionCtes, tokenPair } from '../../auth/tokens';
import type { AppEnv } from '../../env';
import { rateLimit } from '../../middleware/rate-limit';
import { auditInsert } from '../../lib/audit';
import { conflict, forbidden } from '../../lib/errors';
import { jsonBody, jsonResponse, problems } from '../../lib/openapi';
import { userJson } from '../../lib/sql';
import type { UserJson } from '../../lib/user';
import { RegisterBody, TokenPair } from './schema';

// Checked before the body is validated: with signup off, nothing about the body matters.
const signupEnabled = createMiddleware<AppEnv>(async (c, next) => {
  if (!c.var.config.ALLOW_SIGNUP) throw forbidden('Sign-up is disabled; ask an administrator for an account.');
  await next();
});

export const register = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'post',
    path: '/register',
    tags: ['Auth'],
    summary: 'Create an account (when sign-up is enabled) and sign in',
    middleware: [signupEnabled, rateLimit('register')] as const,
    request: { body: jsonBody(RegisterBody) },
    responses: {
      201: jsonResponse(TokenPair, 'The new account, signed in, holding the default role'),
      ...problems(400, 403, 409, 413, 415, 422),
    },
  }),
  async (c) => {
    const { name, email, password } = c.req.valid('json');
    const config = c.var.config;
    await assertNotBreached(config, password);
    const hash = await hashPassword(password, config.PASSWORD_HASH_PARAMS);
    const refresh = await newRefreshToken();
    // One statement: the user, its default role, the session, its first refresh token and the audit row.
    const result = await c.var.db.execute<{ sid: string; user: UserJson }>(sql`
      with new_user as (
        insert into users (name, email, hashed_password) values (${name}, ${email}, ${hash})
        on conflict (email) do nothing
        returning *
      ), default_role as (
        insert into users_roles (user_id, role_id)
        select u.id, r.id from new_user u, roles r where r.name = 'viewer'
      ), ${newSessionCtes(c, 'new_user', refresh.hash)},
      audit as (
        ${auditInsert(c, 'user.register', { actor: sql`id`, targetType: 'user', targetId: sql`id`, from: sql`new_user` })}
      )
      select s.id as sid, ${userJson('u', sql`json_build_array('viewer')`)} as user
      from new_user u join session s on s.user_id = u.id`);
    const row = result.rows[0];
    if (!row) throw conflict('An account with this email already exists.', 'email-taken');
    return c.json(await tokenPair(config, row.sid, row.user, refresh.token), 201);
  },
);
