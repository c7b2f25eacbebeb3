import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env';
import { activeUsers } from './active-users';
import { overview } from './overview';
import { retention } from './retention';

/** Contract §7 and §11: the dashboard figures. Mounted at /v1/stats behind `auth()`. */
export const statsRoutes = new OpenAPIHono<AppEnv>().route('/', overview).route('/', activeUsers).route('/', retention);
