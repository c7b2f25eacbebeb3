import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { guarded, guardedRows, requirePermission } from '../../auth/authorize';
import {
  CHALLENGE_TTL_SECONDS,
  claimedChallenge,
  fromHex,
  newChallenge,
  registrationOptions,
  relyingParty,
  verifyRegistration,
} from '../../auth/passkeys';
import { passkeyAdded, passkeyRemoved } from '../../email/messages/passkey-notice';
import { enqueueEmail } from '../../email/outbox';
import type { AppEnv } from '../../env';
import { auditInsert } from '../../lib/audit';
import { notFound, validationFailed } from '../../lib/errors';
import { bearer, jsonBody, jsonResponse, problems } from '../../lib/openapi';
import { iso } from '../../lib/sql';
import { oneRow } from '../mfa/sql';
import { AddPasskeyBody, CreationOptions, Passkey, PasskeyIdParam, PasskeyList, type PasskeyJson } from './schema';

// Every /v1/me/passkeys route needs a live session and no permission; §10/§17: exempt from MFA_REQUIRED_ROLES.
const live = requirePermission(null);

const passkeyJson = (p: string) => {
  const t = sql.raw(p);
  return sql`json_build_object('id', ${t}.id, 'name', ${t}.name, 'createdAt', ${iso(sql`${t}.created_at`)}, 'lastUsedAt', ${iso(sql`${t}.last_used_at`)})`;
};

const refused = (message: string) => validationFailed([{ path: 'response', message }], 'The passkey could not be registered.');

const b64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

/** A passkey id from the path; text that cannot be one is a 404, like another account's id. */
function passkeyId(text: string): number {
  if (!/^[1-9][0-9]{0,9}$/.test(text) || Number(text) > 2_147_483_647) throw notFound('No such passkey.');
  return Number(text);
}

