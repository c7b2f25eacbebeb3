/**
 * A software WebAuthn authenticator for the server tests: real ECDSA P-256 keys (WebCrypto), real CBOR attestation
 * objects (format "none") and real assertions, signed over authenticatorData || SHA-256(clientDataJSON) as an
 * authenticator does. Each knob a test needs to forge a bad ceremony is an option of `create`/`get`.
 */

const encoder = new TextEncoder();

export const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
export const fromB64url = (text: string) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (ch) => ch.charCodeAt(0));

const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
};
const sha256 = async (bytes: Uint8Array) => new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
const uint32 = (n: number) => new Uint8Array([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);

// The CBOR subset attestation objects and COSE keys use (RFC 8949): unsigned and negative integers, byte and text
// strings, maps.
type Cbor = number | string | Uint8Array | Map<Cbor, Cbor>;
function head(major: number, n: number): Uint8Array {
  if (n < 24) return new Uint8Array([(major << 5) | n]);
  if (n < 256) return new Uint8Array([(major << 5) | 24, n]);
  if (n < 65536) return new Uint8Array([(major << 5) | 25, n >> 8, n & 255]);
  return concat(new Uint8Array([(major << 5) | 26]), uint32(n));
}
export function cbor(value: Cbor): Uint8Array {
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === 'string') {
    const bytes = encoder.encode(value);
    return concat(head(3, bytes.length), bytes);
  }
  if (value instanceof Uint8Array) return concat(head(2, value.length), value);
  return concat(head(5, value.size), ...[...value].flatMap(([k, v]) => [cbor(k), cbor(v)]));
}

/** WebCrypto signs ECDSA as r || s; WebAuthn carries an ASN.1 DER `Ecdsa-Sig-Value`. */
function derSignature(raw: Uint8Array): Uint8Array {
  const integer = (bytes: Uint8Array) => {
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    let v = bytes.subarray(i);
    if (v[0]! & 0x80) v = concat(new Uint8Array([0]), v);
    return concat(new Uint8Array([0x02, v.length]), v);
  };
  const body = concat(integer(raw.subarray(0, 32)), integer(raw.subarray(32)));
  return concat(new Uint8Array([0x30, body.length]), body);
}

/** PublicKeyCredential.toJSON() of a platform credential, around its `response`. */
function toJSON<R>(credential: SoftCredential, response: R) {
  const id = b64url(credential.id);
  return { id, rawId: id, type: 'public-key', authenticatorAttachment: 'platform', clientExtensionResults: {}, response };
}

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_AT = 0x40;

export interface CeremonyOptions {
  /** The RP id whose hash goes into authenticatorData (default: the one the options named). */
  rpId?: string;
  /** The origin written into clientDataJSON. */
  origin: string;
  /** The challenge written into clientDataJSON (default: the options' own). */
  challenge?: string;
  /** Whether the user was verified (the UV flag). Default true. */
  userVerified?: boolean;
  /** The `type` of clientDataJSON (default webauthn.create / webauthn.get). */
  type?: string;
}

export interface SoftCredential {
  id: Uint8Array;
  keys: CryptoKeyPair;
  rpId: string;
  userHandle: string;
  counter: number;
}

/** The options' JSON as the server sends it: the fields an authenticator reads. */
type CreationOptions = { challenge: string; rp: { id?: string }; user: { id: string } };
type RequestOptions = { challenge: string; rpId?: string };

export class SoftAuthenticator {
  readonly credentials: SoftCredential[] = [];
  /** Added to the signature counter on each assertion; 0 keeps it at 0 (as synced passkeys do). */
  constructor(readonly counterStep = 1) {}

  /** navigator.credentials.create(): a new discoverable credential, answered as PublicKeyCredential.toJSON(). */
  async create(options: CreationOptions, ceremony: CeremonyOptions) {
    const rpId = ceremony.rpId ?? options.rp.id!;
    const keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    const jwk = (await crypto.subtle.exportKey('jwk', keys.publicKey)) as JsonWebKey;
    const id = crypto.getRandomValues(new Uint8Array(16));
    const credential: SoftCredential = { id, keys, rpId, userHandle: options.user.id, counter: 0 };
    this.credentials.push(credential);
    return this.attest(credential, options.challenge, ceremony, jwk);
  }

  /** The same credential registered again (e.g. for another account, or twice): a fresh attestation of it. */
  async attestAgain(credential: SoftCredential, options: CreationOptions, ceremony: CeremonyOptions) {
    const jwk = (await crypto.subtle.exportKey('jwk', credential.keys.publicKey)) as JsonWebKey;
    return this.attest(credential, options.challenge, ceremony, jwk);
  }

  private async attest(credential: SoftCredential, challenge: string, ceremony: CeremonyOptions, jwk: JsonWebKey) {
    const coseKey = cbor(new Map<Cbor, Cbor>([[1, 2], [3, -7], [-1, 1], [-2, fromB64url(jwk.x!)], [-3, fromB64url(jwk.y!)]]));
    const flags = FLAG_UP | FLAG_AT | (ceremony.userVerified === false ? 0 : FLAG_UV);
    const authData = concat(
      await sha256(encoder.encode(credential.rpId)),
      new Uint8Array([flags]),
      uint32(credential.counter),
      new Uint8Array(16), // AAGUID: zeros, as "none" attestation reports it
      new Uint8Array([credential.id.length >> 8, credential.id.length & 255]),
      credential.id,
      coseKey,
    );
    const attestationObject = cbor(new Map<Cbor, Cbor>([['fmt', 'none'], ['attStmt', new Map()], ['authData', authData]]));
    const clientDataJSON = encoder.encode(
      JSON.stringify({ type: ceremony.type ?? 'webauthn.create', challenge: ceremony.challenge ?? challenge, origin: ceremony.origin, crossOrigin: false }),
    );
    return toJSON(credential, { clientDataJSON: b64url(clientDataJSON), attestationObject: b64url(attestationObject), transports: ['internal', 'hybrid'] });
  }

  /** navigator.credentials.get() with no allowCredentials: the (first, or the given) credential for the RP id. */
  async get(options: RequestOptions, ceremony: CeremonyOptions, credential = this.credentials.find((c) => c.rpId === (ceremony.rpId ?? options.rpId))) {
    if (!credential) throw new Error('no credential for this RP id');
    credential.counter += this.counterStep;
    return this.assert(credential, options.challenge, ceremony, credential.counter);
  }

  /** An assertion with a chosen counter (e.g. one that goes backwards, as a cloned key's would). */
  async assert(credential: SoftCredential, challenge: string, ceremony: CeremonyOptions, counter: number) {
    const flags = FLAG_UP | (ceremony.userVerified === false ? 0 : FLAG_UV);
    const authData = concat(await sha256(encoder.encode(ceremony.rpId ?? credential.rpId)), new Uint8Array([flags]), uint32(counter));
    const clientDataJSON = encoder.encode(
      JSON.stringify({ type: ceremony.type ?? 'webauthn.get', challenge: ceremony.challenge ?? challenge, origin: ceremony.origin, crossOrigin: false }),
    );
    const signed = concat(authData, await sha256(clientDataJSON));
    const raw = new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, credential.keys.privateKey, signed));
    return toJSON(credential, {
      clientDataJSON: b64url(clientDataJSON),
      authenticatorData: b64url(authData),
      signature: b64url(derSignature(raw)),
      userHandle: credential.userHandle,
    });
  }
}
