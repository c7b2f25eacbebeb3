import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env';
import { createSource } from './create';
import { deleteSource } from './delete';
import { listSources } from './list';
import { rotateSource } from './rotate';
import { updateSource } from './update';

/** Contract §13: sources and their write keys. Reads: `events:read`; changes: `sources:write`. */
export const sourcesRoutes = new OpenAPIHono<AppEnv>()
  .route('/', listSources)
  .route('/', createSource)
  .route('/', updateSource)
  .route('/', rotateSource)
  .route('/', deleteSource);
