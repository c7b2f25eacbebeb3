import { createRoute, OpenAPIHono, type z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { newApiKey } from '../../auth/api-keys';
import { guarded, requirePermission } from '../../auth/authorize';
import type { AppEnv } from '../../env';
import { auditInsert } from '../../lib/audit';
import { notFound, validationFailed } from '../../lib/errors';
import { bearer, jsonBody, jsonResponse, problems } from '../../lib/openapi';
import { revokeKey } from './revoke';
import { apiKeyJson, ApiKeyList, CreateApiKeyBody, KeyIdParam, keyId, keysOf, NewApiKey } from './schema';

// The caller's own keys: a live session is enough (a key cannot come here: /v1/me… refuses keys, src/app.ts).
const live = requirePermission(null);

/** Contract §16, the caller's own keys: mounted at /v1/me/api-keys. */
export const myApiKeys = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags: ['API keys'],
      summary: 'Create an API key',
      description:
        'For a program acting on the caller’s behalf with some of the caller’s permissions. Each permission asked for ' +
        'must be one the caller holds now (else 403, nothing created); `expiresAt` must be in the future (else 422). ' +
        'The answer carries the key itself, this once; only its hash is stored.',
      security: bearer,
      middleware: [live] as const,
      request: { body: jsonBody(CreateApiKeyBody) },
      responses: { 201: jsonResponse(NewApiKey, 'The new key, with `key` shown this once'), ...problems(400, 401, 403, 413, 415, 422) },
    }),
    async (c) => {
      const { name, permissions, expiresAt } = c.req.valid('json');
      if (expiresAt !== undefined && Date.parse(expiresAt) <= Date.now()) {
        throw validationFailed([{ path: 'expiresAt', message: 'must be in the future' }]);
      }
      const fresh = await newApiKey();
      const { key } = await guarded<{ key: z.infer<typeof NewApiKey> | null }>(c, (g) => sql`
        with ${g.cte},
        k as (
          insert into api_keys (user_id, name, prefix, key_hash, permissions, expires_at)
          select ${g.id}, ${name}, ${fresh.prefix}, decode(${fresh.hash}, 'hex'), ${sql.param(permissions)}::text[], ${expiresAt ?? null}::timestamptz
          where ${g.holdsAll(sql`${sql.param(permissions)}::text[]`)}
          returning *
        ), audit as (${auditInsert(c, 'api_key.create', {
          actor: sql`user_id`,
          targetType: 'api_key',
          targetId: sql`id`,
          details: sql`json_build_object('apiKeyId', id, 'name', name, 'permissions', to_json(permissions), 'expiresAt', expires_at)`,
          from: sql`k`,
        })})
        select ${g.outcome}, (select ${apiKeyJson('k')}::jsonb || jsonb_build_object('key', ${fresh.key}::text) from k) as key`);
      if (!key) throw new Error('the key was not created'); // holdsAll refuses (403) rather than filtering
      return c.json(key, 201);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags: ['API keys'],
      summary: 'The caller’s API keys',
      description: 'Every key not revoked (expired ones included), newest first. Never the key itself.',
      security: bearer,
      middleware: [live] as const,
      responses: { 200: jsonResponse(ApiKeyList, 'The caller’s keys, newest first'), ...problems(401, 403) },
    }),
    async (c) => {
      const { data } = await guarded<z.infer<typeof ApiKeyList>>(c, (g) => sql`
        with ${g.cte} select ${g.outcome}, ${keysOf(g.id)} as data`);
      return c.json({ data }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/{id}',
      tags: ['API keys'],
      summary: 'Revoke one of the caller’s API keys',
      description: 'The key is refused (401) from the next request on. Idempotent for the caller’s own keys; an id that is not the caller’s is a 404.',
      security: bearer,
      middleware: [live] as const,
      request: { params: KeyIdParam },
      responses: { 204: { description: 'Revoked' }, ...problems(401, 403, 404) },
    }),
    async (c) => {
      const id = keyId(c.req.valid('param').id);
      const row = await guarded<{ id: number | null }>(c, (g) => sql`
        with ${g.cte},
        ${revokeKey(c, { id: sql`${id}::int`, owner: g.id, when: g.ok, actor: g.id })}
        select ${g.outcome}, (select id from revoked) as id`);
      if (row.id === null) throw notFound('No such API key.');
      return c.body(null, 204);
    },
  );
