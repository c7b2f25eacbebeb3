import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env';
import { list } from './list';

/** Contract §7: the audit trail (role admin). Mounted at /v1/audit behind `auth()`. */
export const auditRoutes = new OpenAPIHono<AppEnv>().route('/', list);
