import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { guarded, requirePermission } from '../../auth/authorize';
import type { AppEnv } from '../../env';
import { newWriteKey } from '../../events/write-keys';
import { auditInsert } from '../../lib/audit';
import { sqlState } from '../../lib/db-errors';
import { notFound } from '../../lib/errors';
import { bearer, jsonBody, jsonResponse, problems } from '../../lib/openapi';
import { RotateBody, sourceId, sourceJson, SourceParam, SourceWithKey, type SourceJson } from './schema';

/** A rotation that raced another one of the same source meets the one-current-key index; it runs again on the new state. */
const RACE_RETRIES = 3;

export const rotateSource = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'post',
    path: '/{id}/rotate',
    tags: ['Sources'],
    summary: 'Give a source a new write key',
    description:
      'Needs `sources:write`. The previous key keeps working for `graceSeconds` (default 86400; 0: it stops at once). ' +
      'A source has at most two live keys: a key still in its grace from an earlier rotation stops at once.',
    security: bearer,
    middleware: [requirePermission('sources:write')] as const,
    request: { params: SourceParam, body: { required: false, content: { 'application/json': { schema: RotateBody } } } },
    responses: { 200: jsonResponse(SourceWithKey, 'The source with its new write key'), ...problems(400, 401, 403, 404, 413, 415, 422) },
  }),
  async (c) => {
    const id = sourceId(c.req.valid('param').id);
    // An absent body is the default grace (the validator runs only on a JSON body).
    const graceSeconds = (c.req.valid('json') as { graceSeconds?: number } | undefined)?.graceSeconds ?? 86400;
    if (id === null) throw notFound('No such source.');
    const key = await newWriteKey();
    // `rotated` is read by `added`, so the current key has left the one-current-key index before the new one enters.
    const statement = () =>
      guarded<{ source: SourceJson | null }>(c, (g) => sql`
        with ${g.cte},
        s as (select * from sources where id = ${id} and deleted_at is null and ${g.ok} for no key update),
        ended as (delete from source_keys k using s where k.source_id = s.id and k.expires_at is not null returning k.prefix),
        rotated as (
          update source_keys k set expires_at = now() + make_interval(secs => ${graceSeconds})
          from s where k.source_id = s.id and k.expires_at is null returning k.prefix
        ),
        added as (
          insert into source_keys (source_id, key_hash, prefix)
          select s.id, decode(${key.hash}, 'hex'), ${key.prefix} from s where (select count(*) from rotated) >= 0
          returning prefix
        ),
        audit as (${auditInsert(c, 'source.rotate', {
          actor: g.id,
          targetType: 'source',
          targetId: sql`id`,
          details: sql`json_build_object('name', name, 'writeKeyPrefix', ${key.prefix}::text, 'graceSeconds', ${graceSeconds}::int,
            'previousKeyPrefix', (select prefix from rotated), 'endedKeyPrefixes', (select coalesce(json_agg(prefix), '[]'::json) from ended))`,
          from: sql`s where exists (select 1 from added)`,
        })})
        select ${g.outcome}, (select ${sourceJson('s', sql`${key.prefix}::text`)} from s where exists (select 1 from added)) as source`);
    for (let attempt = 0; ; attempt++) {
      try {
        const { source } = await statement();
        if (!source) throw notFound('No such source.');
        return c.json({ ...source, writeKey: key.key }, 200);
      } catch (error) {
        if (sqlState(error) !== '23505' || attempt >= RACE_RETRIES) throw error;
      }
    }
  },
);
