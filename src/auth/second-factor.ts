import { sql, type SQL } from 'drizzle-orm';
import type { Config } from '../env';
import { matchStep, recoveryCodeHash } from './mfa';
import { isStale, seal, unseal } from './seal';

/**
 * Checking a second factor where a route takes one: the factor is loaded by the route's first statement
 * (`factorColumns`), the code is checked here, and the route's write consumes it with `consumeProof`, a
 * compare-and-set, so a TOTP step or a recovery code is accepted at most once even under concurrency.
 */
export type FactorRow = {
  user_id: number;
  secret: string; // hex of the sealed secret
  key_id: string;
  last_step: string | number | null;
  recovery: string[]; // hex SHA-256 of the unused recovery codes
};

export type Proof = { method: 'totp'; step: number; resealed: { keyId: string; sealed: string } | null } | { method: 'recovery'; hash: string };

/** Columns of an enabled factor `f` for a select list: the sealed secret, its key, the last step, unused code hashes. */
export const factorColumns = (f: string) => {
  const t = sql.raw(f);
  return sql`${t}.user_id, encode(${t}.secret, 'hex') as secret, ${t}.key_id, ${t}.last_step,
    array(select encode(r.code_hash, 'hex') from mfa_recovery_codes r where r.user_id = ${t}.user_id and r.used_at is null) as recovery`;
};

const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
const fromHex = (s: string) => Uint8Array.from(s.match(/../g) ?? [], (h) => Number.parseInt(h, 16));
const TOTP_CODE = /^\d{6}$/;

/** The AES-GCM additional data of an account's sealed secret. */
export const sealContext = (userId: number) => `mfa:user:${userId}`;

export const sealSecret = async (config: Config, userId: number, secret: Uint8Array) => {
  const { keyId, sealed } = await seal(config, secret, sealContext(userId));
  return { keyId, sealed: hex(sealed) };
};

export const openSecret = (config: Config, row: Pick<FactorRow, 'user_id' | 'secret' | 'key_id'>) =>
  unseal(config, row.key_id, fromHex(row.secret), sealContext(row.user_id));

/**
 * The proof a code gives, or null for a wrong, used or replayed one. `code` is a TOTP code (six digits) or,
 * where a route takes either in one field, a recovery code; `recoveryCode` is always a recovery code.
 */
export async function checkCode(config: Config, factor: FactorRow, input: { code?: string; recoveryCode?: string }): Promise<Proof | null> {
  const code = input.code?.replace(/\s/g, '');
  if (code !== undefined && TOTP_CODE.test(code)) {
    const secret = await openSecret(config, factor);
    const step = matchStep(secret, code, factor.last_step === null ? null : Number(factor.last_step));
    if (step === null) return null;
    // A row sealed under a previous key is re-sealed under the current one by the same write (key rotation).
    const resealed = isStale(config, factor.key_id) ? await sealSecret(config, factor.user_id, secret) : null;
    return { method: 'totp', step, resealed };
  }
  const recovery = input.recoveryCode ?? input.code;
  if (recovery === undefined) return null;
  const hash = await recoveryCodeHash(recovery);
  return factor.recovery.includes(hash) ? { method: 'recovery', hash } : null;
}

/**
 * A data-modifying statement for a CTE that consumes the proof for account `userId` (SQL) and returns `user_id`
 * only if it was still unused: the step must be newer than the last accepted one, the recovery code unused; and
 * only when `when` (SQL boolean, e.g. the caller check) holds.
 */
export function consumeProof(proof: Proof, userId: SQL, when: SQL = sql`true`): SQL {
  if (proof.method === 'recovery') {
    return sql`update mfa_recovery_codes set used_at = now()
      where user_id = ${userId} and code_hash = decode(${proof.hash}, 'hex') and used_at is null and ${when} returning user_id`;
  }
  const reseal = proof.resealed ? sql`, secret = decode(${proof.resealed.sealed}, 'hex'), key_id = ${proof.resealed.keyId}` : sql``;
  return sql`update mfa_factors set last_step = ${proof.step}${reseal}
    where user_id = ${userId} and enabled_at is not null and (last_step is null or last_step < ${proof.step}) and ${when}
    returning user_id`;
}

/**
 * The same check as a condition on a row of `mfa_factors` (for a statement that deletes the factor: consuming the
 * proof and deleting its row in one statement would modify one row twice). The row lock of the delete decides
 * between concurrent uses.
 */
export function proofHolds(proof: Proof): SQL {
  if (proof.method === 'recovery') {
    return sql`exists (select 1 from mfa_recovery_codes r
      where r.user_id = mfa_factors.user_id and r.code_hash = decode(${proof.hash}, 'hex') and r.used_at is null)`;
  }
  return sql`(mfa_factors.last_step is null or mfa_factors.last_step < ${proof.step})`;
}
