import { z } from '@hono/zod-openapi';
import { pageOf, PageQuery } from '../../lib/cursor';
import { notFound } from '../../lib/errors';
import { Email, Name, Password, storable, User } from '../../lib/user';
import { RoleName, RoleParam } from '../roles/schema';

const INT4_MAX = 2_147_483_647;

export const UserIdParam = z.object({
  id: z.string().openapi({
    param: { name: 'id', in: 'path' },
    example: '42',
    description: 'The user’s id, a positive integer. Anything else cannot name a user: 404.',
  }),
});

/** A user id from the path. Text that cannot be an id (not digits, zero, negative, beyond int4) is a 404, like an unknown id. */
export function userId(text: string): number {
  if (!/^[1-9][0-9]{0,9}$/.test(text)) throw notFound('No such user.');
  const id = Number(text);
  if (id > INT4_MAX) throw notFound('No such user.');
  return id;
}

const RoleNames = z
  .array(RoleName)
  .max(100)
  .transform((names) => [...new Set(names)])
  .openapi({ example: ['analyst'], description: 'Role names; duplicates are ignored.' });

export const CreateUserBody = z
  .strictObject({
    name: Name,
    email: Email,
    password: Password.optional().openapi({ description: 'Without it the account is an invitation (contract §9).' }),
    roles: RoleNames.optional().openapi({ description: 'Role names (default ["viewer"]); an unknown name is a 422.' }),
    disabled: z.boolean().optional().openapi({ description: 'Default false.' }),
  })
  .openapi('CreateUserRequest');

export const UpdateUserBody = z
  .strictObject({
    name: Name.optional(),
    email: Email.optional(),
    password: Password.optional(),
    disabled: z.boolean().optional(),
  })
  .openapi('UpdateUserRequest', {
    description:
      'Only the fields given change; `{}` changes nothing and answers the user as is. A new password or disabling ' +
      'revokes the user’s sessions.',
  });

export const ReplaceRolesBody = z.strictObject({ roles: RoleNames }).openapi('ReplaceRolesRequest');

export const UserRoleParams = UserIdParam.extend(RoleParam.shape);

export const SORTS = ['createdAt', '-createdAt', 'name', '-name', 'email', '-email'] as const;
export type Sort = (typeof SORTS)[number];

export const ListUsersQuery = PageQuery.extend({
  q: z
    .string()
    .max(100)
    .refine(...storable)
    .optional()
    .openapi({
      param: { name: 'q', in: 'query' },
      example: 'ada',
      description: 'Case-insensitive substring of the name or the email; `%`, `_` and `\\` match themselves.',
    }),
  role: RoleName.optional().openapi({
    param: { name: 'role', in: 'query' },
    description: 'Only users holding this role (an unknown role gives an empty page).',
  }),
  disabled: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .openapi({ param: { name: 'disabled', in: 'query' }, description: 'Only disabled (true) or enabled (false) users.' }),
  sort: z
    .enum(SORTS)
    .default('-createdAt')
    .openapi({ param: { name: 'sort', in: 'query' }, description: 'A leading `-` sorts descending. A cursor is bound to its sort.' }),
});

export const UserPage = pageOf(User, 'UserPage');
