import { sql, type SQL } from 'drizzle-orm';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../env';
import { sqlState } from '../lib/db-errors';
import { ApiError, forbidden, tooManyRequests, unauthorized } from '../lib/errors';
import { HEAVY_QUERY_RETRY_SECONDS } from '../lib/heavy-queries';
import { apiKeyCheck, apiKeyRefusal } from './api-key-check';
import type { Permission } from './permissions';

/**
 * Request-time authorization (contract §8). The access token only says who the caller is (user id, session id,
 * `amr`); every statement a guarded route runs opens with the CTEs built here, which check against the present state
 * that the session is live (not revoked, not expired, the caller's), the account exists and is enabled, the MFA
 * policy (§10) is met and the route's permission is held now (the union over the roles held now). A refusal raises
 * inside the statement (authz_refuse(), drizzle/0004_permissions.sql), so nothing the statement would have changed
 * is changed, and costs no round trip of its own.
 *
 * §8 v3, no acting on someone stronger: `mayActOn` / `mayRedefine` below, evaluated inside the same statement.
 *
 * Writes lock what the decision rests on: the caller's session row (FOR NO KEY UPDATE) and the `role_permissions`
 * rows that grant their permissions (FOR SHARE). Every demotion updates or deletes one of them (revoking the sessions
 * of a role change, disabling, deleting; or taking a permission from a custom role), so under READ COMMITTED a
 * demotion racing a write either waits until the write has committed, or commits first and the write's re-check sees
 * it and refuses. The session row is locked exclusively, not shared, so that one caller's concurrent writes run one
 * after the other instead of deadlocking when one of them revokes the caller's own sessions (a shared lock would have
 * to be upgraded while the others hold theirs). Reads take no row locks: a read that started before a demotion
 * committed may still answer.
 */
export interface AuthzState {
  /** The permission the route needs here (null: a live session suffices). */
  permission: Permission | null;
  /** True until a guarded statement has been sent. */
  pending: boolean;
  /** Guarded statements sent (Server-Timing reports it beside the statement count, so a test catches bypasses). */
  guarded: number;
}

export interface Guard {
  /** The CTEs that open the statement's WITH list: `with ${g.cte}, …`. */
  cte: SQL;
  /** `true` once the caller is checked (a refusal raises instead). Put it in the WHERE of every write. */
  ok: SQL;
  /** The select-list item `authz`. Select it in the statement's one final row, so the check always runs. */
  outcome: SQL;
  /** The caller's user id (int), e.g. for audit rows. */
  id: SQL;
  /** The caller's effective permissions now (text[], sorted). */
  permissions: SQL;
  /** Whether the caller holds the role `admin` now (boolean). */
  isAdmin: SQL;
  /** `true` when every permission in `permissions` (text[]) is the caller's; otherwise refuses with 403. */
  holdsAll(permissions: SQL): SQL;
  /** `true` when the caller may give the role `roleId` (int) to someone (§8 no escalation); otherwise refuses with 403. */
  mayAssign(roleId: SQL): SQL;
  /** `true` when the caller may take the role `roleId` (int) from someone (admin needs admin); otherwise refuses with 403. */
  mayUnassign(roleId: SQL): SQL;
  /**
   * §8 v3, no acting on someone stronger: `true` when the caller holds every permission the user `userId` (int)
   * holds now, and `admin` if that user holds it; otherwise refuses with 403 (`target-stronger`). An unknown id
   * passes (the route answers 404). Put it in the WHERE that selects the target, before anything changes it: it locks
   * the target's row, its assignments and its custom roles until the statement commits (authz_may_act_on(),
   * drizzle/0013), so the target's roles and their grants cannot change between the decision and the change. Every
   * route that changes another account (or its sessions, keys, second factor, invitation, lockout, roles taken
   * away) must use it.
   */
  mayActOn(userId: SQL): SQL;
  /**
   * §8 v3: `true` when the caller holds every permission the role `roleId` (int) carries now (locked until commit,
   * authz_may_redefine()); otherwise 403. For deleting a role or changing its permissions ("before"; the new set is
   * `holdsAll`).
   */
  mayRedefine(roleId: SQL): SQL;
}

export interface RequireOptions {
  /** A path parameter naming a user id: when it is the caller's own id, no permission is needed (a live session is). */
  self?: string;
}

/**
 * Declares, at the route, the permission it needs (`null`: any caller with a live session). Mount after `auth()`.
 * The guarded statements of the handler decide; a client error (400/403/404/409/422…) raised before any guarded
 * statement ran is answered only after the caller has been checked in one statement, so a caller who may not be
 * here learns nothing from validation (order: 401, 403, then the route's own answers).
 */
