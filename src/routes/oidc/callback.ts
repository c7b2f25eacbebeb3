import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import type { Context } from 'hono';
import { deleteCookie, getCookie } from 'hono/cookie';
import { completeAuthorization, OidcError, type VerifiedIdentity } from '../../auth/oidc/client';
import type { OidcProviderConfig } from '../../auth/oidc/config';
import { newRefreshToken } from '../../auth/tokens';
import type { AppEnv } from '../../env';
import { auditInsert } from '../../lib/audit';
import { problems } from '../../lib/openapi';
import { sha256Hex } from '../../lib/sql';
import { rateLimit } from '../../middleware/rate-limit';
import {
  CallbackQuery,
  CODE_SECONDS,
  NONCE_COOKIE,
  ProviderParams,
  providerOf,
  SIGN_IN_PAGE,
  withParam,
  type SsoErrorCode,
} from './schema';

type SignInRow = { state_ok: boolean; return_to: string | null; code_verifier: string | null; redirect_uri: string | null };
type AccountRow = { id: number | null; disabled: boolean | null; created: boolean; roles_ok: boolean };

const COOKIE_PATH = '/v1/auth/oidc/';

/** The callback answers a browser: every outcome is a redirect to the console (docs/sso.md, "Errors"). */
const back = (c: Context<AppEnv>, to: string, name: 'code' | 'error', value: string) => {
  deleteCookie(c, NONCE_COOKIE, { path: COOKIE_PATH });
  return c.redirect(withParam(c, to, name, value), 302);
};

function domainAllowed(provider: OidcProviderConfig, email: string): boolean {
  const domain = email.slice(email.lastIndexOf('@') + 1);
  return email.includes('@') && provider.allowedDomains.includes(domain);
}

