import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/env';
import { encodeCursor } from '../src/lib/cursor';
import { expectInvalid, expectProblem } from './expect';
import { createHarness, createUser, signIn, uniqueEmail, userWithToken, type Harness } from './harness';

type Row = {
  id: number;
  actor_id: number | null;
  action: string;
  target_type: string;
  target_id: string | null;
  ip: string | null;
  request_id: string | null;
  details: Record<string, unknown>;
};

let h: Harness;
let admin: Awaited<ReturnType<typeof userWithToken>>;
let analyst: Awaited<ReturnType<typeof userWithToken>>;
let viewer: Awaited<ReturnType<typeof userWithToken>>;

beforeAll(async () => {
  h = await createHarness();
  admin = await userWithToken(h, ['admin']);
  analyst = await userWithToken(h, ['analyst']);
  viewer = await userWithToken(h, ['viewer']);
});
afterAll(() => h.drop());

const PASSWORD = 'a long enough password';

async function mark(): Promise<number> {
  const [row] = await h.query<{ id: number }>('select coalesce(max(id), 0)::int as id from audit_events');
  return row!.id;
}

/** The audit rows written since `since`, oldest first. */
async function rowsSince(since: number): Promise<Row[]> {
  return h.query<Row>(
    `select id::int, actor_id, action, target_type, target_id, ip, request_id, details from audit_events where id > $1 order by id`,
    [since],
  );
}

/** Runs `act` and returns the audit rows it wrote. */
async function audited<T>(act: () => Promise<T>): Promise<{ result: T; rows: Row[] }> {
  const since = await mark();
  const result = await act();
  return { result, rows: await rowsSince(since) };
}

let seq = 0;
const origin = () => {
  seq++;
  return { 'CF-Connecting-IP': `203.0.113.${seq % 250}`, 'X-Request-Id': `audit-test-${seq}` };
};

async function sessionOf(refreshToken: string): Promise<string> {
  const { sha256Hex } = await import('../src/lib/sql');
  const [row] = await h.query<{ session_id: string }>(
    `select session_id::text from refresh_tokens where token_hash = decode($1, 'hex')`,
    [await sha256Hex(refreshToken)],
  );
  return row!.session_id;
}

