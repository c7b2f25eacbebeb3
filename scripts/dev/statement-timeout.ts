/**
 * `statement_timeout` as a setting of the database role. Over Neon's HTTP path and behind PgBouncer (Neon's pooled
 * endpoint) a client cannot send it as a startup parameter (PgBouncer refuses unknown ones), so it belongs to the
 * role the Worker connects as: every backend started for that role applies it, whichever pooler opened it.
 * Production runs the same statement once (README, Deploying); dev, tests and the benchmark run it here.
 */
import pg from 'pg';

export const STATEMENT_TIMEOUT = '10s';

export async function setRoleStatementTimeout(databaseUrl: string, value = STATEMENT_TIMEOUT) {
  if (!/^\d+(ms|s|min)$/.test(value)) throw new Error(`statement_timeout must look like 10s or 500ms, not ${value}`);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`alter role current_user set statement_timeout = '${value}'`);
  } finally {
    await client.end();
  }
}
