import { importJWK, jwtVerify, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import type { Caller, Config } from '../env';

/** Algorithms a key may sign with, by key type. Anything else is refused at start-up, never negotiated per token. */
function algorithmOf(jwk: JWK): 'EdDSA' | 'ES256' {
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  throw new Error(`unsupported JWT key ${jwk.kid}: use an Ed25519 (EdDSA) or P-256 (ES256) key`);
}

interface VerificationKey {
  alg: 'EdDSA' | 'ES256';
  key: CryptoKey;
}

export interface KeySet {
  kid: string;
  alg: 'EdDSA' | 'ES256';
  signingKey: CryptoKey;
  byKid: Map<string, VerificationKey>;
  /** The JWKS document: public parts only. */
  jwks: { keys: JWK[] };
}

const publicPart = ({ kty, crv, x, y, kid }: JWK) => ({ kty, crv, x, ...(y ? { y } : {}), kid });

async function buildKeySet(config: Config): Promise<KeySet> {
  const priv = config.JWT_PRIVATE_KEY as JWK & { kid: string };
  const alg = algorithmOf(priv);
  const signingKey = (await importJWK(priv, alg)) as CryptoKey;
  const published = [publicPart(priv), ...config.JWT_PUBLIC_KEYS.map((k) => publicPart(k as JWK))];
  const byKid = new Map<string, VerificationKey>();
  const keys: JWK[] = [];
  for (const jwk of published) {
    if (byKid.has(jwk.kid!)) continue;
    const keyAlg = algorithmOf(jwk);
    byKid.set(jwk.kid!, { alg: keyAlg, key: (await importJWK(jwk, keyAlg)) as CryptoKey });
    keys.push({ ...jwk, alg: keyAlg, use: 'sig' });
  }
  return { kid: priv.kid, alg, signingKey, byKid, jwks: { keys } };
}

const keySets = new WeakMap<Config, Promise<KeySet>>();

/** Keys are imported once per isolate and configuration. */
export function keySet(config: Config): Promise<KeySet> {
  let set = keySets.get(config);
  if (!set) {
    set = buildKeySet(config);
    keySets.set(config, set);
  }
  return set;
}

/**
 * Past this many roles the `roles` claim is left out: the database decides what a caller may do, the claim only
 * informs clients, and a token must stay small (it travels with every request; verification refuses > 4 KiB).
 * 16 names of at most 50 characters keep the token under ~1.3 KiB.
 */
export const MAX_TOKEN_ROLES = 16;

export async function signAccessToken(config: Config, caller: Caller & { roles: string[] }): Promise<string> {
  const keys = await keySet(config);
  const claims = { sid: caller.sid, amr: caller.amr, ...(caller.roles.length <= MAX_TOKEN_ROLES ? { roles: caller.roles } : {}) };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: keys.alg, kid: keys.kid, typ: 'JWT' })
    .setIssuer(config.JWT_ISSUER)
    .setAudience(config.JWT_AUDIENCE)
    .setSubject(String(caller.id))
    .setIssuedAt()
    .setExpirationTime(`${config.ACCESS_TOKEN_TTL}s`)
    .setJti(crypto.randomUUID())
    .sign(keys.signingKey);
}

const MAX_TOKEN_LENGTH = 4096;

/**
 * Verifies with the algorithm of the key named by `kid` (only keys we publish; any key material in the header is
 * ignored), the configured issuer and audience, and 30 s of clock skew. Throws on any failure.
 */
export async function verifyAccessToken(config: Config, token: string): Promise<Caller> {
  if (token.length > MAX_TOKEN_LENGTH) throw new Error('token too long');
  const keys = await keySet(config);
  const algorithms = [...new Set([...keys.byKid.values()].map((k) => k.alg))];
  const { payload } = await jwtVerify(
    token,
    (header) => {
      const found = header.kid ? keys.byKid.get(header.kid) : undefined;
      if (!found || found.alg !== header.alg) throw new Error('unknown key or algorithm');
      return found.key;
    },
    { algorithms, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, clockTolerance: 30, requiredClaims: ['sub', 'exp', 'iat', 'jti'] },
  );
  return callerFrom(payload);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const INT4_MAX = 2_147_483_647;

/**
 * `roles` is not used (what the caller may do is decided by the database at request time), only checked for shape
 * when present, like every claim we issue.
 */
function callerFrom(payload: JWTPayload): Caller {
  const id = Number(payload.sub);
  const { sid, amr = [], roles = [] } = payload as { sid?: unknown; amr?: unknown; roles?: unknown };
  if (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string')) throw new Error('bad roles');
  if (!Number.isSafeInteger(id) || id <= 0 || id > INT4_MAX || String(id) !== payload.sub) throw new Error('bad sub');
  if (typeof sid !== 'string' || !UUID.test(sid)) throw new Error('bad sid');
  if (!Array.isArray(amr) || !amr.every((m) => typeof m === 'string')) throw new Error('bad amr');
  return { id, sid, amr };
}
