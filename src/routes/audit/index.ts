import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env';
import { exportAudit } from './export';
import { list } from './list';

/** Contract §7 and §11: the audit trail and its export (role admin). Mounted at /v1/audit behind `auth()`. */
export const auditRoutes = new OpenAPIHono<AppEnv>().route('/', exportAudit).route('/', list);
