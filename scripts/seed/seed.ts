/**
 * Demo data for dashboards and benchmarks: users, role assignments, audit events and sessions spread over the past
 * year, generated inside PostgreSQL with set-based SQL (INSERT … SELECT over generate_series) so 100k users and 1M
 * events take seconds, not minutes.
 *
 * Shape of the data:
 * - users `user<i>@demo.test` (i = 1..N), sign-ups growing over the year (density ∝ e^(2t)), ~3% disabled,
 *   ~10% who never signed in after registering; plus `bench-admin@demo.test` (admin) and `bench-analyst@demo.test`
 *   (analyst). Everyone holds `viewer`, ~5% `analyst`, ~0.5% `admin`. All share ONE password hash (scrypt is costly:
 *   it is computed once), so a benchmark can sign in as any of them.
 * - audit events shaped like the ones the routes write: registrations at each user's `created_at`, then a stream
 *   over the year (also growing) that is mostly `auth.login` / `auth.login_failed` of users who existed at the time,
 *   plus logouts, profile and password changes, role assignments and the odd role change. Rows are inserted in time
 *   order so ids follow `at` as they do in production. `last_login_at` is the user's latest seeded `auth.login`.
 * - a live session (with an unusable refresh-token hash) for users who signed in during the last 30 days, and some
 *   revoked older ones.
 *
 * Seeding again replaces the earlier demo data (users under @demo.test and audit rows whose request_id starts with
 * `seed-`) and leaves everything else alone.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { hashPassword } from '../../src/auth/password';
import { DEFAULT_HASH_PARAMS } from '../admin/ensure-admin';
import { seedActivity } from './activity';

export const DEMO_PASSWORD = 'demo-password-1234';
export const DEMO_DOMAIN = 'demo.test';
export const BENCH_ADMIN_EMAIL = `bench-admin@${DEMO_DOMAIN}`;
export const BENCH_ANALYST_EMAIL = `bench-analyst@${DEMO_DOMAIN}`;
/** The i-th seeded user's email (i = 1..users). */
export const demoEmail = (i: number) => `user${i}@${DEMO_DOMAIN}`;

export interface SeedProgress {
  phase: 'prepare' | 'users' | 'events' | 'audit' | 'indexes' | 'sessions' | 'activity' | 'rollups' | 'analyze';
  done: number;
  total: number;
}

export interface SeedOptions {
  users: number;
  events: number;
  password?: string;
  /** scrypt parameters of the shared hash; the Worker's default unless given. */
  hashParams?: string;
  /**
   * Also open this many live sessions (one per enabled demo user, in turn) and return their refresh tokens: a
   * benchmark of POST /v1/auth/refresh needs one unused token per connection, and signing in for each costs a hash.
   */
  refreshTokens?: number;
  onProgress?: (progress: SeedProgress) => void;
}

export interface SeedResult {
  users: number;
  events: number;
  /** Rows of user_activity: account-days with activity. */
  activity: number;
  sessions: number;
  password: string;
  adminEmail: string;
  adminId: number;
  analystEmail: string;
  analystId: number;
  /** Unused refresh tokens (see SeedOptions.refreshTokens), stored like the Worker stores them: SHA-256 only. */
  refreshTokens: string[];
  /** Demo rows removed before seeding (a previous run). */
  replaced: { users: number; events: number };
  ms: number;
}