export const requirePermission = (permission: Permission | null, options: RequireOptions = {}) =>
  createMiddleware<AppEnv>(async (c, next) => {
    if (!c.var.caller) throw new Error('requirePermission() is mounted without auth()');
    // A key (§16) is never "own": it needs the permission even for its owner's id (it cannot reach /v1/me either).
    const own = options.self !== undefined && !c.var.caller.apiKey && c.req.param(options.self) === String(c.var.caller.id);
    c.set('authz', { permission: own ? null : permission, pending: true, guarded: 0 });
    await next();
    const error = c.error;
    if (c.var.authz.pending && error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 401) {
      await checkCaller(c);
    }
  });

type Mode = 'read' | 'write';

/** §10: holders of MFA_REQUIRED_ROLES whose token lacks `otp` (or `mfa`: a passkey, §17) are refused everywhere but these paths. */
function mfaExempt(path: string): boolean {
  return (
    path === '/v1/me' || path === '/v1/me/password' || path.startsWith('/v1/me/mfa') || path.startsWith('/v1/me/passkeys') || path.startsWith('/v1/auth/')
  );
}

function buildGuard(c: Context<AppEnv>, mode: Mode): Guard {
  const { id, sid, amr } = c.var.caller;
  const { permission } = c.var.authz;
  const write = mode === 'write';
  // A personal API key (§16) brings its own check (src/auth/api-key-check.ts); the rules below it are the same.
  const key = c.var.caller.apiKey ? apiKeyCheck(c, mode) : undefined;
  const uid = key?.uid ?? sql`${id}::int`;
  // Primary-key lookups only: sessions (id), users (id), users_roles (user_id, role_id), role_permissions (role_id, permission).
  const live = sql`select s.id from sessions s join users u on u.id = s.user_id
    where s.id = ${sid}::uuid and s.user_id = ${uid} and s.revoked_at is null and s.expires_at > now() and not u.disabled`;
  const grants = sql`select rp.permission from users_roles ur join role_permissions rp on rp.role_id = ur.role_id
    where ur.user_id = ${uid}`;
  const mfaRoles = c.var.config.MFA_REQUIRED_ROLES;
  const needsOtp = mfaRoles.length > 0 && !amr.includes('otp') && !amr.includes('mfa') && !mfaExempt(c.req.path);

  const checks = [sql`when not exists (${write ? sql`select 1 from authz_session` : live}) then authz_refuse('unauthenticated')`];
  if (needsOtp) {
    checks.push(sql`when exists (select 1 from users_roles ur join roles r on r.id = ur.role_id
      where ur.user_id = ${uid} and r.name = any (${sql.param(mfaRoles)}::text[])) then authz_refuse('mfa')`);
  }
  if (permission) {
    const held = write ? sql`select 1 from authz_grants g where g.permission = ${permission}` : sql`${grants} and rp.permission = ${permission}`;
    checks.push(sql`when not exists (${held}) then authz_refuse('forbidden')`);
  }
  const locks = write ? sql`authz_session as (${live} for no key update of s), authz_grants as (${grants} for share of rp), ` : sql``;
  const cte = key?.cte ?? sql`${locks}authz_caller as (select case ${sql.join(checks, sql` `)} else true end as ok)`;

  const permissions =
    key?.permissions ??
    (write
      ? sql`array(select distinct permission from authz_grants order by 1)`
      : sql`array(select distinct rp.permission from users_roles ur join role_permissions rp on rp.role_id = ur.role_id
                  where ur.user_id = ${uid} order by 1)`);
  const isAdmin = key?.isAdmin ?? sql`exists (select 1 from users_roles ur join roles r on r.id = ur.role_id where ur.user_id = ${uid} and r.name = 'admin')`;
  const isAdminRole = (roleId: SQL) => sql`exists (select 1 from roles ar where ar.id = ${roleId} and ar.name = 'admin')`;
  // The caller check first (CASE evaluates in order), so a caller who is not live gets the 401, not this 403.
  const afterCaller = (check: SQL) => sql`(case when not (select ok from authz_caller) then false else ${check} end)`;
  const refuseIf = (condition: SQL) =>
    sql`(case when not (select ok from authz_caller) then false when ${condition} then authz_refuse('escalation') else true end)`;
  return {
    cte,
    ok: sql`(select ok from authz_caller)`,
    outcome: sql`(select ok from authz_caller) as authz`,
    id: uid,
    permissions,
    isAdmin,
    holdsAll: (wanted) => refuseIf(sql`exists (select 1 from unnest(${wanted}::text[]) w(p) where w.p <> all (${permissions}))`),
    mayAssign: (roleId) =>
      refuseIf(sql`exists (select 1 from role_permissions rp where rp.role_id = ${roleId} and rp.permission <> all (${permissions}))
        or (${isAdminRole(roleId)} and not ${isAdmin})`),
    mayUnassign: (roleId) => refuseIf(sql`${isAdminRole(roleId)} and not ${isAdmin}`),
    mayActOn: (userId) => afterCaller(sql`authz_may_act_on(${userId}, ${permissions}, ${isAdmin})`),
    mayRedefine: (roleId) => afterCaller(sql`authz_may_redefine(${roleId}, ${permissions})`),
  };
}

