import { sqlState } from '../../lib/db-errors';
import { conflict, notFound } from '../../lib/errors';

/** Raised by the last-admin triggers of drizzle/0001_last_admin_guard.sql. */
export const LAST_ADMIN_SQLSTATE = 'P0A01';

export const lastAdmin = () => conflict('This change would leave no enabled user holding the admin role.', 'last-admin');

/**
 * Awaits a user-changing statement, turning the database's refusals into the contract's answers: the last-admin
 * guard → 409, the email's unique index → 409 (a PATCH cannot use ON CONFLICT), a user deleted meanwhile (foreign
 * key) → 404. Anything else stays an error for `onError`.
 */
export async function refusalsAsProblems<T>(statement: Promise<T>): Promise<T> {
  try {
    return await statement;
  } catch (error) {
    const state = sqlState(error);
    if (state === LAST_ADMIN_SQLSTATE) throw lastAdmin();
    if (state === '23505') throw conflict('An account with this email already exists.', 'email-taken');
    if (state === '23503') throw notFound('No such user.');
    throw error;
  }
}