const FIRST_NAMES = [
  'Ada', 'Alan', 'Amara', 'Ana', 'Arjun', 'Aylin', 'Ben', 'Bianca', 'Carlos', 'Chen', 'Chloe', 'Daniel', 'Dmitri', 'Elena',
  'Emma', 'Farah', 'Felix', 'Grace', 'Hana', 'Hugo', 'Ines', 'Isaac', 'Jade', 'James', 'Jonas', 'Julia', 'Kai', 'Kenji',
  'Lara', 'Leila', 'Liam', 'Lucas', 'Maya', 'Mateo', 'Mei', 'Mia', 'Nadia', 'Noah', 'Nora', 'Oscar', 'Priya', 'Rafael',
  'Rosa', 'Sam', 'Sara', 'Sofia', 'Tariq', 'Theo', 'Uma', 'Victor', 'Wei', 'Yara', 'Yusuf', 'Zoe',
];
const LAST_NAMES = [
  'Abebe', 'Adams', 'Almeida', 'Andersson', 'Bauer', 'Becker', 'Brown', 'Castro', 'Chen', 'Costa', 'Dubois', 'Eriksen',
  'Fischer', 'Garcia', 'Gonzalez', 'Hansen', 'Hoffmann', 'Ito', 'Ivanova', 'Jensen', 'Johnson', 'Kim', 'Kowalski',
  'Kumar', 'Larsen', 'Lee', 'Lopez', 'Martin', 'Meyer', 'Moreau', 'Müller', 'Nakamura', 'Nguyen', 'Novak', 'Okafor',
  'Olsen', 'Park', 'Patel', 'Perez', 'Rossi', 'Santos', 'Schmidt', 'Silva', 'Singh', 'Smith', 'Tanaka', 'Taylor',
  'Thompson', 'Wagner', 'Wang', 'Weber', 'Williams', 'Wilson', 'Yilmaz', 'Zhang',
];
const USER_AGENTS = [
  'Chrome/126 (Windows)', 'Chrome/126 (macOS)', 'Safari/17 (macOS)', 'Safari/17 (iOS)', 'Firefox/127 (Linux)',
  'Edge/126 (Windows)', 'Chrome/126 (Android)', 'dashboard-cli/1.4',
];
const CUSTOM_ROLES = ['auditor', 'support', 'finance', 'marketing', 'ops'];

/** Sign-up growth: density ∝ e^(K·t) over the year (t = 0 a year ago, 1 now); events grow a little faster. */
const USER_GROWTH = 2;
const EVENT_GROWTH = 2.5;
const EVENT_CHUNK = 100_000;
const USER_CHUNK = 25_000;

const lit = (values: string[]) => `array[${values.map((v) => `'${v.replace(/'/g, "''")}'`).join(',')}]`;
const pick = (values: string[], r = 'random()') => `(${lit(values)})[1 + floor(${r} * ${values.length})::int]`;
/** A stable "home" IPv4 address per user id, and a random one for the rest. */
const homeIp = (id: string) =>
  `concat_ws('.', ((hashint4(${id})::bigint & 2147483647) >> 24) % 223 + 1, (hashint4(${id})::bigint >> 16) & 255, (hashint4(${id})::bigint >> 8) & 255, hashint4(${id})::bigint & 255)`;
const randomIp = `concat_ws('.', 1 + floor(random() * 223)::int, floor(random() * 256)::int, floor(random() * 256)::int, floor(random() * 256)::int)`;
/** Position x ∈ (0,1) in the ranking of events → fraction t of the year, for density ∝ e^(k·t). */
const growth = (x: string, k: number) => `(ln(1 + (${x}) * (exp(${k}::float8) - 1)) / ${k}::float8)`;

/**
 * Fills the database at `databaseUrl` (already migrated) with demo data, in one transaction, then VACUUM ANALYZE.
 */
