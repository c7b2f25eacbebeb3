import { sql, type SQL } from 'drizzle-orm';

/**
 * The body of a CTE yielding the `id` of each account of `source` still under `perHour` emails of `purpose` in the
 * last hour, and counting this one. The upsert serialises concurrent requests for one account on its row
 * (ON CONFLICT … WHERE re-checks the latest version), so no burst gets past the cap; over the cap it yields nothing.
 */
export function underQuota(purpose: string, source: string, perHour: number): SQL {
  return sql`insert into email_quota as q (user_id, purpose, sent) select id, ${purpose}, array[now()] from ${sql.raw(source)}
    on conflict (user_id, purpose) do update
      set sent = array(select s from unnest(q.sent) s where s > now() - interval '1 hour') || now()
      where (select count(*) from unnest(q.sent) s where s > now() - interval '1 hour') < ${perHour}
    returning user_id as id`;
}
