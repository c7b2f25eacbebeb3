import pg from 'pg';
import { hashPassword } from '../../src/auth/password';

export const DEFAULT_HASH_PARAMS = 'argon2id:m=19456,t=2,p=1';

/**
 * Creates the account (or resets its password and enables it) and grants it `admin`, in one transaction, with an
 * audit row like every other change. The password is hashed by the same function the Worker uses for sign-in.
 */
export async function ensureAdmin(
  databaseUrl: string,
  admin: { email: string; name: string; password?: string; keepPassword?: boolean },
  params = DEFAULT_HASH_PARAMS,
): Promise<'created' | 'promoted' | 'unchanged'> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const email = admin.email.trim().toLowerCase();
    const hash = admin.password ? await hashPassword(admin.password, params) : null;
    // keepPassword: an existing account keeps its password (npm run dev must not undo a change made through the API).
    await client.query('begin');
    const existing = await client.query<{ id: number; ok: boolean }>(
      `select id, not disabled and exists (select 1 from users_roles ur join roles r on r.id = ur.role_id
         where ur.user_id = users.id and r.name = 'admin') as ok
       from users where email = $1 for update`,
      [email],
    );
    let id: number;
    let outcome: 'created' | 'promoted';
    if (existing.rows[0]?.ok && admin.keepPassword) {
      await client.query('rollback');
      return 'unchanged';
    }
    if (existing.rows[0]) {
      id = existing.rows[0].id;
      outcome = 'promoted';
      await client.query(
        'update users set disabled = false, hashed_password = coalesce($2, hashed_password) where id = $1',
        [id, admin.keepPassword ? null : hash],
      );
      // A new password ends the account's sessions, as a password change through the API does.
      if (hash && !admin.keepPassword) {
        await client.query('update sessions set revoked_at = now() where user_id = $1 and revoked_at is null', [id]);
      }
    } else {
      if (!hash) throw new Error(`no account with email ${email}: a password is needed to create it`);
      const made = await client.query<{ id: number }>(
        'insert into users (name, email, hashed_password) values ($1, $2, $3) returning id',
        [admin.name, email, hash],
      );
      id = made.rows[0]!.id;
      outcome = 'created';
    }
    await client.query(
      `insert into users_roles (user_id, role_id) select $1, id from roles where name = 'admin' on conflict do nothing`,
      [id],
    );
    await client.query(
      `insert into audit_events (actor_id, action, target_type, target_id, details)
       values (null, $1, 'user', $2, $3)`,
      [outcome === 'created' ? 'user.create' : 'role.assign', String(id), JSON.stringify({ role: 'admin', via: 'admin:create' })],
    );
    await client.query('commit');
    return outcome;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    await client.end();
  }
}
