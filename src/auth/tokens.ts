import { sql, type SQL } from 'drizzle-orm';
import type { Context } from 'hono';
import type { AppEnv, Config } from '../env';
import { origin } from '../lib/audit';
import { sha256Hex } from '../lib/sql';
import type { UserJson } from '../lib/user';
import { signAccessToken } from './jwt';

/** 256 random bits, base64url: the refresh token handed out. Only its SHA-256 is stored. */
export async function newRefreshToken(): Promise<{ token: string; hash: string }> {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const token = btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return { token, hash: await sha256Hex(token) };
}

/** `amr` is the session's (sessions.amr): `["pwd"]` for a password sign-in, `["pwd", "otp"]` after a second factor. */
export async function tokenPair(config: Config, sid: string, user: UserJson, refreshToken: string, amr: string[] = ['pwd']) {
  const accessToken = await signAccessToken(config, { id: user.id, roles: user.roles, sid, amr });
  return { tokenType: 'Bearer' as const, accessToken, expiresIn: config.ACCESS_TOKEN_TTL, refreshToken, user };
}

/**
 * The CTEs `session` and `token` of a sign-in statement: one new session per row of `source` (a CTE whose `id` is
 * the user id), expiring absolutely after REFRESH_TOKEN_TTL, with its first refresh token. `amr` records how the
 * session was authenticated, so the access tokens refreshed from it say the same.
 */
export function newSessionCtes(c: Context<AppEnv>, source: string, refreshHash: string, amr: string[] = ['pwd']): SQL {
  const { ip, userAgent } = origin(c);
  return sql`session as (
    insert into sessions (user_id, expires_at, user_agent, ip, amr)
    select id, now() + make_interval(secs => ${c.var.config.REFRESH_TOKEN_TTL}), ${userAgent}, ${ip}, ${sql.param(amr)}::text[]
    from ${sql.raw(source)}
    returning id, user_id, amr
  ), token as (
    insert into refresh_tokens (token_hash, session_id) select decode(${refreshHash}, 'hex'), id from session
  )`;
}
