import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql, type SQL } from 'drizzle-orm';
import { guardedRows, requirePermission } from '../../auth/authorize';
import type { AppEnv } from '../../env';
import { decodeCursor, invalidCursor, pageFrom } from '../../lib/cursor';
import { bearer, jsonResponse, problems } from '../../lib/openapi';
import { userJson } from '../../lib/sql';
import type { UserJson } from '../../lib/user';
import { ListUsersQuery, UserPage, type Sort } from './schema';

interface Order {
  /** The sort column of `users`. */
  column: string;
  /** The sort key as text, exact enough to resume from (timestamps to the microsecond). */
  key: SQL;
  /** Rows after (key, id) in ascending order; `desc` flips it. */
  after: (key: string, id: number, desc: boolean) => SQL;
  /** False for a unique column: the id adds nothing to the order. */
  tieBreak: boolean;
}

const cmp = (desc: boolean) => sql.raw(desc ? '<' : '>');

// Each order is served by an index: users(created_at, id), users(name, id), and the unique index on email (unique,
// so the id is left out of its order and keyset, which keeps that single-column index usable for both).
const orders: Record<'createdAt' | 'name' | 'email', Order> = {
  createdAt: {
    column: 'created_at',
    key: sql`to_char(u.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
    after: (key, id, desc) => sql`(u.created_at, u.id) ${cmp(desc)} (${key}::timestamptz, ${id})`,
    tieBreak: true,
  },
  name: {
    column: 'name',
    key: sql`u.name`,
    after: (key, id, desc) => sql`(u.name, u.id) ${cmp(desc)} (${key}::text, ${id})`,
    tieBreak: true,
  },
  email: {
    column: 'email',
    key: sql`u.email`,
    after: (key, _id, desc) => sql`u.email ${cmp(desc)} ${key}::text`,
    tieBreak: false,
  },
};

/** `order by` over `alias.column` (and `alias.id`). */
function orderBy(order: Order, desc: boolean, alias: string, column = order.column): SQL {
  const dir = desc ? 'desc' : 'asc';
  return sql.raw(`${alias}.${column} ${dir}${order.tieBreak ? `, ${alias}.id ${dir}` : ''}`);
}

/** `%`, `_` and the escape character itself match literally in the ILIKE pattern. */
const contains = (q: string) => `%${q.replace(/[\\%_]/g, '\\$&')}%`;

/**
 * Up to this many holders, a role filter starts from the role's assignments (a primary-key lookup each) and sorts
 * them; above it, it walks the sort order's index and keeps the holders. The planner cannot tell a 20-user role from
 * a 1,000,000-user one when it plans (the role is a name, resolved by the same statement), so the statement carries
 * both plans and a one-time filter on the counted holders runs one of them. Either side of the threshold costs a
 * few milliseconds at 1M users (see the EXPLAIN plans in the README).
 */
const FEW_HOLDERS = 5000;

export interface ListFilter {
  sort: Sort;
  after?: { key: string; id: number };
  q?: string;
  role?: string;
  disabled?: boolean;
  limit: number;
}

/** The page's one statement (exported so scripts can EXPLAIN exactly what the route runs). */
export function listUsersQuery({ sort, after, q, role, disabled, limit }: ListFilter): SQL {
  const desc = sort.startsWith('-');
  const order = orders[sort.replace('-', '') as keyof typeof orders];
  const where: SQL[] = [];
  if (after) where.push(order.after(after.key, after.id, desc));
  if (q) where.push(sql`(u.name ilike ${contains(q)} or u.email ilike ${contains(q)})`);
  if (disabled !== undefined) where.push(sql`u.disabled = ${disabled}`);
  // limit + 1: the extra row only tells whether there is a next page.
  const page = (from: SQL, extra: SQL[] = []) => {
    const all = [...where, ...extra];
    return sql`
      select u.id, u.${sql.raw(order.column)} as sort_value, ${order.key} as key, ${userJson('u')} as user
      from ${from}
      ${all.length ? sql`where ${sql.join(all, sql` and `)}` : sql``}
      order by ${orderBy(order, desc, 'u')}
      limit ${limit + 1}`;
  };
  if (!role) return page(sql`users u`);
  const roleId = sql`(select id from roles where name = ${role})`;
  return sql`
    with holders as materialized (
      select user_id from users_roles where role_id = ${roleId} order by user_id limit ${FEW_HOLDERS + 1}
    )
    select id, key, "user" from (
      (${page(
        // LIMIT 1 keeps the lookup a lateral one (a plain join could be planned as a scan of every user).
        sql`holders h cross join lateral (select * from users where id = h.user_id limit 1) u`,
        [sql`(select count(*) from holders) <= ${FEW_HOLDERS}`],
      )})
      union all
      (${page(sql`users u`, [
        sql`(select count(*) from holders) > ${FEW_HOLDERS}`,
        sql`exists (select 1 from users_roles ur where ur.user_id = u.id and ur.role_id = ${roleId})`,
      ])})
    ) u
    order by ${orderBy(order, desc, 'u', 'sort_value')}`;
}

export const listUsers = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'get',
    path: '/',
    tags: ['Users'],
    summary: 'Search and page through users',
    description: 'Keyset pagination: pass `nextCursor` back as `cursor` with the same `sort` until it is null.',
    security: bearer,
    middleware: [requirePermission('users:read')] as const,
    request: { query: ListUsersQuery },
    responses: { 200: jsonResponse(UserPage, 'A page of users'), ...problems(400, 401, 403, 422) },
  }),
  async (c) => {
    const { limit, cursor, q, role, disabled, sort } = c.req.valid('query');
    const config = c.var.config;
    let after: ListFilter['after'];
    if (cursor) {
      const at = await decodeCursor(config, 'users', sort, cursor);
      if (typeof at.values[0] !== 'string') throw invalidCursor();
      after = { key: at.values[0], id: at.id };
    }
    const rows = await guardedRows<{ id: number; key: string; user: UserJson }>(c, () =>
      listUsersQuery({ sort, after, q: q || undefined, role, disabled, limit }),
    );
    const page = await pageFrom(config, 'users', sort, rows, limit, (r) => r.user, (r) => ({ values: [r.key], id: r.id }));
    return c.json(page, 200);
  },
);
