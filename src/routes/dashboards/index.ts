import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env';
import { createDashboard } from './create';
import { dashboardData } from './data';
import { deleteDashboard } from './delete';
import { getDashboard } from './get';
import { listDashboards } from './list';
import { updateDashboard } from './update';

/** Contract §15. Who sees a dashboard: its owner, holders of a role in `shares`, and `admin`; to anyone else, 404. */
export const dashboardsRoutes = new OpenAPIHono<AppEnv>()
  .route('/', listDashboards)
  .route('/', createDashboard)
  .route('/', getDashboard)
  .route('/', updateDashboard)
  .route('/', deleteDashboard)
  .route('/', dashboardData);
