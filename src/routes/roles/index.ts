import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env';
import { createRole } from './create';
import { deleteRole } from './delete';
import { getRole } from './get';
import { listRoles } from './list';
import { updateRole } from './update';
import { roleUsers } from './users';

/** Contract §6. Reads: admin or analyst; writes: admin. Roles are addressed by name. */
export const rolesRoutes = new OpenAPIHono<AppEnv>()
  .route('/', listRoles)
  .route('/', createRole)
  .route('/', getRole)
  .route('/', updateRole)
  .route('/', deleteRole)
  .route('/', roleUsers);
