import type * as OAuth from 'oauth4webapi';
import { oauth } from '../../lazy';
import type { OidcProviderConfig } from './config';
import { isLoopbackUrl } from './config';

/**
 * The relying party's side of OpenID Connect (contract §18) on oauth4webapi: discovery, the authorization request
 * (code flow, PKCE S256, state, nonce), the code exchange and the ID token's validation (issuer, audience, expiry,
 * nonce, azp by oauth4webapi; the signature against the provider's JWKS by `validateApplicationLevelSignature`).
 */

// oauth4webapi is a module of its own (scripts/build/lazy-modules.ts), loaded by an isolate's first sign-in through a
// provider, not by every isolate's start-up.
type Lib = typeof OAuth;
const lib: () => Promise<Lib> = oauth;

/** How long a discovery document is reused by an isolate before it is fetched again. */
const DISCOVERY_SECONDS = 3600;
/** A provider that does not answer in time fails the sign-in (the user can retry) instead of holding the request. */
const FETCH_TIMEOUT_MS = 5000;

/**
 * Per isolate: the provider's metadata, fetched on first use and kept DISCOVERY_SECONDS. oauth4webapi keys its JWKS
 * cache on this same object (a WeakMap inside the library): keys are fetched once, re-fetched after 5 minutes or when
 * a token names a `kid` the cached set lacks, so a provider's key rotation is picked up without a deploy.
 * A failed discovery is not cached.
 */
const discovered = new Map<string, { as: OAuth.AuthorizationServer; at: number; issuer: string }>();

/** Failures of the provider or of what it sent, each with the code the console shows (docs/sso.md). */
export class OidcError extends Error {
  override name = 'OidcError';
  constructor(
    readonly code: 'provider_unavailable' | 'provider_error' | 'access_denied' | 'id_token_invalid',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const options = (oauth: Lib, issuer: string) => ({
  signal: () => AbortSignal.timeout(FETCH_TIMEOUT_MS),
  // Plain http only to a provider on this machine (`npm run dev -- --oidc`, the tests); config.ts allows no other.
  ...(isLoopbackUrl(issuer) ? { [oauth.allowInsecureRequests]: true } : {}),
});

export async function discover(provider: OidcProviderConfig): Promise<OAuth.AuthorizationServer> {
  const cached = discovered.get(provider.id);
  if (cached && cached.issuer === provider.issuer && Date.now() - cached.at < DISCOVERY_SECONDS * 1000) return cached.as;
  const oauth = await lib();
  const issuer = new URL(provider.issuer);
  let as: OAuth.AuthorizationServer;
  try {
    // Checks that the document's `issuer` is exactly the configured one (OpenID Connect Discovery §4.3).
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, options(oauth, provider.issuer)));
  } catch (cause) {
    throw new OidcError('provider_unavailable', `discovery of ${provider.issuer} failed`, { cause });
  }
  if (!as.authorization_endpoint || !as.token_endpoint || !as.jwks_uri) {
    throw new OidcError('provider_unavailable', `${provider.issuer} lacks an authorization, token or JWKS endpoint`);
  }
  discovered.set(provider.id, { as, at: Date.now(), issuer: provider.issuer });
  return as;
}

const client = (provider: OidcProviderConfig): OAuth.Client => ({ client_id: provider.clientId });

/** client_secret_basic, the default every provider must support, unless the provider lists only client_secret_post. */
function clientAuth(oauth: Lib, as: OAuth.AuthorizationServer, provider: OidcProviderConfig): OAuth.ClientAuth {
  const methods = as.token_endpoint_auth_methods_supported;
  if (methods && !methods.includes('client_secret_basic') && methods.includes('client_secret_post')) {
    return oauth.ClientSecretPost(provider.clientSecret);
  }
  return oauth.ClientSecretBasic(provider.clientSecret);
}

/** The secrets of one authorization request: `state` and `nonce` are stored hashed, the verifier as it is. */
export async function newAuthorization(provider: OidcProviderConfig, redirectUri: string) {
  const [oauth, as] = await Promise.all([lib(), discover(provider)]);
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const url = new URL(as.authorization_endpoint!);
  const params = url.searchParams;
  params.set('client_id', provider.clientId);
  params.set('redirect_uri', redirectUri);
  params.set('response_type', 'code');
  params.set('scope', provider.scopes.join(' '));
  params.set('state', state);
  params.set('nonce', nonce);
  params.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier));
  params.set('code_challenge_method', 'S256');
  return { url, state, nonce, codeVerifier };
}

