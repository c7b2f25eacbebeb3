import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { guarded, requirePermission } from '../../auth/authorize';
import type { AppEnv } from '../../env';
import { newWriteKey } from '../../events/write-keys';
import { auditInsert } from '../../lib/audit';
import { bearer, jsonBody, jsonResponse, problems } from '../../lib/openapi';
import { NameBody, sourceJson, SourceWithKey, type SourceJson } from './schema';

export const createSource = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'post',
    path: '/',
    tags: ['Sources'],
    summary: 'Create a source and its first write key',
    description: 'Needs `sources:write`. The answer carries the full `writeKey` this once; only its hash is stored.',
    security: bearer,
    middleware: [requirePermission('sources:write')] as const,
    request: { body: jsonBody(NameBody) },
    responses: { 201: jsonResponse(SourceWithKey, 'The new source with its write key'), ...problems(400, 401, 403, 413, 415, 422) },
  }),
  async (c) => {
    const { name } = c.req.valid('json');
    const key = await newWriteKey();
    const { source } = await guarded<{ source: SourceJson }>(c, (g) => sql`
      with ${g.cte},
      s as (insert into sources (name) select ${name} where ${g.ok} returning *),
      k as (insert into source_keys (source_id, key_hash, prefix) select s.id, decode(${key.hash}, 'hex'), ${key.prefix} from s),
      audit as (${auditInsert(c, 'source.create', {
        actor: g.id,
        targetType: 'source',
        targetId: sql`id`,
        details: sql`json_build_object('name', name, 'writeKeyPrefix', ${key.prefix}::text)`,
        from: sql`s`,
      })})
      select ${g.outcome}, (select ${sourceJson('s', sql`${key.prefix}::text`)} from s) as source`);
    return c.json({ ...source, writeKey: key.key }, 201);
  },
);
