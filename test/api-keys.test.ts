/**
 * Contract §16: personal API keys. Creation limited to what the caller holds, listing, revocation (own and by an
 * administrator), expiry, the owner's state taking effect on the key's very next request, the refusals, audit rows
 * with the owner as actor and details.apiKeyId, lastUsedAt to the minute, and the per-key rate limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyHash, crc32, newApiKey } from '../src/auth/api-keys';
import { PERMISSION_NAMES, type Permission } from '../src/auth/permissions';
import { expectInvalid, expectProblem } from './expect';
import { createHarness, createUser, signIn, uniqueEmail, userWithToken, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.drop());

/** A custom role carrying exactly `permissions`, and a signed-in user holding it (and `viewer`). */
async function holderOf(permissions: Permission[]) {
  const role = `keys-${crypto.randomUUID().slice(0, 8)}`;
  await h.query(
    `with r as (insert into roles (name) values ($1) returning id)
     insert into role_permissions (role_id, permission) select r.id, unnest($2::text[]) from r`,
    [role, permissions],
  );
  const user = await createUser(h, { roles: [role, 'viewer'] });
  return { ...user, role, token: (await signIn(h, user)).accessToken };
}

async function createKey(token: string, permissions: string[], extra: Record<string, unknown> = {}) {
  const res = await h.call('POST', '/v1/me/api-keys', { token, body: { name: 'Script', permissions, ...extra } });
  expect(res.status, res.text).toBe(201);
  return res.body as { id: number; key: string; prefix: string; permissions: string[] };
}

describe('the key format', () => {
  it('is dak_ + 43 base62 characters + a 6-character CRC32, and a typo fails the checksum', async () => {
    const { key, prefix, hash } = await newApiKey();
    expect(key).toMatch(/^dak_[0-9A-Za-z]{49}$/);
    expect(prefix).toBe(key.slice(0, 12));
    expect(await apiKeyHash(key)).toBe(hash);
    const typo = key.slice(0, 20) + (key[20] === 'a' ? 'b' : 'a') + key.slice(21);
    expect(await apiKeyHash(typo)).toBeNull();
    expect(await apiKeyHash(key + 'x')).toBeNull();
    expect(await apiKeyHash(key.replace('dak_', 'dax_'))).toBeNull();
    // The standard CRC-32 check value.
    expect(crc32('123456789')).toBe(0xcbf43926);
  });

  it('draws its characters uniformly enough (no base62 character missing from 200 keys)', async () => {
    const seen = new Set((await Promise.all(Array.from({ length: 200 }, newApiKey))).flatMap((k) => [...k.key.slice(4, 47)]));
    expect(seen.size).toBe(62);
  });
});

describe('POST /v1/me/api-keys', () => {
  it('201 with the key shown once; only its hash is stored; audited with the owner as actor', async () => {
    const owner = await holderOf(['stats:read', 'users:read']);
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const res = await h.call('POST', '/v1/me/api-keys', {
      token: owner.token,
      body: { name: '  Nightly export ', permissions: ['users:read', 'stats:read', 'users:read'], expiresAt },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(Number),
      name: 'Nightly export',
      prefix: res.body.key.slice(0, 12),
      permissions: ['stats:read', 'users:read'],
      createdAt: expect.stringMatching(/Z$/),
      expiresAt,
      lastUsedAt: null,
      key: expect.stringMatching(/^dak_/),
    });
    expect(res.statements).toBe(1);
    const [row] = await h.query<{ hash: string; text: string }>(
      `select encode(key_hash, 'hex') as hash, row_to_json(k)::text as text from api_keys k where id = $1`,
      [res.body.id],
    );
    expect(row!.hash).toBe(await apiKeyHash(res.body.key));
    expect(row!.text).not.toContain(res.body.key.slice(4));
    const audit = await h.query<{ actor_id: number; target_id: string; details: any }>(
      `select actor_id, target_id, details from audit_events where action = 'api_key.create' and target_id = $1`,
      [String(res.body.id)],
    );
    expect(audit).toEqual([{ actor_id: owner.id, target_id: String(res.body.id), details: expect.objectContaining({ apiKeyId: res.body.id, name: 'Nightly export' }) }]);
  });

  it('403 for a permission the caller does not hold, and nothing is created', async () => {
    const owner = await holderOf(['stats:read']);
    const res = await h.call('POST', '/v1/me/api-keys', { token: owner.token, body: { name: 'x', permissions: ['stats:read', 'users:write'] } });
    expectProblem(res, 403);
    expect(await h.query(`select 1 from api_keys where user_id = $1`, [owner.id])).toEqual([]);
    expect(await h.query(`select 1 from audit_events where action = 'api_key.create' and actor_id = $1`, [owner.id])).toEqual([]);
  });

  it('422 for an expiry not in the future, an unknown or missing permission, a bad name, unknown fields', async () => {
    const owner = await holderOf(['stats:read']);
    const post = (body: unknown) => h.call('POST', '/v1/me/api-keys', { token: owner.token, body });
    expectInvalid(await post({ name: 'x', permissions: ['stats:read'], expiresAt: new Date(Date.now() - 1000).toISOString() }), 'expiresAt');
    expectInvalid(await post({ name: 'x', permissions: ['stats:read'], expiresAt: 'tomorrow' }), 'expiresAt');
    expectInvalid(await post({ name: 'x', permissions: ['stats:fly'] }), 'permissions.0');
    expectInvalid(await post({ name: 'x', permissions: [] }), 'permissions');
    expectInvalid(await post({ name: ' ', permissions: ['stats:read'] }), 'name');
    expectInvalid(await post({ name: 'x', permissions: ['stats:read'], key: 'dak_mine' }), 'key');
    expect(await h.query(`select 1 from api_keys where user_id = $1`, [owner.id])).toEqual([]);
  });
});

