import { sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import type { Config } from '../env';
import { untilShort } from './batches';

/** Rows removed per table per run, so one run stays short even after a long pause; the next run takes the rest. */
const BATCH = 5000;
/** Audit batches one run may delete (100,000 rows); a bigger backlog is finished by the next runs. */
const AUDIT_PURGE_MAX_BATCHES = 20;

type Counts = Record<'loginThrottle' | 'emailQuota' | 'rateLimits' | 'sessions' | 'accountTokens' | 'outbox' | 'mfaChallenges' | 'passkeyChallenges', number>;
export type PurgeReport = Record<'loginThrottle' | 'emailQuota' | 'rateLimits' | 'sessions' | 'accountTokens' | 'outbox' | 'mfaChallenges' | 'passkeyChallenges' | 'auditEvents', number>;

/**
 * Removes what no longer serves any purpose, on the retention documented in docs/lifecycle.md, in one statement:
 * - `login_throttle` rows with no attempt inside the lockout window, `email_quota` rows with no email in the last hour;
 * - `rate_limits` windows older than an hour (the counters are per minute);
 * - sessions (and their refresh tokens, by cascade) expired or revoked more than SESSION_RETENTION_DAYS ago;
 * - account tokens used, revoked or expired more than a day ago (the reset cap looks back one hour);
 * - outbox rows sent or failed more than OUTBOX_RETENTION_DAYS ago (pending ones are never purged);
 * - second-factor sign-in challenges (mfaTokens) expired more than a day ago (they live 5 minutes);
 * - passkey ceremony challenges expired (they live 5 minutes; used ones are deleted by their ceremony);
 * - audit events older than AUDIT_RETENTION_DAYS, only when that is set (default 0: kept forever), batch after batch until one is short
 *   (at most AUDIT_PURGE_MAX_BATCHES per run).
 */
export async function purge(db: Db, config: Config): Promise<PurgeReport> {
  const days = (n: number) => sql`now() - make_interval(days => ${n})`;
  const batch = sql.raw(String(BATCH));
  const rows = await db.execute<Counts>(sql`
    with throttle as (
      delete from login_throttle where email_hash in (
        select email_hash from login_throttle t
        where not exists (select 1 from unnest(t.attempts) a where a > now() - make_interval(secs => ${config.LOGIN_WINDOW_SECONDS}))
        limit ${batch})
      returning 1
    ), quota as (
      delete from email_quota q where not exists (select 1 from unnest(q.sent) s where s > now() - interval '1 hour')
      returning 1
    ), limits as (
      delete from rate_limits where (key, window_start) in (
        select key, window_start from rate_limits where window_start < now() - interval '1 hour' limit ${batch})
      returning 1
    ), old_sessions as (
      delete from sessions where id in (
        (select id from sessions where expires_at < ${days(config.SESSION_RETENTION_DAYS)} limit ${batch})
        union (select id from sessions where revoked_at < ${days(config.SESSION_RETENTION_DAYS)} limit ${batch}))
      returning 1
    ), tokens as (
      delete from account_tokens where token_hash in (
        select token_hash from account_tokens
        where expires_at < now() - interval '1 day' or used_at < now() - interval '1 day' or revoked_at < now() - interval '1 day'
        limit ${batch})
      returning 1
    ), outbox as (
      delete from email_outbox where id in (
        select id from email_outbox where status <> 'pending' and coalesce(sent_at, next_attempt_at) < ${days(config.OUTBOX_RETENTION_DAYS)}
        limit ${batch})
      returning 1
    ), challenges as (
      delete from mfa_challenges where token_hash in (
        select token_hash from mfa_challenges where expires_at < now() - interval '1 day' limit ${batch})
      returning 1
    ), passkey_challenges as (
      delete from passkey_challenges where challenge_hash in (
        select challenge_hash from passkey_challenges where expires_at < now() limit ${batch})
      returning 1
    )
    select (select count(*) from throttle)::int as "loginThrottle", (select count(*) from quota)::int as "emailQuota", (select count(*) from limits)::int as "rateLimits",
      (select count(*) from old_sessions)::int as sessions, (select count(*) from tokens)::int as "accountTokens",
      (select count(*) from outbox)::int as outbox, (select count(*) from challenges)::int as "mfaChallenges",
      (select count(*) from passkey_challenges)::int as "passkeyChallenges"`);
  let auditEvents = 0;
  if (config.AUDIT_RETENTION_DAYS > 0) {
    // The audit log is append-only (0005_self_protection): only its purge function may delete, in bounded batches.
    auditEvents = await untilShort(BATCH, AUDIT_PURGE_MAX_BATCHES, async () => {
      const purged = await db.execute<{ n: number }>(
        sql`select purge_audit_events(before => ${days(config.AUDIT_RETENTION_DAYS)}, max_rows => ${BATCH})::int as n`,
      );
      return purged.rows[0]!.n;
    });
  }
  return { ...rows.rows[0]!, auditEvents };
}
