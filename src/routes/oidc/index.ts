import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env';
import { jsonResponse } from '../../lib/openapi';
import { callback } from './callback';
import { exchange } from './exchange';
import { ProviderList } from './schema';
import { start } from './start';

/** Contract §18: single sign-on with the OpenID providers of OIDC_PROVIDERS (docs/sso.md). */
const providers = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'get',
    path: '/providers',
    tags: ['Single sign-on'],
    summary: 'The providers a user may sign in with',
    responses: { 200: jsonResponse(ProviderList, 'In configuration order') },
  }),
  (c) => c.json({ data: c.var.config.OIDC_PROVIDERS.map((p) => ({ id: p.id, name: p.name })) }, 200),
);

export const oidcRoutes = new OpenAPIHono<AppEnv>().route('/', providers).route('/', start).route('/', callback).route('/', exchange);
