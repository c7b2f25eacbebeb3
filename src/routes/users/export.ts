import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { sql, type SQL } from 'drizzle-orm';
import { requirePermission } from '../../auth/authorize';
import type { AppEnv } from '../../env';
import { EXPORT_PAGE, streamCsv } from '../../lib/export';
import { bearer, problems } from '../../lib/openapi';
import { iso } from '../../lib/sql';
import { ListUsersQuery } from './schema';
import { searchFilter } from './search';

const ExportUsersQuery = ListUsersQuery.pick({ q: true, role: true, disabled: true });
type Filter = z.infer<typeof ExportUsersQuery>;

type Row = { id: number; name: string; email: string; roles: string; disabled: boolean; created_at: string; last_login_at: string | null };

/**
 * One page of the export: the users after id `after` matching the list's filters, in id order, as flat columns.
 * With a role the page walks the role's assignments (users_roles (role_id, user_id)) from `after`, so a rare role
 * costs as little as a common one.
 */
export function exportUsersPage({ q, role, disabled }: Filter, after: number): SQL {
  const where: SQL[] = [sql`u.id > ${after}`];
  if (q) where.push(searchFilter(q));
  if (disabled !== undefined) where.push(sql`u.disabled = ${disabled}`);
  const from = role
    ? sql`users_roles h join users u on u.id = h.user_id and h.role_id = (select id from roles where name = ${role}) and h.user_id > ${after}`
    : sql`users u`;
  return sql`
    select u.id, u.name, u.email,
      coalesce((select string_agg(r.name, ';' order by r.name) from users_roles ur join roles r on r.id = ur.role_id where ur.user_id = u.id), '') as roles,
      u.disabled, ${iso(sql`u.created_at`)} as created_at, ${iso(sql`u.last_login_at`)} as last_login_at
    from ${from}
    where ${sql.join(where, sql` and `)}
    order by u.id
    limit ${EXPORT_PAGE}`;
}

export const exportUsers = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'get',
    path: '/export',
    tags: ['Users'],
    summary: 'Every user matching the filters, as CSV',
    description:
      'Streams `text/csv` (RFC 4180, CRLF) with the header `id,name,email,roles,disabled,createdAt,lastLoginAt`, in id ' +
      'order; `roles` are joined with `;`, an empty `lastLoginAt` means never. `q`, `role` and `disabled` filter as in ' +
      'the list. A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with `\'`. Read page ' +
      'by page (one short statement per 2,000 rows), so memory stays flat whatever the row count. Needs `users:read`.',
    security: bearer,
    middleware: [requirePermission('users:read')] as const,
    request: { query: ExportUsersQuery },
    responses: {
      200: { description: 'The CSV', content: { 'text/csv': { schema: z.string() } } },
      ...problems(400, 401, 403, 422),
    },
  }),
  async (c) => {
    const filter = c.req.valid('query');
    return streamCsv<Row>(c, {
      filename: 'users.csv',
      header: ['id', 'name', 'email', 'roles', 'disabled', 'createdAt', 'lastLoginAt'],
      page: (last) => exportUsersPage({ ...filter, q: filter.q || undefined }, last?.id ?? 0),
      cells: (r) => [r.id, r.name, r.email, r.roles, r.disabled, r.created_at, r.last_login_at],
    });
  },
);
