import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';

/** A fresh Ed25519 signing key as a private JWK with a `kid`, the format JWT_PRIVATE_KEY takes. */
export async function generateSigningKey(): Promise<string> {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = `k-${new Date().toISOString().slice(0, 10)}-${crypto.randomUUID().slice(0, 8)}`;
  return JSON.stringify({ ...jwk, kid, alg: 'EdDSA', use: 'sig' });
}

/** A fresh CURSOR_SECRET: 32 random bytes, base64url. Independent of the signing key, so each rotates alone. */
export function generateCursorSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** A fresh key for sealing second-factor secrets, the format MFA_ENCRYPTION_KEY takes: `<id>:<32 bytes base64url>`. */
export function generateMfaKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const secret = Buffer.from(bytes).toString('base64url');
  return `m-${new Date().toISOString().slice(0, 10)}-${crypto.randomUUID().slice(0, 8)}:${secret}`;
}
