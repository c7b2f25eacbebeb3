/** The scheduled handler's purge, called through the Worker's `scheduled()` in workerd. */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { afterAll, beforeAll, expect, it } from 'vitest';
import worker from '../src/index';
import type { Bindings } from '../src/env';
import { PURGE_CRON } from '../src/jobs/scheduled';
import { createHarness, createUser, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.drop());

async function runCron(bindings: Bindings, cron: string) {
  const ctx = createExecutionContext();
  await worker.scheduled!(createScheduledController({ cron, scheduledTime: Date.now() }), bindings, ctx);
  await waitOnExecutionContext(ctx);
}

const count = async (sql: string) => Number((await h.query<{ n: number }>(`select count(*)::int as n from ${sql}`))[0]!.n);

it('purges what has expired on the documented retention and keeps the rest', async () => {
  const user = await createUser(h);
  await h.query(
    `insert into login_throttle (email_hash, attempts) values
       (sha256('old'), array[now() - interval '2 hours']), (sha256('recent'), array[now() - interval '1 minute'])`,
  );
  await h.query(
    `insert into rate_limits (key, window_start, hits) values ('login:old', now() - interval '2 hours', 3), ('login:now', now(), 1)`,
  );
  await h.query(
    `insert into sessions (user_id, expires_at, revoked_at) values
       ($1, now() - interval '8 days', null), ($1, now() + interval '1 day', now() - interval '8 days'),
       ($1, now() - interval '1 day', null), ($1, now() + interval '1 day', null)`,
    [user.id],
  );
  await h.query(
    `insert into account_tokens (token_hash, user_id, purpose, email, expires_at, used_at, revoked_at, created_at) values
       (sha256('expired'), $1, 'password_reset', 'a@example.com', now() - interval '2 days', null, null, now() - interval '3 days'),
       (sha256('used'), $1, 'password_reset', 'a@example.com', now() + interval '1 day', now() - interval '2 days', null, now() - interval '3 days'),
       (sha256('live'), $1, 'password_reset', 'a@example.com', now() + interval '1 day', null, null, now()),
       (sha256('just-used'), $1, 'password_reset', 'a@example.com', now() + interval '1 day', now(), null, now())`,
    [user.id],
  );
  await h.query(
    `insert into email_outbox (id, kind, to_address, subject, status, sent_at, next_attempt_at) values
       (gen_random_uuid(), 'k', 'old@example.com', 's', 'sent', now() - interval '8 days', now() - interval '8 days'),
       (gen_random_uuid(), 'k', 'failed@example.com', 's', 'failed', null, now() - interval '8 days'),
       (gen_random_uuid(), 'k', 'new@example.com', 's', 'sent', now(), now()),
       (gen_random_uuid(), 'k', 'pending@example.com', 's', 'pending', null, now() + interval '1 hour')`,
  );
  // email_quota: no email in the last hour → gone. mfa_challenges: expired more than a day ago → gone.
  await h.query(
    `insert into email_quota (user_id, purpose, sent) values
       ($1, 'password_reset', array[now() - interval '2 hours']), ($1, 'email_verification', array[now() - interval '2 hours', now() - interval '5 minutes'])`,
    [user.id],
  );
  await h.query(`insert into mfa_factors (user_id, secret, key_id, enabled_at) values ($1, '\\x00', 'k', now())`, [user.id]);
  await h.query(
    `insert into mfa_challenges (token_hash, user_id, email_hash, created_at, expires_at) values
       (sha256('challenge-old'), $1, sha256('e'), now() - interval '2 days', now() - interval '2 days'),
       (sha256('challenge-yesterday'), $1, sha256('e'), now() - interval '12 hours', now() - interval '12 hours'),
       (sha256('challenge-live'), $1, sha256('e'), now(), now() + interval '5 minutes')`,
    [user.id],
  );
  const auditBefore = await count('audit_events');

  await runCron(h.env, PURGE_CRON);

  expect(await count(`login_throttle where email_hash in (sha256('old'), sha256('recent'))`)).toBe(1);
  expect(await count(`login_throttle where email_hash = sha256('recent')`)).toBe(1);
  expect(await h.query(`select key from rate_limits where key like 'login:%' order by key`)).toEqual([{ key: 'login:now' }]);
  // Expired or revoked more than 7 days ago: gone; expired yesterday, or live: kept.
  expect(await count(`sessions where user_id = ${user.id}`)).toBe(2);
  expect((await h.query<{ h: string }>(`select encode(token_hash, 'hex') as h from account_tokens order by 1`)).length).toBe(2);
  expect(await count(`account_tokens where token_hash in (sha256('live'), sha256('just-used'))`)).toBe(2);
  expect((await h.query<{ to_address: string }>(`select to_address from email_outbox order by to_address`)).map((r) => r.to_address)).toEqual([
    'new@example.com',
    'pending@example.com',
  ]);
  expect(await h.query(`select purpose from email_quota where user_id = $1`, [user.id])).toEqual([{ purpose: 'email_verification' }]);
  expect(await count(`mfa_challenges where user_id = ${user.id}`)).toBe(2);
  expect(await count(`mfa_challenges where token_hash in (sha256('challenge-yesterday'), sha256('challenge-live'))`)).toBe(2);
  // Audit events are kept (AUDIT_RETENTION_DAYS defaults to 0: forever).
  expect(await count('audit_events')).toBe(auditBefore);
});