export interface VerifiedIdentity {
  subject: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
}

/**
 * The callback's work with the provider: the authorization response checked (an `error` from the provider, the
 * `iss` parameter of RFC 9207 when the provider sends it), the code exchanged with the PKCE verifier, and the ID
 * token validated as OpenID Connect Core §3.1.3.7 asks (issuer, audience and azp, expiry and issued-at with 30 s of
 * skew, nonce, and its signature by a key of the provider's JWKS).
 */
export async function completeAuthorization(
  provider: OidcProviderConfig,
  callback: URL,
  expected: { state: string; nonce: string; codeVerifier: string; redirectUri: string },
): Promise<VerifiedIdentity> {
  const [oauth, as] = await Promise.all([lib(), discover(provider)]);
  const opts = options(oauth, provider.issuer);
  const c = client(provider);
  let params: URLSearchParams;
  try {
    params = oauth.validateAuthResponse(as, c, callback.searchParams, expected.state);
  } catch (cause) {
    if (cause instanceof oauth.AuthorizationResponseError) {
      const denied = cause.error === 'access_denied' || cause.error === 'login_required' || cause.error === 'consent_required';
      throw new OidcError(denied ? 'access_denied' : 'provider_error', `the provider answered ${cause.error}`, { cause });
    }
    throw new OidcError('provider_error', 'the authorization response is not valid', { cause });
  }
  let response: Response;
  try {
    response = await oauth.authorizationCodeGrantRequest(as, c, clientAuth(oauth, as, provider), params, expected.redirectUri, expected.codeVerifier, opts);
  } catch (cause) {
    throw new OidcError('provider_unavailable', 'the token endpoint could not be reached', { cause });
  }
  let claims: OAuth.IDToken;
  let accessToken: string;
  try {
    const result = await oauth.processAuthorizationCodeResponse(as, c, response, { expectedNonce: expected.nonce, requireIdToken: true });
    claims = oauth.getValidatedIdTokenClaims(result)!;
    accessToken = result.access_token;
  } catch (cause) {
    // invalid_grant (a used, expired or foreign code, a wrong verifier) is the provider refusing the exchange.
    if (cause instanceof oauth.ResponseBodyError) throw new OidcError('provider_error', `the token endpoint answered ${cause.error}`, { cause });
    throw new OidcError('id_token_invalid', 'the ID token failed validation', { cause });
  }
  try {
    await oauth.validateApplicationLevelSignature(as, response, opts);
  } catch (cause) {
    throw new OidcError('id_token_invalid', 'the ID token is not signed by a key of the provider', { cause });
  }
  // In the code flow OpenID Connect Core §5.4 puts the scope's claims at the UserInfo endpoint; many providers copy
  // them into the ID token too (Google, Entra), others do not (Okta's org server, oidc-provider): ask UserInfo then.
  const about = claims.email !== undefined && claims[provider.emailVerifiedClaim] !== undefined
    ? claims
    : await userInfo(oauth, as, c, provider, claims.sub, accessToken);
  const email = typeof about.email === 'string' ? about.email.trim().toLowerCase() : null;
  // Only a JSON true counts: some providers have sent "true" as a string; that is not a statement OIDC defines.
  const emailVerified = about[provider.emailVerifiedClaim] === true;
  const rawName = about.name ?? claims.name;
  const name = typeof rawName === 'string' && rawName.trim() ? rawName.trim().slice(0, 100) : null;
  return { subject: claims.sub, email, emailVerified, name };
}

/** The UserInfo claims of the ID token's subject (the `sub` must match: Core §5.3.2); none without the endpoint. */
async function userInfo(
  oauth: Lib,
  as: OAuth.AuthorizationServer,
  c: OAuth.Client,
  provider: OidcProviderConfig,
  subject: string,
  accessToken: string,
): Promise<Record<string, unknown>> {
  if (!as.userinfo_endpoint) return {};
  try {
    const response = await oauth.userInfoRequest(as, c, accessToken, options(oauth, provider.issuer));
    return { ...(await oauth.processUserInfoResponse(as, c, subject, response)) };
  } catch (cause) {
    throw new OidcError('provider_error', 'the UserInfo endpoint failed', { cause });
  }
}
