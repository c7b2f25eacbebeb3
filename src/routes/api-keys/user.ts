import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { guarded, requirePermission } from '../../auth/authorize';
import type { AppEnv } from '../../env';
import { notFound } from '../../lib/errors';
import { bearer, jsonResponse, problems } from '../../lib/openapi';
import { refuseApiKeys } from '../../middleware/auth';
import { UserIdParam, userId } from '../users/schema';
import { revokeKey } from './revoke';
import { ApiKeyList, keyId, keysOf } from './schema';

const noKeys = refuseApiKeys('manage API keys');

/** Contract §16, an administrator's view of a user's keys (`users:write`): mounted at /v1/users. */
export const userApiKeys = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'get',
      path: '/{id}/api-keys',
      tags: ['API keys'],
      summary: 'A user’s API keys',
      description: 'Every key of the user not revoked, newest first, never the key itself. Needs `users:write`.',
      security: bearer,
      middleware: [noKeys, requirePermission('users:write')] as const,
      request: { params: UserIdParam },
      responses: { 200: jsonResponse(ApiKeyList, 'The user’s keys, newest first'), ...problems(401, 403, 404) },
    }),
    async (c) => {
      const id = userId(c.req.valid('param').id);
      const row = await guarded<{ found: boolean; data: z.infer<typeof ApiKeyList>['data'] }>(c, (g) => sql`
        with ${g.cte}
        select ${g.outcome}, exists (select 1 from users where id = ${id}) as found, ${keysOf(sql`${id}::int`)} as data`);
      if (!row.found) throw notFound('No such user.');
      return c.json({ data: row.data }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/{id}/api-keys/{keyId}',
      tags: ['API keys'],
      summary: 'Revoke a user’s API key',
      description:
        'The key is refused (401) from the next request on. Needs `users:write`, and (§8 v3) every permission the ' +
        'user holds (and `admin` when they hold it): else 403. Idempotent; a key that is not that user’s is a 404.',
      security: bearer,
      middleware: [noKeys, requirePermission('users:write')] as const,
      request: { params: UserIdParam.extend({ keyId: z.string().openapi({ param: { name: 'keyId', in: 'path' }, example: '7' }) }) },
      responses: { 204: { description: 'Revoked' }, ...problems(401, 403, 404) },
    }),
    async (c) => {
      const params = c.req.valid('param');
      const owner = userId(params.id);
      const id = keyId(params.keyId);
      const row = await guarded<{ id: number | null }>(c, (g) => sql`
        with ${g.cte},
        ${revokeKey(c, { id: sql`${id}::int`, owner: sql`${owner}::int`, when: sql`${g.ok} and ${g.mayActOn(sql`${owner}::int`)}`, actor: g.id })}
        select ${g.outcome}, (select id from revoked) as id`);
      if (row.id === null) throw notFound('No such API key.');
      return c.body(null, 204);
    },
  );
