import { sql, type SQL } from 'drizzle-orm';
import { MFA_TOKEN_SECONDS } from './schema';

/**
 * The password step of a sign-in for an account with a factor (contract §10), as CTEs of the sign-in's own
 * statement: `factor` finds the account's enabled factor; when there is one, `challenge` stores the mfaToken's hash
 * (with the email's lockout key, so wrong codes count where wrong passwords do) instead of a session being made.
 */
export const factorCte = (userId: number) =>
  sql`factor as (select user_id from mfa_factors where user_id = ${userId} and enabled_at is not null)`;

/** SQL condition: the account signing in has no factor, so the password alone signs it in. */
export const withoutFactor = sql`not exists (select 1 from factor)`;

/** One challenge per row of `source` (the account, `id`) when `factor` has a row. */
export const challengeCte = (source: string, emailHash: string, tokenHash: string): SQL =>
  sql`challenge as (
    insert into mfa_challenges (token_hash, user_id, email_hash, expires_at)
    select decode(${tokenHash}, 'hex'), s.id, decode(${emailHash}, 'hex'), now() + make_interval(secs => ${MFA_TOKEN_SECONDS})
    from ${sql.raw(source)} s where not ${withoutFactor}
    returning user_id
  )`;

/** The 202 answer: no tokens, only what the second step needs. */
export const challengeAnswer = (mfaToken: string) => ({
  mfaRequired: true as const,
  mfaToken,
  methods: ['totp' as const, 'recovery' as const],
  expiresIn: MFA_TOKEN_SECONDS,
});