export async function seed(databaseUrl: string, options: SeedOptions): Promise<SeedResult> {
  const started = performance.now();
  const n = Math.max(0, Math.floor(options.users));
  const m = Math.max(0, Math.floor(options.events));
  const password = options.password ?? DEMO_PASSWORD;
  const report = options.onProgress ?? (() => {});
  const hash = await hashPassword(password, options.hashParams ?? DEFAULT_HASH_PARAMS);

  const client = new pg.Client({ connectionString: databaseUrl });
  client.on('error', () => {});
  await client.connect();
  const q = async <T extends pg.QueryResultRow = Record<string, unknown>>(text: string, params: unknown[] = []) =>
    (await client.query<T>(text, params)).rows;
  try {
    // Bulk-load settings for this session only; temp_buffers must be set before the first temporary table.
    await q(`set synchronous_commit = off`);
    await q(`set work_mem = '256MB'`);
    await q(`set maintenance_work_mem = '1GB'`);
    // Index builds may use a second core; the server's max_worker_processes still caps it.
    await q(`set max_parallel_maintenance_workers = 2`);
    await q(`set temp_buffers = '256MB'`);
    await q(`select setseed(0.4242)`);
    await q('begin');

    report({ phase: 'prepare', done: 0, total: 1 });
    const replaced = await removeDemoData(q);
    report({ phase: 'prepare', done: 1, total: 1 });

    const roleIds = Object.fromEntries(
      (await q<{ name: string; id: number }>(`select name, id from roles where name in ('admin', 'analyst', 'viewer')`)).map((r) => [r.name, r.id]),
    ) as Record<string, number>;
    for (const role of ['admin', 'analyst', 'viewer']) {
      if (!roleIds[role]) throw new Error(`built-in role ${role} is missing: run the migrations first`);
    }

    // --- Users, staged with their final ids (taken from the sequence) so events can refer to them before insertion.
    const seqName = (await q<{ s: string }>(`select pg_get_serial_sequence('users', 'id') as s`))[0]!.s;
    await q(`create temp table du (
      idx int primary key, id int not null, name text not null, email text not null, created_at timestamptz not null,
      disabled bool not null, is_admin bool not null, is_analyst bool not null, dormant bool not null, reg bool not null
    ) on commit drop`);
    await q(
      `insert into du values
        (-1, nextval($1::regclass), 'Bench Admin', $2, now() - interval '366 days', false, true, false, true, false),
        (0, nextval($1::regclass), 'Bench Analyst', $3, now() - interval '366 days', false, false, true, true, false)`,
      [seqName, BENCH_ADMIN_EMAIL, BENCH_ANALYST_EMAIL],
    );
    // Registration events for up to 15% of the events budget (every user, unless events are scarce).
    const regShare = n === 0 ? 0 : Math.min(1, (m * 0.15) / n);
    await q(
      `insert into du
       select g, nextval($1::regclass),
         ${pick(FIRST_NAMES)} || ' ' || ${pick(LAST_NAMES)},
         'user' || g || '@${DEMO_DOMAIN}',
         now() - interval '365 days' + interval '365 days' * ${growth('(g - random()) / $2::float8', USER_GROWTH)},
         random() < 0.03, random() < 0.005, random() < 0.05, random() < 0.10, random() < $3::float8
       from generate_series(1, $2::int) g`,
      [seqName, n, regShare],
    );
    const ids = await q<{ admin_id: number; analyst_id: number; admins: number[] }>(
      `select (select id from du where idx = -1) as admin_id, (select id from du where idx = 0) as analyst_id,
              array(select id from du where is_admin order by id) as admins`,
    );
    const { admin_id: adminId, analyst_id: analystId, admins } = ids[0]!;
    // Users who sign in, ranked by sign-up time: an event at time t picks one of those who existed by then.
    await q(`create temp table da on commit drop as
      select row_number() over (order by created_at, idx)::int as act, id, created_at from du where idx > 0 and not dormant`);
    await q(`alter table da add primary key (act)`);
    const active = Number((await q<{ c: string }>(`select count(*) as c from da`))[0]!.c);

    // --- Audit events, generated into a temporary table first so they can be inserted in time order.
    await q(`create temp table ev (
      at timestamptz not null, actor_id int, action text not null, target_type text not null, target_id text,
      ip text, details jsonb not null
    ) on commit drop`);
    const regEvents = Number(
      (
        await q<{ c: string }>(
          `with ins as (
             insert into ev
             select created_at,
               case when r < 0.92 then id else ($1::int[])[1 + floor(random() * cardinality($1::int[]))::int] end,
               case when r < 0.92 then 'user.register' else 'user.create' end,
               'user', id::text, ${homeIp('id')},
               case when r < 0.92 then '{}'::jsonb else '{"roles":["viewer"]}'::jsonb end
             from (select *, random() as r from du where reg and idx > 0) d
             limit $2::int
             returning 1
           ) select count(*) as c from ins`,
          [admins, m],
        )
      )[0]!.c,
    );
    const stream = active > 0 ? m - regEvents : 0;
    report({ phase: 'events', done: regEvents, total: regEvents + stream });
    const maxUserId = Number((await q<{ x: number }>(`select max(id) as x from du`))[0]!.x);
    for (let lo = 1; lo <= stream; lo += EVENT_CHUNK) {
      const hi = Math.min(stream, lo + EVENT_CHUNK - 1);
      await q(
        `with s as (
           select g, random() as r, random() as r2, ${growth('(g - random()) / $3::float8', EVENT_GROWTH)} as t
           from generate_series($1::int, $2::int) g
         ), p as (
           select s.*,
             least($4::int, 1 + floor(random() * greatest(1, ceil($4::int * (exp(${USER_GROWTH} * t) - 1) / (exp(${USER_GROWTH}::float8) - 1))))::int) as act,
             ($5::int[])[1 + floor(random() * cardinality($5::int[]))::int] as admin_id,
             case
               when r < 0.100 then 'auth.login_failed'
               when r < 0.150 then 'auth.logout'
               when r < 0.168 then 'user.update'
               when r < 0.178 then 'user.password_change'
               when r < 0.190 then 'role.assign'
               when r < 0.195 then 'role.unassign'
               when r < 0.197 then 'user.delete'
               when r < 0.198 then 'auth.refresh_reuse'
               when r < 0.19810 then 'role.update'
               when r < 0.19815 then 'role.create'
               when r < 0.19818 then 'role.delete'
               else 'auth.login'
             end as action
           from s
         ), e as (
           select p.*, da.id as uid,
             least(now(), greatest(now() - interval '365 days' + interval '365 days' * p.t,
                                   da.created_at + interval '1 minute' + random() * interval '1 hour')) as at1
           from p join da on da.act = p.act
         )
         insert into ev (at, actor_id, action, target_type, target_id, ip, details)
         select
           -- Failed sign-ins stay out of the last hour so no seeded account starts out locked.
           case when action = 'auth.login_failed' then least(at1, now() - interval '1 hour' - random() * interval '1 hour') else at1 end,
           case
             when action in ('auth.login', 'auth.logout', 'user.password_change', 'auth.refresh_reuse') then uid
             when action = 'auth.login_failed' then null
             else admin_id
           end,
           action,
           case when action in ('auth.logout', 'auth.refresh_reuse') then 'session'
                when action in ('role.create', 'role.update', 'role.delete') then 'role' else 'user' end,
           case
             when action in ('auth.logout', 'auth.refresh_reuse') then gen_random_uuid()::text
             when action in ('role.create', 'role.update', 'role.delete') then ${pick(CUSTOM_ROLES, 'r2')}
             when action = 'user.delete' then null -- numbered below, once all are known
             else uid::text
           end,
           case when action = 'auth.login_failed' and r2 < 0.4 then ${randomIp}
                when r2 < 0.8 then ${homeIp('uid')} else ${randomIp} end,
           case action
             when 'auth.login' then jsonb_build_object('sessionId', gen_random_uuid(), 'userAgent', ${pick(USER_AGENTS, 'r2')})
             when 'auth.login_failed' then jsonb_build_object('reason', case when r2 < 0.97 then 'bad_credentials' else 'disabled' end)
             when 'user.update' then jsonb_build_object('fields', (array['["name"]', '["email"]', '["disabled"]', '["name","email"]'])[1 + floor(r2 * 4)::int]::jsonb)
             when 'role.assign' then jsonb_build_object('role', case when r2 < 0.7 then 'analyst' when r2 < 0.8 then 'admin' else ${pick(CUSTOM_ROLES, '(r2 - 0.8) * 5')} end)
             when 'role.unassign' then jsonb_build_object('role', case when r2 < 0.7 then 'analyst' when r2 < 0.8 then 'admin' else ${pick(CUSTOM_ROLES, '(r2 - 0.8) * 5')} end)
             when 'role.create' then jsonb_build_object('description', 'Custom role')
             when 'role.update' then jsonb_build_object('fields', '["description"]'::jsonb)
             else '{}'::jsonb
           end
         from e`,
        [lo, hi, stream, active, admins],
      );
      report({ phase: 'events', done: regEvents + hi, total: regEvents + stream });
    }
    const events = regEvents + stream;
    // Deleted users had ids of their own (after the seeded ones, in order of deletion) that are never handed out again.
    await q(
      `update ev set target_id = ($1::int + d.n)::text
       from (select ctid as row, row_number() over (order by at) as n from ev where action = 'user.delete') d
       where ev.ctid = d.row`,
      [maxUserId],
    );
    await q(
      `select setval($1::regclass, greatest(pg_sequence_last_value($1::regclass), $2::int + (select count(*) from ev where action = 'user.delete')))`,
      [seqName, maxUserId],
    );
    await q(`create index on ev (at)`);
    await q(`create temp table ll on commit drop as
      select target_id::int as id, max(at) as last from ev where action = 'auth.login' group by 1`);
    await q(`alter table ll add primary key (id)`);

    // --- Users and their roles, in id order. A large load goes in without the GIN search indexes (maintained row by
    // row they held inserts to ~1,000 rows/s at 1M users), rebuilt afterwards from their own definitions.
    const searchIndexes =
      n >= 100_000
        ? await q<{ name: string; def: string }>(
            `select quote_ident(n.nspname) || '.' || quote_ident(c.relname) as name, pg_get_indexdef(i.indexrelid) as def
             from pg_index i join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace
             join pg_am a on a.oid = c.relam
             where i.indrelid = 'users'::regclass and a.amname = 'gin'`,
          )
        : [];
    for (const index of searchIndexes) await q(`drop index ${index.name}`);
    for (let lo = -1; lo <= n; lo += USER_CHUNK) {
      const hi = Math.min(n, lo + USER_CHUNK - 1);
      await q(
        `insert into users (id, name, email, hashed_password, created_at, disabled, last_login_at)
         select du.id, du.name, du.email, $3, du.created_at, du.disabled, ll.last
         from du left join ll on ll.id = du.id where du.idx between $1 and $2 order by du.id`,
        [lo, hi, hash],
      );
      report({ phase: 'users', done: hi + 2, total: n + 2 });
    }
    for (const index of searchIndexes) await q(index.def);
    await q(
      `insert into users_roles (user_id, role_id, assigned_at)
       select id, $1::int, created_at from du
       union all
       select id, $2::int, least(now(), created_at + random() * (now() - created_at)) from du where is_analyst
       union all
       select id, $3::int, least(now(), created_at + random() * (now() - created_at)) from du where is_admin`,
      [roleIds.viewer, roleIds.analyst, roleIds.admin],
    );

    // --- Audit rows in time order, in slices so progress can be shown. A large load goes in without the secondary
    // indexes, rebuilt afterwards from their own definitions: ~2× faster than maintaining them row by row.
    const rebuild =
      events >= 200_000
        ? await q<{ name: string; def: string }>(
            `select quote_ident(n.nspname) || '.' || quote_ident(c.relname) as name, pg_get_indexdef(i.indexrelid) as def
             from pg_index i join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace
             where i.indrelid = 'audit_events'::regclass
               and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid)`,
          )
        : [];
    for (const index of rebuild) await q(`drop index ${index.name}`);
    report({ phase: 'audit', done: 0, total: events });
    const slices = Math.max(1, Math.min(20, Math.ceil(events / 50_000)));
    const bounds =
      slices > 1
        ? (
            await q<{ b: string[] }>(
              `select percentile_disc($1::float8[]) within group (order by at)::text[] as b from ev`,
              [Array.from({ length: slices - 1 }, (_, i) => (i + 1) / slices)],
            )
          )[0]!.b
        : [];
    let inserted = 0;
    for (let i = 0; i < slices; i++) {
      const lower = i === 0 ? null : bounds[i - 1]!;
      const upper = i === slices - 1 ? null : bounds[i]!;
      const result = await client.query(
        `insert into audit_events (at, actor_id, action, target_type, target_id, ip, request_id, details)
         select at, actor_id, action, target_type, target_id, ip, 'seed-' || gen_random_uuid(), details from ev
         where ($1::timestamptz is null or at > $1::timestamptz) and ($2::timestamptz is null or at <= $2::timestamptz)
         order by at`,
        [lower, upper],
      );
      inserted += result.rowCount ?? 0;
      report({ phase: 'audit', done: inserted, total: events });
    }
    for (const [i, index] of rebuild.entries()) {
      report({ phase: 'indexes', done: i, total: rebuild.length });
      await q(index.def);
    }
    if (rebuild.length > 0) report({ phase: 'indexes', done: rebuild.length, total: rebuild.length });

    // --- Sessions: a live one for everyone who signed in during the last 30 days, some revoked older ones.
    report({ phase: 'sessions', done: 0, total: 1 });
    const sessions = await client.query(
      `with recent as (
         select du.id, du.created_at, ll.last from du join ll on ll.id = du.id where not du.disabled
       ), live as (
         insert into sessions (user_id, created_at, last_used_at, expires_at, user_agent, ip)
         select id, last, least(now(), last + random() * interval '3 days'), last + interval '30 days',
                ${pick(USER_AGENTS)}, ${homeIp('id')}
         from recent where last > now() - interval '30 days'
         returning id, last_used_at
       ), old as (
         insert into sessions (user_id, created_at, last_used_at, expires_at, revoked_at, user_agent, ip)
         select id, c, c + interval '1 day', c + interval '30 days', c + random() * interval '5 days', ${pick(USER_AGENTS)}, ${homeIp('id')}
         from (select id, greatest(created_at, last - random() * interval '60 days') as c from recent where random() < 0.3) o
         returning id
       ), tokens as (
         -- Hashes of tokens nobody holds: the sessions look real, yet no seeded refresh token can be used.
         insert into refresh_tokens (token_hash, session_id, created_at)
         select sha256(uuid_send(gen_random_uuid())), id, last_used_at from live
       )
       select (select count(*) from live) + (select count(*) from old) as c`,
    );
    const sessionCount = Number(sessions.rows[0]!.c);
    // Tokens in the Worker's format (256 random bits, base64url); the database keeps SHA-256 of the text only.
    const refreshTokens = Array.from({ length: Math.max(0, Math.floor(options.refreshTokens ?? 0)) }, () => randomBytes(32).toString('base64url'));
    if (refreshTokens.length > 0) {
      await q(
        `with owners as (
           select array_agg(id order by idx) as ids from du where idx > 0 and not disabled
         ), made as (
           insert into sessions (user_id, expires_at, user_agent)
           select ids[1 + (t.n - 1) % cardinality(ids)], now() + interval '30 days', 'bench' from owners, unnest($1::text[]) with ordinality t(token, n)
           where cardinality(ids) > 0
           returning id
         ), numbered as (
           select id, row_number() over () as n from made
         )
         insert into refresh_tokens (token_hash, session_id)
         select sha256(convert_to(t.token, 'UTF8')), numbered.id
         from unnest($1::text[]) with ordinality t(token, n) join numbered on numbered.n = t.n`,
        [refreshTokens],
      );
    }
    report({ phase: 'sessions', done: 1, total: 1 });

    const activity = await seedActivity(q, (phase, done, total) => report({ phase, done, total }));
    // TRUNCATE and the replica-mode delete above bypass the counting triggers: count afresh.
    await q(`delete from role_user_counts`);
    await q(`insert into role_user_counts (role_id, shard, users) select role_id, user_id % 16, count(*) from users_roles group by 1, 2`);
    await q(`select rebuild_stats_counters()`);

    await q('commit');

    report({ phase: 'analyze', done: 0, total: 1 });
    // VACUUM also sets the visibility map, so index-only scans work as they would on a settled database.
    await q(`vacuum (analyze) users, users_roles, roles, role_user_counts, sessions, refresh_tokens, audit_events, user_activity, user_last_activity, stats_quarterly, stats_hourly, user_totals, quarter_histograms`);
    report({ phase: 'analyze', done: 1, total: 1 });

    return {
      users: n + 2,
      events,
      activity,
      sessions: sessionCount,
      refreshTokens,
      password,
      adminEmail: BENCH_ADMIN_EMAIL,
      adminId,
      analystEmail: BENCH_ANALYST_EMAIL,
      analystId,
      replaced,
      ms: Math.round(performance.now() - started),
    };
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    await client.end().catch(() => {});
  }
}

