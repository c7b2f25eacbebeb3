import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env';
import { createUser } from './create';
import { deleteUser } from './delete';
import { exportUsers } from './export';
import { getUser } from './get';
import { listUsers } from './list';
import { userRoles } from './roles';
import { userLifecycle } from './lifecycle';
import { revokeSessions } from './sessions';
import { resetMfa } from '../mfa/reset';
import { updateUser } from './update';

/** Contract §5. Reads: admin or analyst (and anyone for their own id); writes: admin. */
export const usersRoutes = new OpenAPIHono<AppEnv>()
  // Before /:id, which would otherwise take `export` for an id.
  .route('/', exportUsers)
  .route('/', listUsers)
  .route('/', createUser)
  .route('/', getUser)
  .route('/', updateUser)
  .route('/', deleteUser)
  .route('/', userRoles)
  .route('/', revokeSessions)
  .route('/', userLifecycle)
  .route('/', resetMfa);
