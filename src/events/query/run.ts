/**
 * The §14 runner.
 *
 *   runEventQuery(db: Db, query: EventQuery): Promise<EventQueryResult>
 *
 * `query` is what `eventQuery` (./schema.ts) parsed; `db` the request's handle (`c.var.db`). One statement; no
 * authorization of its own (POST /v1/events/query wraps the same statement in the caller check, see
 * `eventQueryStatement`; dashboards decide who may see a widget's figures themselves). A `sources` id that is not a
 * live source → a 422 ApiError with the path `sources.<i>`; a zone the database does not know → 422 at `tz`.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { sqlState } from '../../lib/db-errors';
import { validationFailed } from '../../lib/errors';
import { decodeFunnel, funnelStatement, type FunnelResult } from './funnel';
import { decodeRetention, retentionStatement, type RetentionResult } from './retention';
import type { EventQuery } from './schema';
import { decodeTrends, trendsStatement, type TrendsResult } from './trends';

export type EventQueryResult = TrendsResult | FunnelResult | RetentionResult;

export interface PreparedQuery {
  /** One statement answering one row with the json column `result`. */
  statement: SQL;
  /** Turns that `result` into the §14 answer; throws the 422 of an unknown source. */
  decode(result: unknown): EventQueryResult;
}

export function eventQueryStatement(query: EventQuery): PreparedQuery {
  const check = (raw: { unknownSources: number[] }) => {
    if (raw.unknownSources.length > 0) {
      throw validationFailed(raw.unknownSources.map((i) => ({ path: `sources.${i}`, message: 'is not a source (unknown or deleted)' })));
    }
  };
  switch (query.kind) {
    case 'trends':
      return { statement: trendsStatement(query), decode: (r) => (check(r as never), decodeTrends(query, r as never)) };
    case 'funnel':
      return { statement: funnelStatement(query), decode: (r) => (check(r as never), decodeFunnel(query, r as never)) };
    case 'retention':
      return { statement: retentionStatement(query), decode: (r) => (check(r as never), decodeRetention(query, r as never)) };
  }
}

/** A zone the runtime knows but the database's tz data does not is the client's 422, like any unknown zone. */
export async function zoneChecked<T>(run: Promise<T>): Promise<T> {
  try {
    return await run;
  } catch (error) {
    if (sqlState(error) === '22023') throw validationFailed([{ path: 'tz', message: 'is a time zone this database does not know' }]);
    throw error;
  }
}

export async function runEventQuery(db: Db, query: EventQuery): Promise<EventQueryResult> {
  const { statement, decode } = eventQueryStatement(query);
  const { rows } = await zoneChecked(db.execute<{ result: unknown }>(sql`${statement}`));
  return decode(rows[0]!.result);
}