export const callback = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'get',
    path: '/{id}/callback',
    tags: ['Single sign-on'],
    summary: "The provider's redirect back (browser navigation)",
    description:
      'Validates the sign-in (state and the browser binding cookie; the ID token: issuer, audience, signature from ' +
      "the provider's JWKS, expiry, nonce), then finds the account (by the provider's subject once linked, else by " +
      'the verified email, in an allowed domain) or creates one where the provider allows it, and redirects to the ' +
      '`redirect` of the start with `?code=<one-time code>` for POST /v1/auth/oidc/exchange. Every failure redirects ' +
      'too, with `?error=<code>` (docs/sso.md lists the codes); without a valid state, to /console/sign-in.',
    middleware: [rateLimit('oidc')] as const,
    request: { params: ProviderParams, query: CallbackQuery },
    responses: { 302: { description: 'Back to the console with `?code=` or `?error=`' }, ...problems(404, 422, 429) },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const { state } = c.req.valid('query');
    const provider = providerOf(c, id);
    const { db } = c.var;
    const nonce = getCookie(c, NONCE_COOKIE);
    if (!state || !nonce) return back(c, SIGN_IN_PAGE, 'error', 'invalid_state');

    // Statement 1: the sign-in is used up here, whatever follows (single use), when state, provider and this
    // browser's nonce all match and it has not expired.
    const first = await db.execute<SignInRow>(sql`
      with used as (
        delete from oidc_states
        where state_hash = decode(${await sha256Hex(state)}, 'hex') and provider = ${id}
          and nonce_hash = decode(${await sha256Hex(nonce)}, 'hex')
        returning expires_at > now() as live, return_to, code_verifier, redirect_uri
      )
      select coalesce((select live from used), false) as state_ok, u.return_to, u.code_verifier, u.redirect_uri
      from (select 1) one left join used u on true`);
    const signIn = first.rows[0]!;
    if (!signIn.state_ok) return back(c, SIGN_IN_PAGE, 'error', 'invalid_state');
    const returnTo = signIn.return_to!;

    const refuse = async (reason: SsoErrorCode, userId: number | null = null, cause?: unknown) => {
      console.error(JSON.stringify({ level: 'warn', msg: 'oidc sign-in refused', provider: id, reason, requestId: c.get('requestId'), error: cause ? String(cause) : undefined }));
      await db.execute(auditInsert(c, 'auth.login_failed', {
        actor: sql`null::int`,
        targetType: 'user',
        targetId: sql`${userId}::int`,
        details: sql`json_build_object('reason', ${reason}::text, 'method', 'oidc', 'provider', ${id}::text)`,
      }));
      return back(c, returnTo, 'error', reason);
    };

    let identity: VerifiedIdentity;
    try {
      identity = await completeAuthorization(provider, new URL(c.req.url), {
        state,
        nonce,
        codeVerifier: signIn.code_verifier!,
        redirectUri: signIn.redirect_uri!,
      });
    } catch (error) {
      if (!(error instanceof OidcError)) throw error;
      return refuse(error.code, null, error.cause ?? error);
    }
    // An unverified email never links nor creates (contract §18); the domain is checked on every sign-in.
    if (!identity.email || !identity.emailVerified) return refuse('email_unverified');
    if (!domainAllowed(provider, identity.email)) return refuse('domain_not_allowed');

    // Statement 2: the account (linked subject, else the verified email, else created where allowed), the link,
    // the one-time code and the audit rows, together.
    const code = await newRefreshToken(); // 256 random bits, stored as a hash, like a refresh token
    const roles = sql`${sql.param(provider.roles)}::text[]`;
    const email = identity.email;
    const second = await db.execute<AccountRow>(sql`
      with linked as (
        select user_id from oidc_identities where provider = ${id} and subject = ${identity.subject}
      ), found as (
        select u.id, u.disabled from users u
        where u.id = coalesce((select user_id from linked), (
          -- Not an account this provider already links to another subject: an email the provider gave to someone
          -- new (a reused address) must not open the previous holder's account.
          select e.id from users e where e.email = ${email}
            and not exists (select 1 from oidc_identities i where i.provider = ${id} and i.user_id = e.id)))
      ), roles_ok as (
        select count(*) = cardinality(${roles}) as ok from roles where name = any (${roles})
      ), created as (
        insert into users (name, email, hashed_password, email_verified)
        select ${identity.name ?? email.slice(0, email.indexOf('@')).slice(0, 100)}, ${email}, '!sso', true
        where not exists (select 1 from found) and ${provider.createAccounts} and (select ok from roles_ok)
        on conflict (email) do nothing
        returning id, disabled
      ), granted as (
        insert into users_roles (user_id, role_id) select c.id, r.id from created c join roles r on r.name = any (${roles})
      ), account as (
        select id, disabled from found union all select id, disabled from created
      ), link as (
        insert into oidc_identities (provider, subject, user_id, email, last_used_at)
        select ${id}, ${identity.subject}, id, ${email}, now() from account where not disabled
        on conflict (provider, subject) do update set last_used_at = now(), email = excluded.email
      ), code as (
        insert into oidc_codes (code_hash, user_id, provider, expires_at)
        select decode(${code.hash}, 'hex'), id, ${id}, now() + make_interval(secs => ${CODE_SECONDS}) from account where not disabled
      ), purge as (
        delete from oidc_codes where code_hash = any (array(select code_hash from oidc_codes where expires_at < now() - interval '1 hour' limit 10))
      ), audit_created as (
        ${auditInsert(c, 'user.register', {
          actor: sql`id`,
          targetType: 'user',
          targetId: sql`id`,
          details: sql`json_build_object('method', 'oidc', 'provider', ${id}::text, 'roles', ${roles})`,
          from: sql`created`,
        })}
      ), audit_refused as (
        ${auditInsert(c, 'auth.login_failed', {
          actor: sql`null::int`,
          targetType: 'user',
          targetId: sql`(select id from account)`,
          details: sql`json_build_object('reason', case when exists (select 1 from account) then 'account_disabled' else 'no_account' end,
            'method', 'oidc', 'provider', ${id}::text)`,
          from: sql`(select 1) one where not exists (select 1 from account where not disabled)`,
        })}
      )
      select (select id from account) as id, (select disabled from account) as disabled,
        exists (select 1 from created) as created, (select ok from roles_ok) as roles_ok`);
    const account = second.rows[0]!;
    if (account.id === null) {
      if (provider.createAccounts && !account.roles_ok) {
        console.error(JSON.stringify({ level: 'error', msg: 'oidc provider names a role that does not exist', provider: id, roles: provider.roles }));
      }
      return back(c, returnTo, 'error', 'no_account');
    }
    // §3: a disabled account is refused only after the credential (here, the provider's word) checked out.
    if (account.disabled) return back(c, returnTo, 'error', 'account_disabled');
    return back(c, returnTo, 'code', code.token);
  },
);