describe('GET and DELETE /v1/me/api-keys', () => {
  it('lists the caller’s keys newest first, never the key; revoking one takes it out and refuses it at once', async () => {
    const owner = await holderOf(['stats:read', 'users:read']);
    const other = await holderOf(['users:read']);
    const first = await createKey(owner.token, ['stats:read']);
    const second = await createKey(owner.token, ['users:read']);
    const foreign = await createKey(other.token, ['users:read']);
    const list = await h.call('GET', '/v1/me/api-keys', { token: owner.token });
    expect(list.status).toBe(200);
    expect(list.body.data.map((k: { id: number }) => k.id)).toEqual([second.id, first.id]);
    expect(list.text).not.toContain('"key"');
    expect(list.text).not.toContain(first.key);

    expect((await h.call('GET', '/v1/users', { token: second.key })).status).toBe(200);
    const revoked = await h.call('DELETE', `/v1/me/api-keys/${second.id}`, { token: owner.token });
    expect(revoked.status).toBe(204);
    expectProblem(await h.call('GET', '/v1/users', { token: second.key }), 401);
    // Idempotent for the caller's own key; another's, or nonsense, is a 404.
    expect((await h.call('DELETE', `/v1/me/api-keys/${second.id}`, { token: owner.token })).status).toBe(204);
    expectProblem(await h.call('DELETE', `/v1/me/api-keys/${foreign.id}`, { token: owner.token }), 404);
    expectProblem(await h.call('DELETE', `/v1/me/api-keys/abc`, { token: owner.token }), 404);
    expect((await h.call('GET', '/v1/users', { token: foreign.key })).status).toBe(200);
    expect((await h.call('GET', '/v1/me/api-keys', { token: owner.token })).body.data.map((k: { id: number }) => k.id)).toEqual([first.id]);
    const audit = await h.query(`select actor_id, details->>'apiKeyId' as key from audit_events where action = 'api_key.revoke' and actor_id = $1`, [owner.id]);
    expect(audit).toEqual([{ actor_id: owner.id, key: String(second.id) }]);
  });
});

