import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { guarded, requirePermission } from '../../auth/authorize';
import type { AppEnv } from '../../env';
import { auditInsert } from '../../lib/audit';
import { notFound } from '../../lib/errors';
import { bearer, jsonBody, jsonResponse, problems } from '../../lib/openapi';
import { NameBody, Source, sourceId, sourceJson, SourceParam, type SourceJson } from './schema';

export const updateSource = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'patch',
    path: '/{id}',
    tags: ['Sources'],
    summary: 'Rename a source',
    description: 'Needs `sources:write`. The name is trimmed; a deleted source is a 404.',
    security: bearer,
    middleware: [requirePermission('sources:write')] as const,
    request: { params: SourceParam, body: jsonBody(NameBody) },
    responses: { 200: jsonResponse(Source, 'The source, renamed'), ...problems(400, 401, 403, 404, 413, 415, 422) },
  }),
  async (c) => {
    const id = sourceId(c.req.valid('param').id);
    const { name } = c.req.valid('json');
    if (id === null) throw notFound('No such source.');
    const { source } = await guarded<{ source: SourceJson | null }>(c, (g) => sql`
      with ${g.cte},
      old as (select id, name from sources where id = ${id} and deleted_at is null and ${g.ok} for no key update),
      s as (update sources set name = ${name} from old where sources.id = old.id returning sources.*, old.name as old_name),
      audit as (${auditInsert(c, 'source.update', {
        actor: g.id,
        targetType: 'source',
        targetId: sql`id`,
        details: sql`json_build_object('name', name, 'previousName', old_name)`,
        from: sql`s where name <> old_name`,
      })})
      select ${g.outcome}, (select ${sourceJson('s')} from s) as source`);
    if (!source) throw notFound('No such source.');
    return c.json(source, 200);
  },
);