it('a run of the delivery cron does not purge', async () => {
  await h.query(`insert into rate_limits (key, window_start, hits) values ('refresh:old', now() - interval '2 hours', 3)`);
  await runCron(h.env, '* * * * *');
  expect(await count(`rate_limits where key = 'refresh:old'`)).toBe(1);
});

it('purges the audit log batch after batch until one is short, so a grown backlog cannot outpace it (issue 20, item 12)', async () => {
  await h.query(`insert into audit_events (action, target_type, at) select 'auth.logout', 'session', now() - interval '40 days' from generate_series(1, 12001)`);
  await h.query(`insert into audit_events (action, target_type, at) values ('auth.logout', 'session', now() - interval '20 days')`);
  await runCron({ ...h.env, AUDIT_RETENTION_DAYS: '30' }, PURGE_CRON);
  expect(await count(`audit_events where at < now() - interval '30 days'`)).toBe(0);
  expect(await count(`audit_events where at > now() - interval '21 days' and at < now() - interval '19 days'`)).toBe(1);
});

it('with AUDIT_RETENTION_DAYS set, the audit log keeps exactly that many days, and the rest of the purge still runs', async () => {
  const marker = `purge-${crypto.randomUUID()}`;
  await h.query(
    `insert into audit_events (action, target_type, target_id, at) values
       ('auth.logout', 'session', $1, now() - interval '46 days'), ('auth.logout', 'session', $1, now() - interval '44 days')`,
    [marker],
  );
  await h.query(`insert into rate_limits (key, window_start, hits) values ($1, now() - interval '2 hours', 1)`, [`login:${marker}`]);
  await runCron({ ...h.env, AUDIT_RETENTION_DAYS: '45' }, PURGE_CRON);
  const kept = await h.query<{ days: number }>(`select extract(day from now() - at)::int as days from audit_events where target_id = $1`, [marker]);
  expect(kept).toEqual([{ days: 44 }]);
  expect(await count(`rate_limits where key = 'login:${marker}'`)).toBe(0);
});

it('AUDIT_RETENTION_DAYS below 30 (but not 0) is a configuration error', async () => {
  const { loadConfig } = await import('../src/env');
  expect(() => loadConfig({ ...h.env, AUDIT_RETENTION_DAYS: '7' })).toThrow(/AUDIT_RETENTION_DAYS/);
});
