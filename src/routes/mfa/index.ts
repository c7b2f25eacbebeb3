import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env';
import { enrol } from './enrol';
import { manage } from './manage';

/**
 * Contract §10, the caller's own factor: mounted at /v1/me/mfa. The sign-in step (POST /v1/auth/mfa, sign-in.ts)
 * and the admin reset (DELETE /v1/users/:id/mfa, reset.ts) live here too and are mounted with their resources.
 */
export const meMfa = new OpenAPIHono<AppEnv>().route('/', enrol).route('/', manage);