/** Contract §17, the caller's own passkeys: mounted at /v1/me/passkeys. */
export const mePasskeys = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'post',
      path: '/options',
      tags: ['Passkeys'],
      summary: 'Start adding a passkey',
      description:
        'Answers the PublicKeyCredentialCreationOptions (JSON, binary fields base64url) for navigator.credentials.create(): ' +
        'a single-use challenge valid 5 minutes, the caller’s passkeys in excludeCredentials, a discoverable credential ' +
        'and user verification required. Finish with POST /v1/me/passkeys.',
      security: bearer,
      middleware: [live] as const,
      responses: { 200: jsonResponse(CreationOptions, 'Options for navigator.credentials.create()'), ...problems(401, 403) },
    }),
    async (c) => {
      const { challenge, hash } = await newChallenge();
      // One statement: the challenge is stored (bound to the caller), the caller's expired ones go, and what the
      // options name (the account, its credentials to exclude) is read.
      const row = await guarded<{ id: number; email: string; name: string; exclude: { id: string; transports: string[] }[] }>(c, (g) => sql`
        with ${g.cte},
        stale as (delete from passkey_challenges where user_id = ${g.id} and expires_at <= now() and ${g.ok}),
        challenge as (
          insert into passkey_challenges (challenge_hash, purpose, user_id, expires_at)
          select decode(${hash}, 'hex'), 'registration', ${g.id}, now() + make_interval(secs => ${CHALLENGE_TTL_SECONDS}) where ${g.ok}
        )
        ${oneRow(g, sql`
          select u.id, u.email, u.name,
            coalesce((select json_agg(json_build_object('id', encode(p.credential_id, 'hex'), 'transports', p.transports) order by p.id)
                      from passkeys p where p.user_id = u.id), '[]'::json) as exclude
          from users u where u.id = ${g.id}`)}`);
      const exclude = row.exclude.map((e) => ({ id: b64url(fromHex(e.id)), transports: e.transports }));
      const options = await registrationOptions(c, relyingParty(c), challenge, row, exclude);
      return c.json(options as never, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags: ['Passkeys'],
      summary: 'Finish adding a passkey',
      description:
        'Takes a name and the credential navigator.credentials.create() made (PublicKeyCredential.toJSON()). The ' +
        'challenge is read from its clientDataJSON and used up. An answer that fails verification (origin, RP id, ' +
        'challenge, user verification, signature) or a credential already registered → 422 with path `response`, and ' +
        'nothing is registered. A notice goes to the account’s address.',
      security: bearer,
      middleware: [live] as const,
      request: { body: jsonBody(AddPasskeyBody) },
      responses: { 201: jsonResponse(Passkey, 'Added'), ...problems(400, 401, 403, 413, 415, 422) },
    }),
    async (c) => {
      const { name, response } = c.req.valid('json');
      const claimed = await claimedChallenge(response);
      if (!claimed) throw refused('The answer carries no challenge of ours.');
      const credential = await verifyRegistration(relyingParty(c), claimed.challenge, response as never);
      if (!credential) throw refused('The answer failed verification (origin, relying party, challenge, user verification or signature).');
      // The challenge is used up by the statement that registers the credential: only one of the caller's, unexpired;
      // a credential id registered before (by anyone) registers nothing.
      const row = await guarded<{ challenged: boolean; passkey: PasskeyJson | null }>(c, (g) => sql`
        with ${g.cte},
        challenge as (
          delete from passkey_challenges
          where challenge_hash = decode(${claimed.hash}, 'hex') and purpose = 'registration' and user_id = ${g.id} and expires_at > now() and ${g.ok}
          returning user_id
        ), added as (
          insert into passkeys (user_id, credential_id, public_key, counter, transports, name, device_type, backed_up)
          select user_id, decode(${credential.id}, 'hex'), decode(${credential.publicKey}, 'hex'), ${credential.counter},
            ${sql.param(credential.transports)}::text[], ${name}, ${credential.deviceType}, ${credential.backedUp}
          from challenge
          on conflict (credential_id) do nothing
          returning *
        ), audit as (
          ${auditInsert(c, 'passkey.add', {
            actor: sql`user_id`,
            targetType: 'user',
            targetId: sql`user_id`,
            details: sql`json_build_object('passkeyId', id, 'name', name)`,
            from: sql`added`,
          })}
        ), mail as (${enqueueEmail(c, { to: sql`u.email`, from: sql`added a join users u on u.id = a.user_id`, message: passkeyAdded(name) })})
        select ${g.outcome}, exists (select 1 from challenge) as challenged, (select ${passkeyJson('added')} from added) as passkey`);
      if (!row.challenged) throw refused('The challenge is unknown, used or expired: ask for new options.');
      if (!row.passkey) throw refused('This credential is already registered.');
      return c.json(row.passkey, 201);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags: ['Passkeys'],
      summary: 'The caller’s passkeys',
      security: bearer,
      middleware: [live] as const,
      responses: { 200: jsonResponse(PasskeyList, 'In the order they were added'), ...problems(401, 403) },
    }),
    async (c) => {
      const rows = await guardedRows<{ passkey: PasskeyJson }>(
        c,
        (g) => sql`select ${passkeyJson('p')} as passkey from passkeys p where p.user_id = ${g.id} order by p.id`,
      );
      return c.json({ data: rows.map((r) => r.passkey) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/{id}',
      tags: ['Passkeys'],
      summary: 'Remove one of the caller’s passkeys',
      description: 'It stops signing in at once; sessions it opened are not ended. Another account’s id → 404. A notice goes to the account’s address.',
      security: bearer,
      middleware: [live] as const,
      request: { params: PasskeyIdParam },
      responses: { 204: { description: 'Removed' }, ...problems(401, 403, 404) },
    }),
    async (c) => {
      const id = passkeyId(c.req.valid('param').id);
      const row = await guarded<{ removed: { id: number; name: string } | null }>(c, (g) => sql`
        with ${g.cte},
        gone as (delete from passkeys where id = ${id} and user_id = ${g.id} and ${g.ok} returning id, user_id, name),
        audit as (
          ${auditInsert(c, 'passkey.remove', {
            actor: sql`user_id`,
            targetType: 'user',
            targetId: sql`user_id`,
            details: sql`json_build_object('passkeyId', id, 'name', name)`,
            from: sql`gone`,
          })}
        ), mail as (${enqueueEmail(c, { to: sql`u.email`, from: sql`gone r join users u on u.id = r.user_id`, message: passkeyRemoved() })})
        select ${g.outcome}, (select json_build_object('id', id, 'name', name) from gone) as removed`);
      if (!row.removed) throw notFound('No such passkey.');
      return c.body(null, 204);
    },
  );