const AUTHENTICATION_GONE = 'The session has ended, or the account is disabled or deleted: sign in again.';

function refusal(c: Context<AppEnv>, state: string | undefined, error?: unknown): ApiError | undefined {
  if (c.var.caller.apiKey) {
    const keyRefusal = apiKeyRefusal(c, state, error);
    if (keyRefusal) return keyRefusal;
  }
  switch (state) {
    case 'P0A11':
      return unauthorized(AUTHENTICATION_GONE);
    case 'P0A13':
      return forbidden(`This needs the permission ${c.var.authz.permission}.`);
    case 'P0A14':
      return new ApiError(
        403,
        'mfa-enrolment-required',
        'Your role requires a second factor: enrol at /v1/me/mfa/totp or add a passkey at /v1/me/passkeys, then sign in again with it.',
      );
    case 'P0A15':
      return forbidden('You cannot give out, take away or define permissions or roles you do not hold yourself.');
    case 'P0A17':
      return tooManyRequests(HEAVY_QUERY_RETRY_SECONDS, 'Too many of your analytics queries are running at once; try again when one has finished.');
    case 'P0A16':
      return new ApiError(
        403,
        'target-stronger',
        'You cannot change an account, or a role, that holds permissions you do not hold yourself (or admin, when you do not).',
      );
  }
  return undefined;
}

const DEADLOCK_RETRIES = 3;

async function execute(c: Context<AppEnv>, statement: SQL, db: Pick<AppEnv['Variables']['db'], 'execute'> = c.var.db): Promise<Record<string, unknown>[]> {
  const state = c.var.authz;
  if (!state) throw new Error('a guarded statement on a route without requirePermission()');
  state.pending = false;
  for (let attempt = 0; ; attempt++) {
    state.guarded++;
    try {
      return (await db.execute(statement)).rows;
    } catch (error) {
      const code = sqlState(error);
      const refused = refusal(c, code, error);
      if (refused) throw refused;
      // Two callers acting on each other at the same moment (each holding its own session row, each revoking the
      // other's) deadlock, and PostgreSQL aborts one statement whole. Run it again: it then sees the other's
      // committed change (typically its own session revoked: 401). A third party can join the cycle, hence more than
      // one retry, with a short random pause so the retries do not meet again.
      if (code === '40P01' && attempt < DEADLOCK_RETRIES) {
        await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20 * (attempt + 1)));
        continue;
      }
      throw error;
    }
  }
}

const modeOf = (c: Context<AppEnv>): Mode => (c.req.method === 'GET' || c.req.method === 'HEAD' ? 'read' : 'write');

/**
 * Runs a guarded statement that answers exactly one row: `build` returns `with ${g.cte}, … select ${g.outcome}, …`
 * (data-modifying CTEs allowed, each write conditioned on `g.ok`). Returns that row without `authz`; throws the
 * 401/403 of a refusal. Writes (any method but GET/HEAD) lock; `mode` overrides.
 */
export async function guarded<T extends Record<string, unknown>>(
  c: Context<AppEnv>,
  build: (g: Guard) => SQL,
  options: { mode?: Mode } = {},
): Promise<T> {
  const rows = await execute(c, build(buildGuard(c, options.mode ?? modeOf(c))));
  const row = rows[0];
  if (rows.length !== 1 || !row || !('authz' in row)) throw new Error('a guarded statement must answer one row selecting g.outcome');
  const { authz: _, ...rest } = row;
  return rest as T;
}

/**
 * Runs a read that answers any number of rows: `build` returns a plain SELECT (no WITH of its own writes; it may
 * use `g.id`, `g.permissions`…), which is run only after the caller check passed. Returns its rows. `db`: another handle
 * than the request's (a streamed export's later pages, run after the request's pool has ended).
 */
export async function guardedRows<T extends Record<string, unknown>>(
  c: Context<AppEnv>,
  build: (g: Guard) => SQL,
  options: { db?: Pick<AppEnv['Variables']['db'], 'execute'> } = {},
): Promise<T[]> {
  const g = buildGuard(c, 'read');
  const rows = await execute(
    c,
    sql`with ${g.cte} select a.authz, q.* from (select ${g.outcome}) a
      left join lateral (select true as authz_row, q0.* from (${build(g)}) q0) q on true`,
    options.db,
  );
  return rows.filter((r) => r.authz_row).map(({ authz: _a, authz_row: _r, ...rest }) => rest as T);
}

/** The check alone, in one statement: for an answer that needs nothing else from the database. */
export async function checkCaller(c: Context<AppEnv>): Promise<void> {
  await guarded(c, (g) => sql`with ${g.cte} select ${g.outcome}`, { mode: 'read' });
}
