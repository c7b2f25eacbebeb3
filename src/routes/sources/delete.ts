import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { guarded, requirePermission } from '../../auth/authorize';
import type { AppEnv } from '../../env';
import { auditInsert } from '../../lib/audit';
import { notFound } from '../../lib/errors';
import { bearer, problems } from '../../lib/openapi';
import { sourceId, SourceParam } from './schema';

export const deleteSource = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'delete',
    path: '/{id}',
    tags: ['Sources'],
    summary: 'Delete a source',
    description:
      'Needs `sources:write`. Its write keys stop at once and its events leave every query result in the same commit ' +
      '(queries read live sources only); the hourly purge removes the rows afterwards (docs/ingest.md).',
    security: bearer,
    middleware: [requirePermission('sources:write')] as const,
    request: { params: SourceParam },
    responses: { 204: { description: 'Deleted' }, ...problems(401, 403, 404) },
  }),
  async (c) => {
    const id = sourceId(c.req.valid('param').id);
    if (id === null) throw notFound('No such source.');
    const row = await guarded<{ id: number | null }>(c, (g) => sql`
      with ${g.cte},
      s as (update sources set deleted_at = now() where id = ${id} and deleted_at is null and ${g.ok} returning id, name),
      keys as (delete from source_keys k using s where k.source_id = s.id),
      audit as (${auditInsert(c, 'source.delete', { actor: g.id, targetType: 'source', targetId: sql`id`, details: sql`json_build_object('name', name)`, from: sql`s` })})
      select ${g.outcome}, (select id from s) as id`);
    if (row.id === null) throw notFound('No such source.');
    return c.body(null, 204);
  },
);