type Query = <T extends pg.QueryResultRow = Record<string, unknown>>(text: string, params?: unknown[]) => Promise<T[]>;

/** The tables that reference users by `user_id` (mfa_factors before its own dependants, which reference it). */
const USER_TABLES = ['users_roles', 'sessions', 'user_activity', 'user_last_activity', 'activity_zone_last', 'account_tokens', 'email_quota', 'mfa_factors'];
const MFA_TABLES = ['mfa_recovery_codes', 'mfa_challenges'];

/** Removes an earlier run's demo users (with their roles and sessions) and seeded audit rows. */
async function removeDemoData(q: Query): Promise<{ users: number; events: number }> {
  const demo = `email like '%@${DEMO_DOMAIN}'`;
  const [counts] = await q<{ demo_users: string; other_users: string; seeded: string; other_events: boolean; known_refs: boolean }>(
    `select (select count(*) from users where ${demo}) as demo_users,
            (select count(*) from users where not (${demo})) as other_users,
            (select count(*) from audit_events where request_id like 'seed-%') as seeded,
            exists (select 1 from audit_events where request_id is null or request_id not like 'seed-%') as other_events,
            -- The shortcuts below are safe only while users and sessions are referenced by the tables known here.
            not exists (select 1 from pg_constraint where contype = 'f' and (
              (confrelid = 'users'::regclass and conrelid::regclass::text <> all ($1::text[]))
              or (confrelid = 'sessions'::regclass and conrelid <> 'refresh_tokens'::regclass)
              or (confrelid = 'mfa_factors'::regclass and conrelid::regclass::text <> all ($2::text[])))) as known_refs`,
    [USER_TABLES, MFA_TABLES],
  );
  const demoUsers = Number(counts!.demo_users);
  const seeded = Number(counts!.seeded);
  const scope = `(select id from users where ${demo})`;
  const deleteDemoUsers = async () => {
    // Dependants first and set-based: the per-row cascade from users into sessions cannot use its partial index.
    await q(`delete from refresh_tokens where session_id in (select id from sessions where user_id in ${scope})`);
    await q(`delete from sessions where user_id in ${scope}`);
    for (const table of [...MFA_TABLES, ...USER_TABLES.filter((t) => t !== 'sessions')]) {
      await q(`delete from ${table} where user_id in ${scope}`);
    }
    await q(`delete from users where ${demo}`);
  };
  if (demoUsers > 0) {
    if (counts!.known_refs && Number(counts!.other_users) === 0) {
      // Only demo users: TRUNCATE is instant and fires no per-row triggers.
      await q(`truncate users, refresh_tokens, ${[...USER_TABLES, ...MFA_TABLES].join(', ')}`);
    } else if (counts!.known_refs) {
      // Without per-row foreign-key and last-admin triggers (superuser only; the new demo admins come in this same
      // transaction); with them when that is not allowed: correct, only slower.
      await q('savepoint fast_delete');
      try {
        await q(`set local session_replication_role = replica`);
        await deleteDemoUsers();
        await q(`set local session_replication_role = origin`);
        await q('release savepoint fast_delete');
      } catch {
        await q('rollback to savepoint fast_delete');
        await deleteDemoUsers();
      }
    } else {
      await deleteDemoUsers();
    }
  }
  if (seeded > 0) {
    // The audit trail is append-only (drizzle/0005_self_protection.sql); removing seeded rows is an operator's
    // maintenance step, so it uses the transaction-local switch (this runs inside the seeding transaction).
    await q(`set local dashboard.audit_purge = 'on'`);
    if (!counts!.other_events) await q(`truncate audit_events`);
    else await q(`delete from audit_events where request_id like 'seed-%'`);
    await q(`set local dashboard.audit_purge = 'off'`);
  }
  return { users: demoUsers, events: seeded };
}

