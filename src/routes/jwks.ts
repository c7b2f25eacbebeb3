import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { keySet } from '../auth/jwt';
import type { AppEnv } from '../env';
import { jsonResponse } from '../lib/openapi';

const Jwks = z
  .object({
    keys: z.array(
      z.looseObject({ kty: z.string(), kid: z.string(), alg: z.string(), use: z.literal('sig'), crv: z.string(), x: z.string() }),
    ),
  })
  .openapi('JWKS');

export const jwks = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'get',
    path: '/.well-known/jwks.json',
    tags: ['Health'],
    summary: 'Public keys that verify access tokens',
    responses: { 200: jsonResponse(Jwks, 'The JWK set') },
  }),
  async (c) => {
    const keys = await keySet(c.var.config);
    // Short enough that a newly added key is picked up well within an access token's 15-minute life.
    c.header('Cache-Control', 'public, max-age=300');
    return c.json(keys.jwks as z.infer<typeof Jwks>, 200);
  },
);