describe('a request with a key', () => {
  it('authenticates on the routes of §5–§8 with what both the key and its owner hold', async () => {
    const owner = await holderOf(['stats:read', 'users:read', 'roles:read']);
    const { key } = await createKey(owner.token, ['users:read']);
    const users = await h.call('GET', '/v1/users', { token: key });
    expect(users.status).toBe(200);
    expect(users.statements).toBe(1);
    expect(users.guarded).toBe(1);
    expect((await h.call('GET', '/v1/permissions', { token: key })).status).toBe(200);
    // The owner holds roles:read and stats:read, the key does not.
    const roles = await h.call('GET', '/v1/roles', { token: key });
    expectProblem(roles, 403);
    expect(roles.body.detail).toContain('roles:read');
    expectProblem(await h.call('GET', '/v1/stats/overview', { token: key }), 403);
    // A key is never "own": reading its owner's id needs users:read like any other id.
    const statsKey = await createKey(owner.token, ['stats:read']);
    expectProblem(await h.call('GET', `/v1/users/${owner.id}`, { token: statsKey.key }), 403);
    expect((await h.call('GET', `/v1/users/${owner.id}`, { token: key })).status).toBe(200);
  });

  it('a mistyped key is a 401 without any database statement', async () => {
    const owner = await holderOf(['users:read']);
    const { key } = await createKey(owner.token, ['users:read']);
    for (const bad of [key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A'), key.slice(0, -1), `${key}0`, 'dak_', 'dak_' + 'x'.repeat(49)]) {
      const res = await h.call('GET', '/v1/users', { token: bad });
      expectProblem(res, 401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(res.statements).toBe(0);
    }
    // Well-formed but unknown: one guarded statement.
    const unknown = await h.call('GET', '/v1/users', { token: (await newApiKey()).key });
    expectProblem(unknown, 401);
    expect(unknown.statements).toBe(1);
  });

  it('is refused (403) on /v1/me…, /v1/auth/…, and key management, and a dead key there is still a 401', async () => {
    const owner = await holderOf(PERMISSION_NAMES);
    const { key, id } = await createKey(owner.token, [...PERMISSION_NAMES]);
    const refused: [string, string, unknown?][] = [
      ['GET', '/v1/me'],
      ['PATCH', '/v1/me', { name: 'Key' }],
      ['GET', '/v1/me/sessions'],
      ['POST', '/v1/me/password', { currentPassword: owner.password, newPassword: 'another long password' }],
      ['GET', '/v1/me/api-keys'],
      ['POST', '/v1/me/api-keys', { name: 'child', permissions: ['users:read'] }],
      ['DELETE', `/v1/me/api-keys/${id}`],
      ['POST', '/v1/me/mfa/totp', { currentPassword: owner.password }],
      ['GET', `/v1/users/${owner.id}/api-keys`],
      ['DELETE', `/v1/users/${owner.id}/api-keys/${id}`],
      ['POST', '/v1/auth/logout-all'],
      ['POST', '/v1/auth/login', { email: owner.email, password: owner.password }],
      ['POST', '/v1/auth/refresh', { refreshToken: 'x' }],
      // Dashboards' edits (§15): reads stay open to a key.
      ['POST', '/v1/dashboards', { name: 'By a key', widgets: [] }],
      ['PUT', '/v1/dashboards/1', { name: 'By a key', widgets: [] }],
      ['DELETE', '/v1/dashboards/1'],
    ];
    for (const [method, path, body] of refused) {
      const res = await h.call(method, path, { token: key, body });
      expectProblem(res, 403);
      expect(res.statements, `${method} ${path}`).toBe(1);
      expect(res.guarded).toBe(1);
    }
    expect(await h.query(`select count(*)::int as n from api_keys where user_id = $1 and revoked_at is null`, [owner.id])).toEqual([{ n: 1 }]);
    expect(await h.query(`select count(*)::int as n from sessions where user_id = $1 and revoked_at is null`, [owner.id])).toEqual([{ n: 1 }]);
    expect((await h.call('GET', '/v1/dashboards', { token: key })).status).toBe(200);
    // A route that does not exist stays a 404, key or not.
    expectProblem(await h.call('GET', '/v1/me/nothing-here', { token: key }), 404);
    await h.query(`update api_keys set revoked_at = now() where id = $1`, [id]);
    for (const [method, path, body] of refused) expectProblem(await h.call(method, path, { token: key, body }), 401);
  });

  it('follows its owner: disabled → 401, re-enabled → works again, deleted → 401; a lost permission → 403', async () => {
    const admin = await userWithToken(h, ['admin']);
    const owner = await holderOf(['users:read', 'stats:read']);
    const { key } = await createKey(owner.token, ['users:read', 'stats:read']);
    expect((await h.call('GET', '/v1/users', { token: key })).status).toBe(200);

    expect((await h.call('PATCH', `/v1/users/${owner.id}`, { token: admin.token, body: { disabled: true } })).status).toBe(200);
    expectProblem(await h.call('GET', '/v1/users', { token: key }), 401);
    expect((await h.call('PATCH', `/v1/users/${owner.id}`, { token: admin.token, body: { disabled: false } })).status).toBe(200);
    expect((await h.call('GET', '/v1/users', { token: key })).status).toBe(200);

    // Role changes revoke sessions, not keys: the key keeps working with what the owner still holds.
    expect((await h.call('DELETE', `/v1/users/${owner.id}/roles/${owner.role}`, { token: admin.token })).status).toBe(204);
    expectProblem(await h.call('GET', '/v1/users', { token: key }), 403);
    expect((await h.call('PUT', `/v1/users/${owner.id}/roles/analyst`, { token: admin.token })).status).toBe(204);
    expect((await h.call('GET', '/v1/stats/overview', { token: key })).status).toBe(200);
    // A custom role losing the permission (no session revoked) is seen at once too.
    await h.query(`delete from users_roles where user_id = $1 and role_id = (select id from roles where name = 'analyst')`, [owner.id]);
    await h.query(`insert into users_roles (user_id, role_id) select $1, id from roles where name = $2`, [owner.id, owner.role]);
    expect((await h.call('GET', '/v1/users', { token: key })).status).toBe(200);
    expect((await h.call('PATCH', `/v1/roles/${owner.role}`, { token: admin.token, body: { permissions: ['stats:read'] } })).status).toBe(200);
    expectProblem(await h.call('GET', '/v1/users', { token: key }), 403);

    expect((await h.call('DELETE', `/v1/users/${owner.id}`, { token: admin.token })).status).toBe(204);
    expectProblem(await h.call('GET', '/v1/stats/overview', { token: key }), 401);
  });

  it('an expired key is a 401', async () => {
    const owner = await holderOf(['users:read']);
    const { key, id } = await createKey(owner.token, ['users:read'], { expiresAt: new Date(Date.now() + 60_000).toISOString() });
    expect((await h.call('GET', '/v1/users', { token: key })).status).toBe(200);
    await h.query(`update api_keys set expires_at = now() - interval '1 second' where id = $1`, [id]);
    expectProblem(await h.call('GET', '/v1/users', { token: key }), 401);
  });

  it('changes are audited with the owner as actor and details.apiKeyId', async () => {
    const owner = await holderOf(['users:read', 'users:write']);
    const { key, id } = await createKey(owner.token, ['users:write']);
    const target = await createUser(h);
    const res = await h.call('PATCH', `/v1/users/${target.id}`, { token: key, body: { name: 'Renamed by a script' } });
    expect(res.status, res.text).toBe(200);
    expect(res.statements).toBe(1);
    const audit = await h.query<{ actor_id: number; details: any }>(
      `select actor_id, details from audit_events where action = 'user.update' and target_id = $1`,
      [String(target.id)],
    );
    expect(audit).toEqual([{ actor_id: owner.id, details: { fields: ['name'], apiKeyId: id } }]);
  });

  it('cannot change its own owner’s password or email (403), nothing changes; another user’s it can', async () => {
    const owner = await holderOf(['users:write']);
    const { key } = await createKey(owner.token, ['users:write']);
    const before = await h.query(`select email, hashed_password from users where id = $1`, [owner.id]);
    const email = await h.call('PATCH', `/v1/users/${owner.id}`, { token: key, body: { email: uniqueEmail('stolen') } });
    expectProblem(email, 403);
    expect(email.body.type).toContain('use-self-service');
    expectProblem(await h.call('PATCH', `/v1/users/${owner.id}`, { token: key, body: { password: 'taken over by a script' } }), 403);
    expect(await h.query(`select email, hashed_password from users where id = $1`, [owner.id])).toEqual(before);
    expect((await h.call('PATCH', `/v1/users/${owner.id}`, { token: key, body: { name: 'Still me' } })).status).toBe(200);
    const target = await createUser(h);
    expect((await h.call('PATCH', `/v1/users/${target.id}`, { token: key, body: { email: uniqueEmail('moved') } })).status).toBe(200);
  });

  it('gives out nothing beyond the key: escalation rules judge the key’s permissions, and admin needs a full key', async () => {
    const admin = await userWithToken(h, ['admin']);
    const { key } = await createKey(admin.token, ['roles:write', 'users:read']);
    const target = await createUser(h);
    // The owner holds audit:read, the key does not: it cannot define a role carrying it.
    expectProblem(await h.call('POST', '/v1/roles', { token: key, body: { name: `k-${Date.now()}`, permissions: ['audit:read'] } }), 403);
    expect((await h.call('POST', '/v1/roles', { token: key, body: { name: `k-${Date.now()}`, permissions: ['users:read'] } })).status).toBe(201);
    // A key that is not a full key does not stand for admin.
    expectProblem(await h.call('PUT', `/v1/users/${target.id}/roles/admin`, { token: key }), 403);
    const full = await createKey(admin.token, [...PERMISSION_NAMES]);
    expect((await h.call('PUT', `/v1/users/${target.id}/roles/admin`, { token: full.key })).status).toBe(204);
  });

  it('keeps lastUsedAt to the minute, written at most once a minute', async () => {
    const owner = await holderOf(['users:read']);
    const { key, id } = await createKey(owner.token, ['users:read']);
    await Promise.all(Array.from({ length: 5 }, () => h.call('GET', '/v1/users', { token: key }).then((r) => expect(r.status).toBe(200))));
    const [used] = await h.query<{ minute: boolean; xmin: string }>(
      `select last_used_at = date_trunc('minute', last_used_at) and last_used_at > now() - interval '2 minutes' as minute, xmin::text from api_keys where id = $1`,
      [id],
    );
    expect(used!.minute).toBe(true);
    const listed = (await h.call('GET', '/v1/me/api-keys', { token: owner.token })).body.data[0];
    expect(listed.lastUsedAt).toMatch(/:00\.000Z$/);
    // Within the same minute the row is not written again (same xmin), unless the minute has just turned.
    await h.call('GET', '/v1/users', { token: key });
    const [again] = await h.query<{ xmin: string; same_minute: boolean }>(
      `select xmin::text, last_used_at = date_trunc('minute', now()) as same_minute from api_keys where id = $1`,
      [id],
    );
    if (again!.same_minute && listed.lastUsedAt === new Date(Math.floor(Date.now() / 60_000) * 60_000).toISOString()) {
      expect(again!.xmin).toBe(used!.xmin);
    }
    // An older stored minute is brought forward.
    await h.query(`update api_keys set last_used_at = date_trunc('minute', now()) - interval '5 minutes' where id = $1`, [id]);
    await h.call('GET', '/v1/users', { token: key });
    expect(await h.query(`select last_used_at = date_trunc('minute', now()) as now from api_keys where id = $1`, [id])).toEqual([{ now: true }]);
  });

  it('is rate limited per key (PostgreSQL fallback): 429 with Retry-After, other keys unaffected', async () => {
    const limited = h.with({ API_KEY_RATE_LIMIT_PER_MINUTE: '3' });
    const owner = await holderOf(['users:read']);
    const one = await createKey(owner.token, ['users:read']);
    const two = await createKey(owner.token, ['users:read']);
    // Stay clear of a minute boundary, so all calls land in one window.
    if (new Date().getSeconds() > 55) await new Promise((r) => setTimeout(r, 6000));
    for (let i = 0; i < 3; i++) expect((await limited.call('GET', '/v1/users', { token: one.key })).status).toBe(200);
    const res = await limited.call('GET', '/v1/users', { token: one.key });
    expectProblem(res, 429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(res.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(res.statements).toBe(1);
    expect((await limited.call('GET', '/v1/users', { token: two.key })).status).toBe(200);
    // Sessions are not counted by the key limit.
    expect((await limited.call('GET', '/v1/users', { token: owner.token })).status).toBe(200);
  });
});

describe('an administrator’s view (users:write)', () => {
  it('lists and revokes a user’s keys; others get 403, a key of someone else 404', async () => {
    const admin = await userWithToken(h, ['admin']);
    const reader = await holderOf(['users:read']);
    const owner = await holderOf(['users:read']);
    const { key, id } = await createKey(owner.token, ['users:read']);
    const list = await h.call('GET', `/v1/users/${owner.id}/api-keys`, { token: admin.token });
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual([expect.objectContaining({ id, permissions: ['users:read'], lastUsedAt: null })]);
    expect(list.text).not.toContain(key);
    expectProblem(await h.call('GET', `/v1/users/${owner.id}/api-keys`, { token: reader.token }), 403);
    expectProblem(await h.call('DELETE', `/v1/users/${owner.id}/api-keys/${id}`, { token: reader.token }), 403);
    expectProblem(await h.call('GET', `/v1/users/2147483647/api-keys`, { token: admin.token }), 404);
    expectProblem(await h.call('DELETE', `/v1/users/${reader.id}/api-keys/${id}`, { token: admin.token }), 404);
    expect((await h.call('GET', '/v1/users', { token: key })).status).toBe(200);

    expect((await h.call('DELETE', `/v1/users/${owner.id}/api-keys/${id}`, { token: admin.token })).status).toBe(204);
    expectProblem(await h.call('GET', '/v1/users', { token: key }), 401);
    expect((await h.call('GET', `/v1/users/${owner.id}/api-keys`, { token: admin.token })).body.data).toEqual([]);
    const audit = await h.query(`select actor_id, target_id, details->>'userId' as owner from audit_events where action = 'api_key.revoke' and target_id = $1`, [String(id)]);
    expect(audit).toEqual([{ actor_id: admin.id, target_id: String(id), owner: String(owner.id) }]);
  });

  it('revoking the keys of someone stronger is a 403 (§8 v3), and the key lives on', async () => {
    const manager = await holderOf(['users:read', 'users:write']);
    const strong = await holderOf(['users:read', 'audit:read']);
    const { key, id } = await createKey(strong.token, ['users:read']);
    expectProblem(await h.call('DELETE', `/v1/users/${strong.id}/api-keys/${id}`, { token: manager.token }), 403);
    expect((await h.call('GET', '/v1/users', { token: key })).status).toBe(200);
  });
});