/** Shows seeding progress on stderr: one line rewritten in place on a terminal, else a line per step of ≥10%. */
export function progressPrinter() {
  const tty = process.stderr.isTTY;
  const started = performance.now();
  let phase = '';
  let phaseStarted = started;
  let phaseStartDone = 0;
  let lastPercent = -100;
  return {
    update({ phase: p, done, total }: SeedProgress) {
      const now = performance.now();
      if (p !== phase) {
        if (tty && phase) process.stderr.write('\n');
        phase = p;
        phaseStarted = now;
        phaseStartDone = done;
        lastPercent = -100;
      }
      const percent = total > 0 ? Math.floor((done / total) * 100) : 100;
      const seconds = (now - phaseStarted) / 1000;
      const rate = total > 1 && seconds > 0.05 ? `  ${Math.round((done - phaseStartDone) / seconds).toLocaleString('en-US')} rows/s` : '';
      const rows = total > 1 ? `  ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} rows` : '';
      const line = `seed ${p.padEnd(8)} ${String(percent).padStart(3)}%${rows}${rate}  (${((now - started) / 1000).toFixed(1)}s)`;
      if (tty) process.stderr.write(`\r${line}\x1b[K`);
      else if (percent - lastPercent >= 10 || percent === 100) {
        process.stderr.write(`${line}\n`);
        lastPercent = percent;
      }
    },
    end() {
      if (tty && phase) process.stderr.write('\n');
    },
  };
}
