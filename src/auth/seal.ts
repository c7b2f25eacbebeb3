import { ConfigError, type Config } from '../env';

/**
 * Sealing of second-factor secrets at rest: AES-256-GCM with a 96-bit random IV, under MFA_ENCRYPTION_KEY (a key
 * of its own, never the JWT key). The sealed form is IV || ciphertext || tag, stored next to the id of the key that
 * sealed it, so MFA_ENCRYPTION_PREVIOUS_KEYS can keep opening older rows while the current key seals new ones.
 * `context` (e.g. the account id) is authenticated as additional data: a sealed value moved to another row fails.
 */
interface SealKeys {
  currentId: string;
  byId: Map<string, CryptoKey>;
}

const IV_BYTES = 12;
const cache = new WeakMap<Config, Promise<SealKeys>>();

const fromBase64url = (s: string) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (ch) => ch.charCodeAt(0));

async function importKeys(config: Config): Promise<SealKeys> {
  const current = config.MFA_ENCRYPTION_KEY;
  if (!current) throw new ConfigError('MFA_ENCRYPTION_KEY is not set: second-factor secrets cannot be sealed or opened');
  const byId = new Map<string, CryptoKey>();
  for (const { id, secret } of [current, ...config.MFA_ENCRYPTION_PREVIOUS_KEYS]) {
    if (byId.has(id)) continue;
    const raw = fromBase64url(secret);
    if (raw.length !== 32) throw new ConfigError(`MFA key ${id} must be 32 bytes`);
    byId.set(id, await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']));
  }
  return { currentId: current.id, byId };
}

function keys(config: Config): Promise<SealKeys> {
  let found = cache.get(config);
  if (!found) {
    found = importKeys(config);
    found.catch(() => cache.delete(config));
    cache.set(config, found);
  }
  return found;
}

export async function seal(config: Config, plaintext: Uint8Array, context: string): Promise<{ keyId: string; sealed: Uint8Array }> {
  const { currentId, byId } = await keys(config);
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const additionalData = new TextEncoder().encode(context);
  const ciphertext = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData }, byId.get(currentId)!, plaintext);
  const sealed = new Uint8Array(IV_BYTES + ciphertext.byteLength);
  sealed.set(iv);
  sealed.set(new Uint8Array(ciphertext), IV_BYTES);
  return { keyId: currentId, sealed };
}

/** Opens a sealed value; throws when its key is not configured any more or the value or context was tampered with. */
export async function unseal(config: Config, keyId: string, sealed: Uint8Array, context: string): Promise<Uint8Array> {
  const { byId } = await keys(config);
  const key = byId.get(keyId);
  if (!key) throw new ConfigError(`MFA key ${keyId} is not configured (MFA_ENCRYPTION_KEY / MFA_ENCRYPTION_PREVIOUS_KEYS)`);
  const additionalData = new TextEncoder().encode(context);
  const iv = sealed.subarray(0, IV_BYTES);
  return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv, additionalData }, key, sealed.subarray(IV_BYTES)));
}

/** Whether a row sealed under `keyId` should be re-sealed under the current key (done when the row is next written). */
export const isStale = (config: Config, keyId: string) => config.MFA_ENCRYPTION_KEY?.id !== keyId;
