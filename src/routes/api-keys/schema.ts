import { z } from '@hono/zod-openapi';
import { sql, type SQL } from 'drizzle-orm';
import { PERMISSION_NAMES } from '../../auth/permissions';
import { notFound } from '../../lib/errors';
import { iso } from '../../lib/sql';
import { Name } from '../../lib/user';

const PermissionName = z.enum(PERMISSION_NAMES as [string, ...string[]]);

export const ApiKey = z
  .object({
    id: z.number().int().openapi({ example: 7 }),
    name: z.string().openapi({ example: 'Nightly CSV export' }),
    prefix: z.string().openapi({ example: 'dak_3kTq9ZbW', description: 'The key’s first 12 characters, to tell keys apart.' }),
    permissions: z.array(PermissionName).openapi({ example: ['stats:read'], description: 'What the key may do, sorted; capped at request time by what its owner holds then.' }),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    lastUsedAt: z.string().nullable().openapi({ description: 'To the minute.' }),
  })
  .openapi('ApiKey');

export const NewApiKey = ApiKey.extend({
  key: z.string().openapi({ example: 'dak_3kTq9ZbW…', description: 'The key itself: shown this once, stored only as a hash.' }),
}).openapi('NewApiKey');

export const CreateApiKeyBody = z
  .strictObject({
    name: Name,
    permissions: z
      .array(PermissionName)
      .min(1, 'must name at least one permission')
      .max(PERMISSION_NAMES.length * 2)
      .transform((names) => [...new Set(names)].sort())
      .openapi({ example: ['stats:read'], description: 'Permissions the caller holds now (another is a 403); duplicates are ignored.' }),
    expiresAt: z.iso
      .datetime({ offset: true })
      .optional()
      .openapi({ example: '2027-06-30T00:00:00.000Z', description: 'In the future (else 422); without it the key does not expire.' }),
  })
  .openapi('CreateApiKeyRequest');

export const ApiKeyList = z.object({ data: z.array(ApiKey) }).openapi('ApiKeyList');

export const KeyIdParam = z.object({
  id: z.string().openapi({ param: { name: 'id', in: 'path' }, example: '7' }),
});

/** A key id from the path; text that cannot be one is a 404, like an unknown id. */
export function keyId(text: string): number {
  if (!/^[1-9][0-9]{0,9}$/.test(text) || Number(text) > 2_147_483_647) throw notFound('No such API key.');
  return Number(text);
}

/** The ApiKey object of the contract, built in SQL from an api_keys row (never the hash). */
export const apiKeyJson = (alias: string): SQL => {
  const k = sql.raw(alias);
  return sql`json_build_object('id', ${k}.id, 'name', ${k}.name, 'prefix', ${k}.prefix, 'permissions', to_json(${k}.permissions),
    'createdAt', ${iso(sql`${k}.created_at`)}, 'expiresAt', ${iso(sql`${k}.expires_at`)}, 'lastUsedAt', ${iso(sql`${k}.last_used_at`)})`;
};

/** A person's listed keys (not revoked; expired ones stay listed until revoked), newest first, as a JSON array. */
export const keysOf = (userId: SQL): SQL =>
  sql`coalesce((select json_agg(${apiKeyJson('k')} order by k.created_at desc, k.id desc)
    from api_keys k where k.user_id = ${userId} and k.revoked_at is null), '[]'::json)`;
