import { sql, type SQL } from 'drizzle-orm';
import type { Guard } from '../../auth/authorize';

/**
 * The final select of a guarded statement whose own select may find no row: always exactly one row, carrying the
 * caller check's outcome and the columns of `select` (null when it found nothing).
 */
export const oneRow = (g: Guard, select: SQL) => sql`select ${g.outcome}, x.* from (select 1) as one left join (${select}) x on true`;

/** A PostgreSQL text[] literal of hex strings (nothing to quote), sent as one parameter. */
export const textArray = (items: string[]) => `{${items.join(',')}}`;
