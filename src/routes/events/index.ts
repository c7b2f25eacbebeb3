import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env';
import { listEvents } from './list';
import { eventNames } from './names';
import { queryEvents } from './query';

/** Contract §14: the event list, event names and queries (`events:read`). Mounted at /v1/events behind `auth()`. */
export const eventsRoutes = new OpenAPIHono<AppEnv>().route('/', eventNames).route('/', queryEvents).route('/', listEvents);
