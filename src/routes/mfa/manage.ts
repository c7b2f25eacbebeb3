import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import type { Context } from 'hono';
import { guarded, requirePermission } from '../../auth/authorize';
import { newRecoveryCodes, recoveryCodeHash } from '../../auth/mfa';
import { verifyPassword } from '../../auth/password';
import { checkCode, consumeProof, factorColumns, proofHolds, type FactorRow } from '../../auth/second-factor';
import { emailKey, releaseAttempt, reserveAttempt, retryAfter } from '../../auth/throttle';
import { enqueueEmail } from '../../email/outbox';
import { mfaNotice } from '../../email/messages/mfa-notice';
import type { AppEnv } from '../../env';
import { auditInsert } from '../../lib/audit';
import { conflict, tooManyRequests, unauthorized } from '../../lib/errors';
import { bearer, jsonBody, jsonResponse, problems } from '../../lib/openapi';
import { oneRow, textArray } from './sql';
import { DisableBody, RecoveryCodes, RegenerateBody } from './schema';

type Loaded = FactorRow & { hashed_password: string | null; key: string; slot: string | null; retry_after: number | null; has_factor: boolean };

const live = requirePermission(null);

/**
 * The first statement of a route that takes a code from a signed-in caller: loads the password hash and the
 * enabled factor, and reserves an attempt on the caller's email in the §3 lockout, so codes cannot be guessed here
 * any faster than at sign-in. Answers 409 (no factor) or 429 (locked) itself.
 */
async function loadFactor(c: Context<AppEnv>): Promise<Loaded> {
  const { config } = c.var;
  const row = await guarded<Loaded>(c, (g) => sql`
    with ${g.cte},
    target as (select u.id, u.hashed_password, ${emailKey(sql`u.email`)} as key from users u where u.id = ${g.id}),
    slot as (${reserveAttempt(config, sql`tg.key`, sql`target tg join mfa_factors f on f.user_id = tg.id and f.enabled_at is not null where ${g.ok}`)})
    ${oneRow(g, sql`
      select tg.hashed_password, encode(tg.key, 'hex') as key, (select slot from slot) as slot, ${retryAfter(config, sql`tg.key`)} as retry_after,
        f.user_id is not null as has_factor, ${factorColumns('f')}
      from target tg left join mfa_factors f on f.user_id = tg.id and f.enabled_at is not null`)}`);
  if (!row.has_factor) throw conflict('No second factor is enabled.', 'mfa-not-enabled');
  if (row.slot === null) throw tooManyRequests(row.retry_after ?? config.LOGIN_WINDOW_SECONDS, 'Too many failed attempts for this account; try again later.');
  return row;
}

/** A wrong password or code: the reserved attempt stays (it counts towards the lockout) and is audited. */
async function refuse(c: Context<AppEnv>, reason: 'wrong_password' | 'wrong_code', during: string): Promise<never> {
  await guarded(c, (g) => sql`
    with ${g.cte}, audit as (${auditInsert(c, 'auth.mfa_failed', {
      actor: g.id,
      targetType: 'user',
      targetId: g.id,
      details: sql`json_build_object('reason', ${reason}::text, 'during', ${during}::text)`,
      from: sql`(select 1) as one where ${g.ok}`,
    })})
    select ${g.outcome}`);
  throw unauthorized(reason === 'wrong_password' ? 'The current password is wrong.' : 'The code is wrong or was already used.');
}

export const manage = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'post',
      path: '/recovery-codes',
      tags: ['Second factor'],
      summary: 'Replace the recovery codes',
      description:
        'A current TOTP code (not one already used) answers ten new recovery codes; the old set stops working. ' +
        'A wrong code is a 401 and counts towards the sign-in lockout of the account’s email.',
      security: bearer,
      middleware: [live] as const,
      request: { body: jsonBody(RegenerateBody) },
      responses: { 200: jsonResponse(RecoveryCodes, 'The new set'), ...problems(400, 401, 403, 409, 413, 415, 422, 429) },
    }),
    async (c) => {
      const { code } = c.req.valid('json');
      const factor = await loadFactor(c);
      const proof = await checkCode(c.var.config, factor, { code });
      if (!proof) return refuse(c, 'wrong_code', 'recovery-codes');
      const codes = newRecoveryCodes();
      const hashes = await Promise.all(codes.map(recoveryCodeHash));
      const key = sql`decode(${factor.key}, 'hex')`;
      const done = await guarded<{ user_id: number | null }>(c, (g) => sql`
        with ${g.cte}, proof as (${consumeProof(proof, g.id, g.ok)}),
        old as (delete from mfa_recovery_codes where user_id in (select user_id from proof)),
        codes as (
          insert into mfa_recovery_codes (user_id, code_hash) select p.user_id, decode(h, 'hex') from proof p, unnest(${textArray(hashes)}::text[]) h
        ), release as (${releaseAttempt(key, factor.slot!, sql`exists (select 1 from proof)`)}),
        audit as (${auditInsert(c, 'mfa.recovery_codes', { actor: sql`user_id`, targetType: 'user', targetId: sql`user_id`, from: sql`proof` })})
        select ${g.outcome}, (select user_id from proof) as user_id`);
      // The same code used by a concurrent request first.
      if (done.user_id === null) throw unauthorized('The code is wrong or was already used.');
      return c.json({ recoveryCodes: codes }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/disable',
      tags: ['Second factor'],
      summary: 'Turn the second factor off',
      description:
        'Needs the current password and a TOTP code or a recovery code. The secret and the recovery codes are ' +
        'deleted. A wrong password or code is a 401, changes nothing and counts towards the sign-in lockout.',
      security: bearer,
      middleware: [live] as const,
      request: { body: jsonBody(DisableBody) },
      responses: { 204: { description: 'Disabled' }, ...problems(400, 401, 403, 409, 413, 415, 422, 429) },
    }),
    async (c) => {
      const { currentPassword, code } = c.req.valid('json');
      const factor = await loadFactor(c);
      const stored = factor.hashed_password;
      if (!stored || !(await verifyPassword(currentPassword, stored))) return refuse(c, 'wrong_password', 'disable');
      const proof = await checkCode(c.var.config, factor, { code });
      if (!proof) return refuse(c, 'wrong_code', 'disable');
      const key = sql`decode(${factor.key}, 'hex')`;
      // Recovery codes and open sign-in challenges go with the factor (on delete cascade).
      const done = await guarded<{ user_id: number | null }>(c, (g) => sql`
        with ${g.cte}, gone as (
          delete from mfa_factors where user_id = ${g.id} and enabled_at is not null and ${proofHolds(proof)}
            and exists (select 1 from users where id = ${g.id} and hashed_password = ${stored}) and ${g.ok}
          returning user_id
        ), release as (${releaseAttempt(key, factor.slot!, sql`exists (select 1 from gone)`)}),
        audit as (${auditInsert(c, 'mfa.disable', { actor: sql`user_id`, targetType: 'user', targetId: sql`user_id`, details: sql`json_build_object('method', ${proof.method}::text)`, from: sql`gone` })}),
        mail as (${enqueueEmail(c, { to: sql`u.email`, from: sql`gone join users u on u.id = gone.user_id`, message: mfaNotice('disabled') })})
        select ${g.outcome}, (select user_id from gone) as user_id`);
      if (done.user_id === null) throw unauthorized('The password or code is no longer valid.');
      return c.body(null, 204);
    },
  );