describe('every auth and me action writes exactly one audit row', () => {
  it('user.register: actor and target are the new user; ip and request id recorded', async () => {
    const headers = origin();
    const email = uniqueEmail('reg');
    const { result: res, rows } = await audited(() =>
      h.call('POST', '/v1/auth/register', { body: { name: 'Reg', email, password: PASSWORD }, headers, cf: {} }),
    );
    expect(res.status).toBe(201);
    expect(rows).toEqual([
      expect.objectContaining({
        action: 'user.register',
        actor_id: res.body.user.id,
        target_type: 'user',
        target_id: String(res.body.user.id),
        ip: headers['CF-Connecting-IP'],
        request_id: headers['X-Request-Id'],
      }),
    ]);
    expect(res.headers.get('x-request-id')).toBe(headers['X-Request-Id']);
    expect(JSON.stringify(rows[0]!.details)).not.toMatch(/password|hash|token/i);
  });

  it('ip is null without CF-Connecting-IP, and a generated request id is the one recorded', async () => {
    const { result: res, rows } = await audited(() =>
      h.call('POST', '/v1/auth/register', { body: { name: 'Reg', email: uniqueEmail('reg'), password: PASSWORD } }),
    );
    expect(res.status).toBe(201);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.ip).toBeNull();
    expect(rows[0]!.request_id).toBe(res.headers.get('x-request-id'));
  });

  it('a failed registration (409 taken email, 422 invalid input) writes nothing', async () => {
    const email = uniqueEmail('dup');
    expect((await h.call('POST', '/v1/auth/register', { body: { name: 'A', email, password: PASSWORD } })).status).toBe(201);
    for (const body of [
      { name: 'B', email, password: PASSWORD },
      { name: 'B', email: ` ${email.toUpperCase()} `, password: PASSWORD },
      { name: 'B', email: uniqueEmail('short'), password: 'short' },
      { name: '', email: uniqueEmail('noname'), password: PASSWORD },
      { name: 'B', email: 'not-an-email', password: PASSWORD },
    ]) {
      const { result: res, rows } = await audited(() => h.call('POST', '/v1/auth/register', { body }));
      expect([409, 422]).toContain(res.status);
      expect(rows).toEqual([]);
    }
  });

  it('auth.login: actor and target are the user; details name the session', async () => {
    const user = await createUser(h);
    const headers = origin();
    const { result: res, rows } = await audited(() =>
      h.call('POST', '/v1/auth/login', { body: { email: user.email, password: user.password }, headers, cf: {} }),
    );
    expect(res.status).toBe(200);
    const sid = await sessionOf(res.body.refreshToken);
    expect(rows).toEqual([
      expect.objectContaining({
        action: 'auth.login',
        actor_id: user.id,
        target_type: 'user',
        target_id: String(user.id),
        ip: headers['CF-Connecting-IP'],
        request_id: headers['X-Request-Id'],
        details: { sessionId: sid },
      }),
    ]);
  });

  it('auth.login_failed for a wrong password: no actor, the account as target, no email anywhere', async () => {
    const user = await createUser(h, { email: uniqueEmail('wrongpw') });
    const headers = origin();
    const { result: res, rows } = await audited(() =>
      h.call('POST', '/v1/auth/login', { body: { email: user.email, password: 'definitely not it' }, headers, cf: {} }),
    );
    expect(res.status).toBe(401);
    expect(rows).toEqual([
      expect.objectContaining({
        action: 'auth.login_failed',
        actor_id: null,
        target_type: 'user',
        target_id: String(user.id),
        ip: headers['CF-Connecting-IP'],
        request_id: headers['X-Request-Id'],
      }),
    ]);
    const text = JSON.stringify(rows[0]).toLowerCase();
    expect(text).not.toContain(user.email);
    expect(text).not.toContain(user.email.split('@')[0]!);
    expect(text).not.toContain('definitely not it');
  });

  it('auth.login_failed for an unknown email: no actor, no target id, and the email is not stored in clear', async () => {
    const email = uniqueEmail('ghost');
    const { result: res, rows } = await audited(() =>
      h.call('POST', '/v1/auth/login', { body: { email: `  ${email.toUpperCase()}`, password: 'whatever it is' }, headers: origin(), cf: {} }),
    );
    expect(res.status).toBe(401);
    expect(rows).toEqual([expect.objectContaining({ action: 'auth.login_failed', actor_id: null, target_type: 'user', target_id: null })]);
    const text = JSON.stringify(rows[0]).toLowerCase();
    expect(text).not.toContain(email);
    expect(text).not.toContain(email.split('@')[0]!);
    // Nowhere else either: the throttle keys on a hash.
    const [leak] = await h.query<{ n: number }>(
      `select count(*)::int as n from audit_events where details::text ilike $1 or target_id ilike $1`,
      [`%${email.split('@')[0]}%`],
    );
    expect(leak!.n).toBe(0);
  });

  it('auth.login_failed for a disabled account after the right password', async () => {
    const user = await createUser(h, { disabled: true });
    const { result: res, rows } = await audited(() => h.call('POST', '/v1/auth/login', { body: { email: user.email, password: user.password } }));
    expect(res.status).toBe(403);
    expect(rows).toEqual([
      expect.objectContaining({ action: 'auth.login_failed', actor_id: null, target_id: String(user.id), details: { reason: 'disabled' } }),
    ]);
  });

  it('a sign-in that fails validation (422) or is throttled (429) writes nothing', async () => {
    for (const body of [{ email: 'nope', password: 'x' }, { email: uniqueEmail(), password: '' }, { email: uniqueEmail() }]) {
      const { result: res, rows } = await audited(() => h.call('POST', '/v1/auth/login', { body }));
      expect(res.status).toBe(422);
      expect(rows).toEqual([]);
    }
    const user = await createUser(h);
    const locked = h.with({ LOGIN_MAX_FAILURES: '2' });
    for (let i = 0; i < 2; i++) {
      const { rows } = await audited(() => locked.call('POST', '/v1/auth/login', { body: { email: user.email, password: 'wrong password' } }));
      expect(rows).toHaveLength(1);
    }
    const { result: res, rows } = await audited(() =>
      locked.call('POST', '/v1/auth/login', { body: { email: user.email, password: user.password } }),
    );
    expect(res.status).toBe(429);
    expect(rows).toEqual([]);
  });

  it('auth.logout: actor is the user, target the session; a second logout writes nothing', async () => {
    const user = await createUser(h);
    const pair = await signIn(h, user);
    const sid = await sessionOf(pair.refreshToken);
    const headers = origin();
    const first = await audited(() => h.call('POST', '/v1/auth/logout', { body: { refreshToken: pair.refreshToken }, headers, cf: {} }));
    expect(first.result.status).toBe(204);
    expect(first.rows).toEqual([
      expect.objectContaining({
        action: 'auth.logout',
        actor_id: user.id,
        target_type: 'session',
        target_id: sid,
        ip: headers['CF-Connecting-IP'],
        request_id: headers['X-Request-Id'],
      }),
    ]);
    const again = await audited(() => h.call('POST', '/v1/auth/logout', { body: { refreshToken: pair.refreshToken } }));
    expect(again.result.status).toBe(204);
    expect(again.rows).toEqual([]);
    const unknown = await audited(() => h.call('POST', '/v1/auth/logout', { body: { refreshToken: 'no-such-token' } }));
    expect(unknown.result.status).toBe(204);
    expect(unknown.rows).toEqual([]);
  });

  it('auth.logout for logout-all: one row for the user, however many sessions end', async () => {
    const user = await createUser(h);
    const pair = await signIn(h, user);
    await signIn(h, user);
    const { result: res, rows } = await audited(() => h.call('POST', '/v1/auth/logout-all', { token: pair.accessToken }));
    expect(res.status).toBe(204);
    expect(rows).toEqual([
      expect.objectContaining({
        action: 'auth.logout',
        actor_id: user.id,
        target_type: 'user',
        target_id: String(user.id),
        details: { sessions: 2, all: true },
      }),
    ]);
  });

  it('auth.logout for DELETE /v1/me/sessions/:id; again or someone else’s writes nothing', async () => {
    const user = await createUser(h);
    const current = await signIn(h, user);
    const other = await signIn(h, user);
    const sid = await sessionOf(other.refreshToken);
    const first = await audited(() => h.call('DELETE', `/v1/me/sessions/${sid}`, { token: current.accessToken }));
    expect(first.result.status).toBe(204);
    expect(first.rows).toEqual([expect.objectContaining({ action: 'auth.logout', actor_id: user.id, target_type: 'session', target_id: sid })]);
    const again = await audited(() => h.call('DELETE', `/v1/me/sessions/${sid}`, { token: current.accessToken }));
    expect(again.result.status).toBe(204);
    expect(again.rows).toEqual([]);
    const mine = await sessionOf(current.refreshToken);
    const foreign = await audited(() => h.call('DELETE', `/v1/me/sessions/${mine}`, { token: viewer.token }));
    expect(foreign.result.status).toBe(404);
    expect(foreign.rows).toEqual([]);
  });

  it('a refresh writes nothing; auth.refresh_reuse once per reuse, actor the user, target the session', async () => {
    const user = await createUser(h);
    const pair = await signIn(h, user);
    const sid = await sessionOf(pair.refreshToken);
    const rotated = await audited(() => h.call('POST', '/v1/auth/refresh', { body: { refreshToken: pair.refreshToken } }));
    expect(rotated.result.status).toBe(200);
    expect(rotated.rows).toEqual([]);
    const headers = origin();
    const reuse = await audited(() => h.call('POST', '/v1/auth/refresh', { body: { refreshToken: pair.refreshToken }, headers, cf: {} }));
    expect(reuse.result.status).toBe(401);
    expect(reuse.rows).toEqual([
      expect.objectContaining({
        action: 'auth.refresh_reuse',
        actor_id: user.id,
        target_type: 'session',
        target_id: sid,
        ip: headers['CF-Connecting-IP'],
        request_id: headers['X-Request-Id'],
      }),
    ]);
    const unknown = await audited(() => h.call('POST', '/v1/auth/refresh', { body: { refreshToken: 'never-issued' } }));
    expect(unknown.result.status).toBe(401);
    expect(unknown.rows).toEqual([]);
  });

  it('user.password_change: actor and target the caller; wrong current password or invalid new one writes nothing', async () => {
    const user = await createUser(h);
    const { accessToken } = await signIn(h, user);
    const wrong = await audited(() =>
      h.call('POST', '/v1/me/password', { token: accessToken, body: { currentPassword: 'not the current one', newPassword: 'a brand new password' } }),
    );
    expect(wrong.result.status).toBe(401);
    expect(wrong.rows).toEqual([]);
    const invalid = await audited(() =>
      h.call('POST', '/v1/me/password', { token: accessToken, body: { currentPassword: user.password, newPassword: 'short' } }),
    );
    expect(invalid.result.status).toBe(422);
    expect(invalid.rows).toEqual([]);
    const headers = origin();
    const ok = await audited(() =>
      h.call('POST', '/v1/me/password', { token: accessToken, body: { currentPassword: user.password, newPassword: 'a brand new password' }, headers, cf: {} }),
    );
    expect(ok.result.status).toBe(204);
    expect(ok.rows).toEqual([
      expect.objectContaining({
        action: 'user.password_change',
        actor_id: user.id,
        target_type: 'user',
        target_id: String(user.id),
        ip: headers['CF-Connecting-IP'],
        request_id: headers['X-Request-Id'],
        details: {},
      }),
    ]);
    expect(JSON.stringify(ok.rows[0])).not.toContain('a brand new password');
  });

  it('user.update for PATCH /v1/me; an invalid name writes nothing', async () => {
    const user = await createUser(h);
    const { accessToken } = await signIn(h, user);
    const invalid = await audited(() => h.call('PATCH', '/v1/me', { token: accessToken, body: { name: '   ' } }));
    expect(invalid.result.status).toBe(422);
    expect(invalid.rows).toEqual([]);
    const extra = await audited(() => h.call('PATCH', '/v1/me', { token: accessToken, body: { name: 'X', email: 'x@example.com' } }));
    expect(extra.result.status).toBe(422);
    expect(extra.rows).toEqual([]);
    const headers = origin();
    const ok = await audited(() => h.call('PATCH', '/v1/me', { token: accessToken, body: { name: 'Renamed' }, headers, cf: {} }));
    expect(ok.result.status).toBe(200);
    expect(ok.rows).toEqual([
      expect.objectContaining({
        action: 'user.update',
        actor_id: user.id,
        target_type: 'user',
        target_id: String(user.id),
        ip: headers['CF-Connecting-IP'],
        request_id: headers['X-Request-Id'],
        details: { fields: ['name'] },
      }),
    ]);
  });

  it('reads write nothing (GET /v1/me, sessions, stats, the audit list itself)', async () => {
    const { rows } = await audited(async () => {
      expect((await h.call('GET', '/v1/me', { token: admin.token })).status).toBe(200);
      expect((await h.call('GET', '/v1/me/sessions', { token: admin.token })).status).toBe(200);
      expect((await h.call('GET', '/v1/stats/overview', { token: admin.token })).status).toBe(200);
      expect((await h.call('GET', '/v1/audit', { token: admin.token })).status).toBe(200);
    });
    expect(rows).toEqual([]);
  });
});

