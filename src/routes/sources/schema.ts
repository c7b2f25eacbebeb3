import { z } from '@hono/zod-openapi';
import { sql, type SQL } from 'drizzle-orm';
import { iso } from '../../lib/sql';
import { Name } from '../../lib/user';

export const Source = z
  .object({
    id: z.number().int().openapi({ example: 3 }),
    name: z.string().openapi({ example: 'Marketing site' }),
    writeKeyPrefix: z.string().openapi({ example: 'da_wk_3fQx9a', description: 'The first 12 characters of the current write key.' }),
    createdAt: z.string().openapi({ example: '2026-01-31T12:00:00.000Z' }),
    lastEventAt: z
      .string()
      .nullable()
      .openapi({ example: null, description: 'When the source last sent an event, to the minute (docs/ingest.md); null before the first.' }),
  })
  .openapi('Source');

export const SourceWithKey = Source.extend({
  writeKey: z.string().openapi({ example: 'da_wk_3fQx9a…', description: 'The full write key: shown this once, stored only as a hash.' }),
}).openapi('SourceWithKey');

export type SourceJson = z.infer<typeof Source>;

export const SourceParam = z.object({
  id: z.string().openapi({ param: { name: 'id', in: 'path' }, example: '3', description: 'A source id; one that cannot exist is a 404.' }),
});

/** A source id from the path: anything that is not a PostgreSQL integer cannot name a source (404). */
export function sourceId(text: string): number | null {
  if (!/^[1-9]\d{0,9}$/.test(text)) return null;
  const id = Number(text);
  return id <= 2147483647 ? id : null;
}

export const SourceName = Name.openapi({ example: 'Marketing site', description: '1..100 characters after trimming.' });

export const NameBody = z.strictObject({ name: SourceName }).openapi('SourceNameRequest');

export const RotateBody = z
  .strictObject({
    graceSeconds: z
      .number()
      .int()
      .min(0)
      .max(604800)
      .default(86400)
      .openapi({ description: 'How long the previous key keeps working (0: it stops at once). Default one day.' }),
  })
  .openapi('RotateSourceRequest');

/**
 * The contract's Source object built in SQL from a `sources` row; `prefix` is the current key's prefix (read from
 * the statement's snapshot unless given: a statement that writes the key passes what it wrote).
 */
export function sourceJson(alias: string, prefix?: SQL): SQL {
  const s = sql.raw(alias);
  const current = prefix ?? sql`(select k.prefix from source_keys k where k.source_id = ${s}.id and k.expires_at is null)`;
  return sql`json_build_object('id', ${s}.id, 'name', ${s}.name, 'writeKeyPrefix', ${current},
    'createdAt', ${iso(sql`${s}.created_at`)}, 'lastEventAt', ${iso(sql`${s}.last_event_at`)})`;
}
