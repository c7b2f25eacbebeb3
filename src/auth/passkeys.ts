import type { AuthenticationResponseJSON, AuthenticatorTransport, RegistrationResponseJSON } from '@simplewebauthn/server';
import type { Context } from 'hono';
import { webauthn } from '../lazy';
import type { AppEnv } from '../env';

/**
 * The WebAuthn ceremonies of contract §17 on @simplewebauthn/server (docs/passkeys.md). Challenges are 256 random
 * bits made here and stored only as their SHA-256 (table passkey_challenges); the routes consume them in the same
 * statement that acts on the verified answer, so each is used at most once.
 */

// The library (and its ASN.1/X.509 stack, ~87 KiB gzip) is a module of its own, loaded by the first ceremony of an
// isolate rather than by every isolate's start-up (scripts/build/lazy-modules.ts).

export const CHALLENGE_TTL_SECONDS = 300;
// EdDSA, ES256, RS256: what platform authenticators and security keys create (ES256 nearly always). Pinned rather
// than the library's default, which adds ML-DSA where the runtime has it.
const ALGORITHMS = [-8, -7, -257];

export interface RelyingParty {
  /** The RP id: a host name without port. */
  id: string;
  /** The origin the browser must report in clientDataJSON. */
  origin: string;
}

/**
 * §17: the host name and origin of APP_URL; under `npm run dev` (the dev email transport) or without APP_URL, those of
 * the URL the request was sent to, so the console works on http://localhost:<port> (browsers refuse WebAuthn on an
 * IP-address origin) as on any other local name.
 */
export function relyingParty(c: Context<AppEnv>): RelyingParty {
  const { APP_URL, EMAIL_TRANSPORT } = c.var.config;
  const url = new URL(APP_URL && EMAIL_TRANSPORT !== 'dev' ? APP_URL : c.req.url);
  return { id: url.hostname.replace(/^\[(.*)\]$/, '$1'), origin: url.origin };
}

const b64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
export const fromB64url = (text: string): Uint8Array<ArrayBuffer> => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (ch) => ch.charCodeAt(0));
export const toHex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
export const fromHex = (hex: string): Uint8Array<ArrayBuffer> => Uint8Array.from(hex.match(/../g) ?? [], (h) => Number.parseInt(h, 16));

/** A new challenge: the value for the options (base64url) and the hash to store (hex). */
export async function newChallenge(): Promise<{ challenge: string; hash: string }> {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const challenge = b64url(bytes);
  return { challenge, hash: await challengeHash(challenge) };
}

const challengeHash = async (challenge: string) => toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', fromB64url(challenge))));

/**
 * The challenge a ceremony's answer claims (from its clientDataJSON), as the hash it is stored under; null when the
 * answer carries none that could be ours. Nothing here is trusted yet: the route looks the hash up, and the library
 * then checks the whole answer against it.
 */
export async function claimedChallenge(response: { response: { clientDataJSON: string } }): Promise<{ challenge: string; hash: string } | null> {
  try {
    const clientData = JSON.parse(new TextDecoder().decode(fromB64url(response.response.clientDataJSON))) as { challenge?: unknown };
    const challenge = clientData.challenge;
    if (typeof challenge !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(challenge)) return null;
    return { challenge, hash: await challengeHash(challenge) };
  } catch {
    return null;
  }
}

/**
 * The WebAuthn user handle of an account: its id in decimal, as bytes. Stable (an authenticator replaces its
 * credential for the same account instead of adding one) and no personal data (§17 discoverable credentials carry it
 * back at sign-in, where it is checked against the credential's account).
 */
export const userHandle = (userId: number): Uint8Array<ArrayBuffer> => new TextEncoder().encode(String(userId)) as Uint8Array<ArrayBuffer>;

export async function registrationOptions(
  c: Context<AppEnv>,
  rp: RelyingParty,
  challenge: string,
  user: { id: number; email: string; name: string },
  exclude: { id: string; transports: string[] }[],
) {
  const { generateRegistrationOptions } = await webauthn();
  return generateRegistrationOptions({
    rpName: c.var.config.MFA_ISSUER,
    rpID: rp.id,
    userID: userHandle(user.id),
    userName: user.email,
    userDisplayName: user.name,
    challenge: fromB64url(challenge),
    timeout: CHALLENGE_TTL_SECONDS * 1000,
    attestationType: 'none',
    excludeCredentials: exclude.map((e) => ({ id: e.id, transports: e.transports as AuthenticatorTransport[] })),
    authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'required' },
    supportedAlgorithmIDs: ALGORITHMS,
  });
}

export async function authenticationOptions(rp: RelyingParty, challenge: string) {
  const { generateAuthenticationOptions } = await webauthn();
  return generateAuthenticationOptions({
    rpID: rp.id,
    challenge: fromB64url(challenge),
    timeout: CHALLENGE_TTL_SECONDS * 1000,
    userVerification: 'required',
  });
}

export interface NewCredential {
  /** Raw credential id, hex. */
  id: string;
  /** COSE public key, hex. */
  publicKey: string;
  counter: number;
  transports: string[];
  deviceType: string;
  backedUp: boolean;
}

/** Verifies a registration answer (origin, RP id, challenge, UP and UV flags, attestation); null when it fails. */
export async function verifyRegistration(rp: RelyingParty, challenge: string, response: RegistrationResponseJSON): Promise<NewCredential | null> {
  try {
    const { verifyRegistrationResponse } = await webauthn();
    const result = await verifyRegistrationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: true,
      supportedAlgorithmIDs: ALGORITHMS,
    });
    if (!result.verified) return null;
    const { credential, credentialDeviceType, credentialBackedUp } = result.registrationInfo;
    return {
      id: toHex(fromB64url(credential.id)),
      publicKey: toHex(credential.publicKey),
      counter: credential.counter,
      transports: (response.response.transports ?? []).filter((t) => typeof t === 'string').slice(0, 8),
      deviceType: credentialDeviceType,
      backedUp: credentialBackedUp,
    };
  } catch {
    return null;
  }
}

export interface StoredCredential {
  credential_id: string; // hex
  public_key: string; // hex
  counter: string | number;
}

/**
 * Verifies a sign-in answer against the stored credential (origin, RP id, challenge, UP and UV flags, signature) and
 * returns its signature counter, or null when it fails. The counter is not judged here: the route tells a counter
 * that went backwards (a possible clone, audited) from a plain failure, and only for a valid signature.
 */
export async function verifyAuthentication(
  rp: RelyingParty,
  challenge: string,
  response: AuthenticationResponseJSON,
  stored: StoredCredential,
): Promise<{ counter: number } | null> {
  try {
    const { verifyAuthenticationResponse } = await webauthn();
    const result = await verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: true,
      // Counter 0 turns the library's own counter check off (see above).
      credential: { id: b64url(fromHex(stored.credential_id)), publicKey: fromHex(stored.public_key), counter: 0 },
    });
    return result.verified ? { counter: result.authenticationInfo.newCounter } : null;
  } catch {
    return null;
  }
}

/** §17: a counter that is non-zero and not above the stored one (a counter that stays 0 is fine). */
export const counterWentBack = (stored: number, received: number) => received !== 0 && received <= stored;
