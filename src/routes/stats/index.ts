import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env';
import { overview } from './overview';

/** Contract §7: the dashboard figures (roles admin or analyst). Mounted at /v1/stats behind `auth()`. */
export const statsRoutes = new OpenAPIHono<AppEnv>().route('/', overview);
