/**
 * Password hashing inside workerd: Argon2id (WebAssembly, bundled as a module) against known answers of the
 * reference implementation's `argon2` command, scrypt hashes of version 1 still verifying, and their upgrade to the
 * configured scheme at sign-in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { argon2Hash } from '../src/auth/argon2';
import { hashPassword, needsRehash, verifyPassword } from '../src/auth/password';
import { createHarness, createUser, type Harness } from './harness';

// `echo -n "$password" | argon2 "$salt" -id -t T -m log2(M) -p P -l 32 -e` (phc-winner-argon2 20190702, Debian 12).
const KNOWN = [
  {
    password: 'correct horse battery',
    salt: 'saltsaltsaltsalt',
    params: { m: 1024, t: 2, p: 1 },
    encoded: '$argon2id$v=19$m=1024,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$JxBBsCIczbj0w06ojA6U8tpSY1ZOv8uKRtXhMg2EIFc',
  },
  {
    password: 'pässwörd',
    salt: '0123456789abcdef',
    params: { m: 256, t: 1, p: 2 },
    encoded: '$argon2id$v=19$m=256,t=1,p=2$MDEyMzQ1Njc4OWFiY2RlZg$c8gj9Czp9Bl19Go1K9hC31jjWj8WqFZzhSqQkaogGY0',
  },
];

describe('Argon2id', () => {
  it.each(KNOWN)('matches the reference implementation ($params)', async ({ password, salt, params, encoded }) => {
    expect(await argon2Hash(password, params, new TextEncoder().encode(salt))).toBe(encoded);
    expect(await verifyPassword(password, encoded)).toBe(true);
    expect(await verifyPassword(`${password}x`, encoded)).toBe(false);
  });

  it('hashes at the configured setting with a fresh salt, and normalises Unicode', async () => {
    const a = await hashPassword('e\u0301t\u00e9', 'argon2id:m=256,t=1,p=1');
    const b = await hashPassword('e\u0301t\u00e9', 'argon2id:m=256,t=1,p=1');
    expect(a).toMatch(/^\$argon2id\$v=19\$m=256,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('\u00e9t\u00e9', a)).toBe(true);
    expect(needsRehash(a, 'argon2id:m=256,t=1,p=1')).toBe(false);
    expect(needsRehash(a, 'argon2id:m=19456,t=2,p=1')).toBe(true);
    expect(needsRehash(a, 'N=1024,r=8,p=1')).toBe(true);
  });

  it('hashes every byte of the password (no C-string or UTF-16 truncation) and refuses garbage', async () => {
    const stored = await hashPassword('abc\0def', 'argon2id:m=256,t=1,p=1');
    expect(await verifyPassword('abc\0def', stored)).toBe(true);
    expect(await verifyPassword('abc', stored)).toBe(false);
    const unicode = await hashPassword('pässwörd', 'argon2id:m=256,t=1,p=1');
    expect(await verifyPassword('pässwö', unicode)).toBe(false);
    expect(await verifyPassword('abc', '$argon2id$v=19$m=256,t=1,p=1$broken')).toBe(false);
    expect(await verifyPassword('abc', '$argon2i$v=19$m=256,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$JxBBsCIczbj0w06ojA6U8tpSY1ZOv8uKRtXhMg2EIFc')).toBe(false);
  });
});

describe('scrypt hashes of version 1', () => {
  it('still verify, and are due for an upgrade under Argon2id', async () => {
    const stored = await hashPassword('correct horse battery', 'N=1024,r=8,p=1');
    expect(stored.startsWith('$scrypt$N=1024,r=8,p=1$')).toBe(true);
    expect(await verifyPassword('correct horse battery', stored)).toBe(true);
    expect(await verifyPassword('wrong horse battery', stored)).toBe(false);
    expect(needsRehash(stored, 'argon2id:m=256,t=1,p=1')).toBe(true);
    expect(needsRehash(stored, 'N=1024,r=8,p=1')).toBe(false);
  });
});

describe('sign-in upgrades a scrypt hash to the configured Argon2id', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(() => h.drop());

  it('in the sign-in statement itself, and the new hash works', async () => {
    const legacy = h.with({ PASSWORD_HASH_PARAMS: 'N=1024,r=8,p=1' });
    const user = await createUser(legacy);
    const before = await h.query<{ hashed_password: string }>('select hashed_password from users where id = $1', [user.id]);
    expect(before[0]!.hashed_password).toMatch(/^\$scrypt\$/);

    const first = await h.call('POST', '/v1/auth/login', { body: { email: user.email, password: user.password } });
    expect(first.status).toBe(200);
    expect(first.statements).toBe(2);
    const after = await h.query<{ hashed_password: string }>('select hashed_password from users where id = $1', [user.id]);
    expect(after[0]!.hashed_password).toMatch(new RegExp(`^\\$argon2id\\$v=19\\$${h.env.PASSWORD_HASH_PARAMS!.slice('argon2id:'.length)}\\$`));

    expect((await h.call('POST', '/v1/auth/login', { body: { email: user.email, password: user.password } })).status).toBe(200);
    expect((await h.call('POST', '/v1/auth/login', { body: { email: user.email, password: 'not the password' } })).status).toBe(401);
  });
});
