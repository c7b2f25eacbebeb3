/**
 * Runs in Node before the suite: a throw-away PostgreSQL on a free port, the stand-in for Neon's proxy, and a
 * migrated template database that every test file clones (CREATE DATABASE … TEMPLATE) for isolated data.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startHibpStub } from '../scripts/stand-ins/hibp';
import { generateCursorSecret, generateMfaKey, generateSigningKey } from '../scripts/dev/keys';
import { migrate } from '../scripts/dev/migrate';
import { freePort, startPostgres } from '../scripts/dev/postgres';
import { startProxy, targetOf } from '../scripts/stand-ins/neon-proxy';
import { startPgBouncer } from '../scripts/dev/pgbouncer';
import { startResendStub } from '../scripts/stand-ins/resend';
import { setRoleStatementTimeout } from '../scripts/dev/statement-timeout';

export const TEMPLATE_DB = 'dashboard_template';

export default async function setup(project: TestProject) {
  const root = mkdtempSync(join(tmpdir(), 'dashboard-api-test-'));
  chmodSync(root, 0o755);
  const dataDir = join(root, 'pgdata');
  const password = randomBytes(12).toString('hex');
  const postgres = await startPostgres({ dataDir, port: await freePort(), password, fast: true });
  await setRoleStatementTimeout(postgres.url('postgres'));
  // The pooled profile (vitest project `pgbouncer`): everything the Worker and the tests send goes through
  // PgBouncer configured like Neon's pooled endpoint; migrations and the template go to PostgreSQL directly.
  const pooler = project.name === 'pgbouncer'
    ? await startPgBouncer({ dir: join(root, 'pgbouncer'), port: await freePort(), postgresPort: postgres.port, maxConnections: 200, user: 'postgres', password })
    : undefined;
  const served = pooler ?? postgres;
  const proxy = await startProxy({ target: targetOf(served.url('postgres')) });
  const hibp = await startHibpStub();
  // The email provider's stand-in: tests that switch EMAIL_TRANSPORT to resend point RESEND_API_URL at it.
  const resend = await startResendStub();

  const admin = new pg.Client({ connectionString: postgres.url('postgres') });
  await admin.connect();
  await admin.query(`create database ${TEMPLATE_DB}`);
  await admin.end();
  migrate(postgres.url(TEMPLATE_DB));
  // Again on purpose, once per run (the main project): the second run must find nothing to do and fail on nothing.
  if (project.name === 'workers') migrate(postgres.url(TEMPLATE_DB));

  project.provide('pgUrl', served.url('postgres'));
  project.provide('dbProxy', proxy.address);
  project.provide('jwtPrivateKey', await generateSigningKey());
  project.provide('jwtSecondKey', await generateSigningKey());
  project.provide('cursorSecret', generateCursorSecret());
  project.provide('cursorSecondSecret', generateCursorSecret());
  project.provide('hibpUrl', hibp.url);
  project.provide('hibpSlowUrl', hibp.slowUrl);
  project.provide('hibpDownUrl', hibp.downUrl);
  project.provide('mfaKey', generateMfaKey());
  project.provide('resendUrl', resend.url);

  return async () => {
    await proxy.close();
    await resend.close();
    await pooler?.stop();
    await hibp.close();
    await postgres.stop();
    rmSync(root, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
    dbProxy: string;
    jwtPrivateKey: string;
    jwtSecondKey: string;
    cursorSecret: string;
    cursorSecondSecret: string;
    hibpUrl: string;
    hibpSlowUrl: string;
    hibpDownUrl: string;
    mfaKey: string;
    resendUrl: string;
  }
}
