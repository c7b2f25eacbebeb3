import { z } from '@hono/zod-openapi';
import { sql, type SQL } from 'drizzle-orm';
import { isPermission, PERMISSION_NAMES } from '../../auth/permissions';
import { notFound } from '../../lib/errors';
import { iso } from '../../lib/sql';
import { pageOf } from '../../lib/cursor';
import { codePoints, storable, User } from '../../lib/user';

/** Contract §1: role names are lower-case identifiers, 2..50 characters. */
export const ROLE_NAME = /^[a-z][a-z0-9_-]{1,49}$/;
export const BUILT_IN_ROLES = ['admin', 'analyst', 'viewer'] as const;

export const RoleName = z
  .string()
  .regex(ROLE_NAME, 'must match ^[a-z][a-z0-9_-]{1,49}$')
  .openapi({ example: 'auditor', description: 'Lower-case letter, then 1..49 of a-z, 0-9, _ or -.' });

export const Description = z
  .string()
  .refine((s) => codePoints(s) <= 500, 'must be at most 500 characters')
  .refine(...storable)
  .nullable()
  .openapi({ example: 'Reads the audit trail', description: 'Free text, 0..500 characters, or null.' });

export const Role = z
  .object({
    id: z.number().int().openapi({ example: 4 }),
    name: z.string().openapi({ example: 'auditor' }),
    description: z.string().nullable(),
    permissions: z
      .array(z.enum(PERMISSION_NAMES as [string, ...string[]]))
      .openapi({ example: ['audit:read'], description: 'What the role grants, sorted by name.' }),
    createdAt: z.string().openapi({ example: '2026-01-31T12:00:00.000Z' }),
    userCount: z.number().int().openapi({ example: 3, description: 'Users holding the role, disabled ones included.' }),
  })
  .openapi('Role');

export type RoleJson = z.infer<typeof Role>;

/** A holder as a caller without `users:read` sees them: who, not how to reach them or when they signed in. */
export const UserName = User.pick({ id: true, name: true }).openapi('UserName');

/** `GET /v1/roles/:role/users`: full users to a `users:read` holder, otherwise id and name. */
export const RoleHolderPage = pageOf(z.union([User, UserName]), 'RoleHolderPage');
export type RoleHolder = z.infer<typeof User> | z.infer<typeof UserName>;

export const RoleParam = z.object({
  role: z.string().openapi({ param: { name: 'role', in: 'path' }, example: 'analyst', description: 'A role name; one that cannot exist is a 404.' }),
});

/** A role name from the path: one that cannot exist is simply not found. */
export function roleName(text: string): string {
  if (!ROLE_NAME.test(text)) throw notFound('No such role.');
  return text;
}

/** Permission names from the catalog; an unknown one is a 422 at `permissions` (contract §6). Duplicates are ignored. */
export const PermissionNames = z
  .array(z.string().max(100))
  .max(100)
  .superRefine((names, ctx) => {
    for (const name of names) if (!isPermission(name)) ctx.addIssue({ code: 'custom', message: `unknown permission: ${name.slice(0, 100)}` });
  })
  .transform((names) => [...new Set(names)].sort())
  .openapi({ example: ['audit:read'], description: 'Permission names (GET /v1/permissions); an unknown one is a 422.' });

export const CreateRoleBody = z
  .strictObject({ name: RoleName, description: Description.optional(), permissions: PermissionNames.optional() })
  .openapi('CreateRoleRequest');

/**
 * The description and, for a custom role, the permissions (replacing the set) can change; a role's name is
 * immutable (a body naming `name` is a 422). At least one field.
 */
export const UpdateRoleBody = z
  .strictObject({ description: Description.optional(), permissions: PermissionNames.optional() })
  .refine((b) => b.description !== undefined || b.permissions !== undefined, {
    path: ['description'],
    message: 'give description or permissions (or both)',
  })
  .openapi('UpdateRoleRequest');

/**
 * The contract's Role object built in SQL; `userCount` and `permissions` read the statement's snapshot unless given
 * (a statement that changes them passes what it wrote).
 */
export function roleJson(alias: string, userCount?: SQL, permissions?: SQL): SQL {
  const r = sql.raw(alias);
  // role_user_counts is kept by triggers on users_roles (0006_activity); a statement sees its own snapshot of it.
  const count = userCount ?? sql`(select coalesce(sum(n.users), 0) from role_user_counts n where n.role_id = ${r}.id)::int`;
  const granted =
    permissions ?? sql`array(select rp.permission from role_permissions rp where rp.role_id = ${r}.id order by rp.permission)`;
  return sql`json_build_object('id', ${r}.id, 'name', ${r}.name, 'description', ${r}.description,
    'permissions', to_json(${granted}::text[]), 'createdAt', ${iso(sql`${r}.created_at`)}, 'userCount', ${count})`;
}