describe('GET /v1/audit: access and validation', () => {
  it('401 without a token, 403 for analyst and viewer, 200 for admin', async () => {
    expectProblem(await h.call('GET', '/v1/audit'), 401);
    for (const who of [analyst, viewer]) {
      const res = await h.call('GET', '/v1/audit', { token: who.token });
      expectProblem(res, 403);
      expect(res.statements).toBe(1);
    }
    const res = await h.call('GET', '/v1/audit', { token: admin.token });
    expect(res.status).toBe(200);
    expect(res.statements).toBe(1);
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['limit=abc', 'limit'],
    ['limit=2.5', 'limit'],
    ['limit=', 'limit'],
    ['actorId=0', 'actorId'],
    ['actorId=-3', 'actorId'],
    ['actorId=abc', 'actorId'],
    ['actorId=2147483648', 'actorId'],
    ['action=user.explode', 'action'],
    ['action=AUTH.LOGIN', 'action'],
    ['action=', 'action'],
  ])('?%s is a 422 naming %s', async (query, path) => {
    const res = await h.call('GET', `/v1/audit?${query}`, { token: admin.token });
    expectInvalid(res, path);
    expect(res.body.errors).toHaveLength(1);
  });

  it('a tampered, foreign or garbage cursor is a 400 problem', async () => {
    await h.query(`insert into audit_events (action, target_type) select 'auth.logout', 'session' from generate_series(1, 3)`);
    const page = await h.call('GET', '/v1/audit?limit=1', { token: admin.token });
    const cursor: string = page.body.nextCursor;
    expect(cursor).toEqual(expect.any(String));
    const [payload, mac] = cursor.split('.') as [string, string];
    const forged = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/')));
    expect(forged).toMatchObject({ kind: 'audit', sort: '-id', id: expect.any(Number) });
    forged.id += 1000;
    const forgedPayload = btoa(JSON.stringify(forged)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    const config = loadConfig(h.env);
    const otherKey = loadConfig({ ...h.env, CURSOR_SECRET: h.env.TEST_SECOND_CURSOR_SECRET });
    const bad = {
      garbage: 'garbage',
      'forged position': `${forgedPayload}.${mac}`,
      'altered tag': `${payload}.${mac.slice(0, -2)}${mac.endsWith('AA') ? 'BB' : 'AA'}`,
      'no tag': `${payload}.`,
      'payload only': payload,
      'three parts': `${payload}.${mac}.${mac}`,
      'another list': await encodeCursor(config, 'users', '-createdAt', ['2026-01-01T00:00:00.000Z'], 5),
      'another sort': await encodeCursor(config, 'audit', 'id', [], 5),
      'signed with another key': await encodeCursor(otherKey, 'audit', '-id', [], 5),
      'not an integer id': await encodeCursor(config, 'audit', '-id', [], 1.5),
      'not base64': '%%%.***',
      huge: 'a'.repeat(5000),
    };
    for (const [what, text] of Object.entries(bad)) {
      const res = await h.call('GET', `/v1/audit?cursor=${encodeURIComponent(text)}`, { token: admin.token });
      expect(res.status, what).toBe(400);
      expectProblem(res, 400);
      // The caller check only, before the 400 is answered.
      expect(res.statements, what).toBe(1);
    }
    // An empty cursor is not a cursor at all: a validation failure, like any other empty parameter.
    expectInvalid(await h.call('GET', '/v1/audit?cursor=', { token: admin.token }), 'cursor');
  });

  it('cursors have their own secret: rotating the signing key keeps them, rotating CURSOR_SECRET keeps tokens', async () => {
    await h.query(`insert into audit_events (action, target_type) select 'auth.logout', 'session' from generate_series(1, 3)`);
    const cursor: string = (await h.call('GET', '/v1/audit?limit=1', { token: admin.token })).body.nextCursor;
    const { d: _d, ...oldPublic } = JSON.parse(h.env.JWT_PRIVATE_KEY!);
    // New signing key, the old one still verifying: the cursor made before is still good.
    const newSigningKey = h.with({ JWT_PRIVATE_KEY: h.env.TEST_SECOND_KEY, JWT_PUBLIC_KEYS: JSON.stringify([oldPublic]) });
    const kept = await newSigningKey.call('GET', `/v1/audit?limit=1&cursor=${encodeURIComponent(cursor)}`, { token: admin.token });
    expect(kept.status).toBe(200);
    expect(kept.body.data).toHaveLength(1);
    // New cursor secret: the token still works, only the old cursor is refused.
    const newCursorSecret = h.with({ CURSOR_SECRET: h.env.TEST_SECOND_CURSOR_SECRET });
    expect((await newCursorSecret.call('GET', '/v1/audit?limit=1', { token: admin.token })).status).toBe(200);
    expectProblem(await newCursorSecret.call('GET', `/v1/audit?limit=1&cursor=${encodeURIComponent(cursor)}`, { token: admin.token }), 400);
  });

  it('CURSOR_SECRET is required and must be at least 32 random bytes', async () => {
    for (const secret of [undefined, '', 'short', 'x'.repeat(42)]) {
      const res = await h.with({ CURSOR_SECRET: secret }).call('GET', '/health');
      expect(res.status, String(secret)).toBe(500);
      expectProblem(res, 500);
    }
  });
});

describe('GET /v1/audit: pages', () => {
  type Event = { id: number; at: string; actorId: number | null; action: string; targetType: string; targetId: string | null; ip: string | null; details: Record<string, unknown> };

  async function walk(query: string, limit: number): Promise<Event[]> {
    const seen: Event[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 1000; pages++) {
      const sep = query ? '&' : '';
      const res = await h.call('GET', `/v1/audit?${query}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, {
        token: admin.token,
      });
      expect(res.status, res.text).toBe(200);
      expect(res.statements).toBe(1);
      expect(res.body.data.length).toBeLessThanOrEqual(limit);
      seen.push(...res.body.data);
      cursor = res.body.nextCursor;
      if (cursor === null) return seen;
      expect(res.body.data).toHaveLength(limit);
    }
    throw new Error('too many pages');
  }

  it('an event looks like the contract says', async () => {
    const user = await createUser(h);
    await h.call('POST', '/v1/auth/login', { body: { email: user.email, password: user.password }, headers: { 'CF-Connecting-IP': '198.51.100.7' }, cf: {} });
    const res = await h.call('GET', `/v1/audit?limit=1&actorId=${user.id}`, { token: admin.token });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['data', 'nextCursor']);
    expect(res.body.nextCursor).toBeNull();
    const [event] = res.body.data as Event[];
    expect(event).toEqual({
      id: expect.any(Number),
      at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      actorId: user.id,
      action: 'auth.login',
      targetType: 'user',
      targetId: String(user.id),
      ip: '198.51.100.7',
      details: { sessionId: expect.any(String) },
    });
    expect(Math.abs(Date.parse(event!.at) - Date.now())).toBeLessThan(60_000);
  });

  it('default limit is 20, newest first', async () => {
    await h.query(`insert into audit_events (action, target_type) select 'role.create', 'role' from generate_series(1, 25)`);
    const res = await h.call('GET', '/v1/audit', { token: admin.token });
    expect(res.body.data).toHaveLength(20);
    expect(res.body.nextCursor).toEqual(expect.any(String));
    const ids = (res.body.data as Event[]).map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    const [max] = await h.query<{ id: number }>('select max(id)::int as id from audit_events');
    expect(ids[0]).toBe(max!.id);
  });

  it('walking every page returns every event once, newest first, for several page sizes', async () => {
    const expected = (await h.query<{ id: number }>('select id::int from audit_events order by id desc')).map((r) => r.id);
    expect(expected.length).toBeGreaterThanOrEqual(25);
    for (const limit of [1, 7, 20, 100]) {
      const ids = (await walk('', limit)).map((e) => e.id);
      expect(ids).toEqual(expected);
    }
  });

  it('events written while walking do not shift the pages', async () => {
    const first = await h.call('GET', '/v1/audit?limit=5', { token: admin.token });
    await h.query(`insert into audit_events (action, target_type) select 'role.update', 'role' from generate_series(1, 3)`);
    const second = await h.call('GET', `/v1/audit?limit=5&cursor=${encodeURIComponent(first.body.nextCursor)}`, { token: admin.token });
    expect(second.body.data[0].id).toBeLessThan(first.body.data[4].id);
    const [next] = await h.query<{ id: number }>('select max(id)::int as id from audit_events where id < $1', [first.body.data[4].id]);
    expect(second.body.data[0].id).toBe(next!.id);
  });

  it('filters by actorId and by action, alone and together, across pages', async () => {
    const actor = await createUser(h);
    await h.query(
      `insert into audit_events (actor_id, action, target_type, target_id)
       select $1, case when i % 3 = 0 then 'role.assign' else 'user.update' end, 'user', i::text from generate_series(1, 26) i`,
      [actor.id],
    );
    const byActor = await walk(`actorId=${actor.id}`, 4);
    expect(byActor).toHaveLength(26);
    expect(byActor.every((e) => e.actorId === actor.id)).toBe(true);

    const byAction = await walk('action=role.assign', 3);
    const [n] = await h.query<{ n: number }>(`select count(*)::int as n from audit_events where action = 'role.assign'`);
    expect(byAction).toHaveLength(n!.n);
    expect(byAction.every((e) => e.action === 'role.assign')).toBe(true);

    const both = await walk(`actorId=${actor.id}&action=role.assign`, 2);
    expect(both.map((e) => e.targetId)).toEqual(['24', '21', '18', '15', '12', '9', '6', '3']);

    for (const list of [byActor, byAction, both]) {
      const ids = list.map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toEqual([...ids].sort((a, b) => b - a));
    }
  });

  it('filters that match nothing give an empty page', async () => {
    for (const query of ['actorId=2147483647', 'action=role.delete&actorId=1']) {
      const res = await h.call('GET', `/v1/audit?${query}`, { token: admin.token });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ data: [], nextCursor: null });
    }
  });

  it('a cursor stays valid when the filters change', async () => {
    const page = await h.call('GET', '/v1/audit?limit=2', { token: admin.token });
    const res = await h.call('GET', `/v1/audit?action=role.create&cursor=${encodeURIComponent(page.body.nextCursor)}`, { token: admin.token });
    expect(res.status).toBe(200);
    expect((res.body.data as Event[]).every((e) => e.action === 'role.create' && e.id < page.body.data[1].id)).toBe(true);
  });
});
