import { sql, type SQL } from 'drizzle-orm';

/** `%`, `_` and the escape character itself match literally in the ILIKE pattern. */
const contains = (q: string) => `%${q.replace(/[\\%_]/g, '\\$&')}%`;

/** `q` of contract §5 over `users u`: a case-insensitive substring of the name or the email. */
export const searchFilter = (q: string): SQL => sql`(u.name ilike ${contains(q)} or u.email ilike ${contains(q)})`;

/** True for a `q` the trigram indexes cannot serve (fewer than three characters). */
export const isShortQuery = (q: string | undefined): q is string => q !== undefined && [...q].length <= 2;

/**
 * The users whose lower-cased name or email holds `q` lower-cased, from users_search_grams_idx (0006_activity: every
 * 1- and 2-character substring). ILIKE compares lower-cased text, so every user `q` matches is among them; the
 * caller still applies the ILIKE. Empty when lower-casing makes `q` longer than two characters: callers check
 * `shortStillShort` before trusting it.
 */
export const gramCandidates = (q: string, limit: number): SQL =>
  sql`select id from users where search_grams(name, email) @> array[lower(${q}::text)] limit ${limit}`;

export const shortStillShort = (q: string): SQL => sql`char_length(lower(${q}::text)) <= 2`;
