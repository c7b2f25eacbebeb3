import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, createUser, signIn, uniqueEmail, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.drop());

const PASSWORD = 'correct horse battery';

function expectProblem(res: { status: number; headers: Headers; body: any }, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(res.body).toMatchObject({ status, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
}

const register = (body: unknown, harness = h) => harness.call('POST', '/v1/auth/register', { body });

describe('POST /v1/auth/register', () => {
  it('creates a viewer, signs it in, and stores the email lower-case', async () => {
    const email = uniqueEmail('Reg').toUpperCase();
    const res = await register({ name: '  Ada Lovelace  ', email: `  ${email}  `, password: PASSWORD });
    expect(res.status).toBe(201);
    expect(res.statements).toBe(1);
    expect(res.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, accessToken: expect.any(String), refreshToken: expect.any(String) });
    expect(res.body.user).toEqual({
      id: expect.any(Number),
      name: 'Ada Lovelace',
      email: email.toLowerCase(),
      roles: ['viewer'],
      disabled: false,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      lastLoginAt: null,
      mfaEnabled: false,
      emailVerified: false,
      invited: false,
    });
    expect(res.text).not.toMatch(/hashed|scrypt|argon2/i);
    const rows = await h.query<{ email: string; hashed_password: string }>('select email, hashed_password from users where id = $1', [res.body.user.id]);
    expect(rows[0]!.email).toBe(email.toLowerCase());
    expect(rows[0]!.hashed_password).toMatch(/^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$/);
    expect(rows[0]!.hashed_password).not.toContain(PASSWORD);
    const tokens = await h.query<{ token_hash: Uint8Array }>(
      'select t.token_hash from refresh_tokens t join sessions s on s.id = t.session_id where s.user_id = $1',
      [res.body.user.id],
    );
    expect(tokens).toHaveLength(1);
    // Only a hash is stored, never the token itself.
    expect(JSON.stringify(tokens)).not.toContain(res.body.refreshToken);
  });

  it('answers 409 for an email taken in any letter case, and changes nothing', async () => {
    const email = uniqueEmail('dup');
    expect((await register({ name: 'A', email, password: PASSWORD })).status).toBe(201);
    const before = await h.query('select count(*)::int as n from users');
    const res = await register({ name: 'B', email: email.toUpperCase(), password: PASSWORD });
    expectProblem(res, 409);
    expect(await h.query('select count(*)::int as n from users')).toEqual(before);
  });

  it.each([
    ['empty name', { name: '', email: 'x@example.com', password: PASSWORD }, 'name'],
    ['blank name', { name: '   ', email: 'x@example.com', password: PASSWORD }, 'name'],
    ['101-character name', { name: 'a'.repeat(101), email: 'x@example.com', password: PASSWORD }, 'name'],
    ['101 emoji name', { name: '😀'.repeat(101), email: 'x@example.com', password: PASSWORD }, 'name'],
    ['bad email', { name: 'A', email: 'not-an-email', password: PASSWORD }, 'email'],
    ['11-character password', { name: 'A', email: 'x@example.com', password: 'a'.repeat(11) }, 'password'],
    ['11 emoji password', { name: 'A', email: 'x@example.com', password: '😀'.repeat(11) }, 'password'],
    ['129-character password', { name: 'A', email: 'x@example.com', password: 'a'.repeat(129) }, 'password'],
    ['129 emoji password', { name: 'A', email: 'x@example.com', password: '😀'.repeat(129) }, 'password'],
    ['missing password', { name: 'A', email: 'x@example.com' }, 'password'],
    ['number as name', { name: 42, email: 'x@example.com', password: PASSWORD }, 'name'],
    ['extra field', { name: 'A', email: 'x@example.com', password: PASSWORD, roles: ['admin'] }, 'roles'],
  ])('422 for %s, naming the field', async (_, body, path) => {
    const res = await register(body);
    expectProblem(res, 422);
    expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path, message: expect.any(String) })]));
    expect(await h.query(`select 1 from users where email = 'x@example.com'`)).toHaveLength(0);
  });

  it.each([
    ['100 characters', 'a'.repeat(100), 'b'.repeat(12)],
    ['100 emoji and a 12-emoji password', '😀'.repeat(100), '😀'.repeat(12)],
    ['a 128-emoji password', 'A', '😀'.repeat(128)],
    ['a password with spaces around it, kept as typed', 'A', '  padded password  '],
  ])('accepts the boundary: %s', async (_, name, password) => {
    const email = uniqueEmail('bound');
    const res = await register({ name, email, password });
    expect(res.status).toBe(201);
    expect((await h.call('POST', '/v1/auth/login', { body: { email, password } })).status).toBe(200);
    if (password.trim() !== password) {
      expect((await h.call('POST', '/v1/auth/login', { body: { email, password: password.trim() } })).status).toBe(401);
    }
  });

  it('403 when sign-up is disabled, whatever the body', async () => {
    const closed = h.with({ ALLOW_SIGNUP: 'false' });
    expectProblem(await register({ name: 'A', email: uniqueEmail(), password: PASSWORD }, closed), 403);
    expectProblem(await register({}, closed), 403);
  });

  it('400 for malformed JSON, 415 for a body that is not JSON, 413 for a huge one', async () => {
    expectProblem(await h.call('POST', '/v1/auth/register', { raw: '{"name": ', headers: { 'content-type': 'application/json' } }), 400);
    expectProblem(await h.call('POST', '/v1/auth/register', { raw: 'name=a', headers: { 'content-type': 'text/plain' } }), 415);
    expectProblem(await h.call('POST', '/v1/auth/register', { raw: '{"name":"a"}' }), 415);
    expectProblem(
      await h.call('POST', '/v1/auth/register', {
        raw: JSON.stringify({ name: 'a', email: 'big@example.com', password: 'x'.repeat(70_000) }),
        headers: { 'content-type': 'application/json' },
      }),
      413,
    );
  });

  it('422 for a JSON body that is not an object', async () => {
    for (const raw of ['[]', '"text"', 'null', '42']) {
      expectProblem(await h.call('POST', '/v1/auth/register', { raw, headers: { 'content-type': 'application/json' } }), 422);
    }
  });

  it('lets exactly one of many concurrent registrations with one email through', async () => {
    const email = uniqueEmail('race');
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => register({ name: `R${i}`, email: i % 2 ? email.toUpperCase() : email, password: PASSWORD })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(9);
    expect(await h.query('select id from users where email = $1', [email])).toHaveLength(1);
  });
});

describe('POST /v1/auth/login', () => {
  it('signs in, records lastLoginAt, costs two statements', async () => {
    const user = await createUser(h);
    const res = await h.call('POST', '/v1/auth/login', { body: { email: ` ${user.email.toUpperCase()} `, password: user.password } });
    expect(res.status).toBe(200);
    expect(res.statements).toBe(2);
    expect(res.body.user.id).toBe(user.id);
    expect(res.body.user.lastLoginAt).toEqual(expect.any(String));
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('answers the same 401 for an unknown email and for a wrong password', async () => {
    const user = await createUser(h);
    const wrong = await h.call('POST', '/v1/auth/login', { body: { email: user.email, password: 'wrong password!!' } });
    const unknown = await h.call('POST', '/v1/auth/login', { body: { email: uniqueEmail('ghost'), password: 'wrong password!!' } });
    expectProblem(wrong, 401);
    expectProblem(unknown, 401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.statements).toBe(unknown.statements);
    expect(wrong.headers.get('www-authenticate')).toBe(unknown.headers.get('www-authenticate'));
  });

  it('answers 403 for a disabled account only after a correct password', async () => {
    const user = await createUser(h, { disabled: true });
    expectProblem(await h.call('POST', '/v1/auth/login', { body: { email: user.email, password: 'not the password' } }), 401);
    expectProblem(await h.call('POST', '/v1/auth/login', { body: { email: user.email, password: user.password } }), 403);
    expect(await h.query('select 1 from sessions where user_id = $1', [user.id])).toHaveLength(0);
  });

  it('re-hashes the password when the parameters have changed', async () => {
    const user = await createUser(h);
    const stronger = h.with({ PASSWORD_HASH_PARAMS: 'N=2048,r=8,p=1' });
    expect((await stronger.call('POST', '/v1/auth/login', { body: { email: user.email, password: user.password } })).status).toBe(200);
    const [row] = await h.query<{ hashed_password: string }>('select hashed_password from users where id = $1', [user.id]);
    expect(row!.hashed_password.startsWith('$scrypt$N=2048,r=8,p=1$')).toBe(true);
    expect((await stronger.call('POST', '/v1/auth/login', { body: { email: user.email, password: user.password } })).status).toBe(200);
  });
});

describe('lockout', () => {
  const attempt = (email: string, password: string, harness = h) => harness.call('POST', '/v1/auth/login', { body: { email, password } });

  it('locks an email after 5 failures: 429 with Retry-After even for the right password', async () => {
    const user = await createUser(h);
    for (let i = 0; i < 5; i++) expect((await attempt(user.email, `wrong password ${i}`)).status).toBe(401);
    const locked = await attempt(user.email, user.password);
    expectProblem(locked, 429);
    const retry = Number(locked.headers.get('retry-after'));
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(15 * 60);
    expect(locked.statements).toBe(1);
  });

  it('treats an unknown email exactly like a known one', async () => {
    const ghost = uniqueEmail('ghost');
    for (let i = 0; i < 5; i++) expect((await attempt(ghost, 'wrong password!!')).status).toBe(401);
    const locked = await attempt(ghost, 'wrong password!!');
    expectProblem(locked, 429);
    expect(locked.headers.get('retry-after')).toMatch(/^\d+$/);
  });

  it('does not count successful sign-ins, and counts per email', async () => {
    const user = await createUser(h);
    const other = await createUser(h);
    for (let i = 0; i < 4; i++) expect((await attempt(user.email, 'wrong password!!')).status).toBe(401);
    expect((await attempt(user.email, user.password)).status).toBe(200);
    expect((await attempt(user.email, user.password)).status).toBe(200);
    for (let i = 0; i < 5; i++) await attempt(other.email, 'wrong password!!');
    expect((await attempt(user.email, user.password)).status).toBe(200);
  });

  it('lets no burst of concurrent guesses past the limit', async () => {
    const user = await createUser(h);
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => attempt(user.email, `guess number ${i}`)));
    expect(results.filter((r) => r.status === 401)).toHaveLength(5);
    expect(results.filter((r) => r.status === 429)).toHaveLength(7);
  });

  // The window is moved, not waited for: every recorded attempt is made older in the database, so neither test
  // depends on how fast the machine signs in (the default 15-minute window; 60 s of slack for a slow machine).
  const age = (seconds: number) =>
    h.query('update login_throttle set attempts = array(select a - make_interval(secs => $1) from unnest(attempts) a)', [seconds]);

  it('slides: the lock lifts when the failures leave the window', async () => {
    const user = await createUser(h);
    for (let i = 0; i < 5; i++) expect((await attempt(user.email, 'wrong password!!')).status).toBe(401);
    await age(14 * 60);
    const locked = await attempt(user.email, user.password);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    await age(61);
    expect((await attempt(user.email, user.password)).status).toBe(200);
  });

  it('does not extend the lock with attempts made while locked', async () => {
    const user = await createUser(h);
    for (let i = 0; i < 5; i++) expect((await attempt(user.email, 'wrong password!!')).status).toBe(401);
    await age(10 * 60);
    for (let i = 0; i < 5; i++) expect((await attempt(user.email, 'wrong password!!')).status).toBe(429);
    // The failures are now past the window; the refused attempts, had they counted, would be 5 minutes old.
    await age(5 * 60 + 1);
    expect((await attempt(user.email, user.password)).status).toBe(200);
  });
});

describe('POST /v1/auth/refresh', () => {
  const refresh = (refreshToken: string) => h.call('POST', '/v1/auth/refresh', { body: { refreshToken } });

  it('rotates: a new pair in one statement, and the old token stops working', async () => {
    const user = await createUser(h);
    const first = await signIn(h, user);
    const res = await refresh(first.refreshToken);
    expect(res.status).toBe(200);
    expect(res.statements).toBe(1);
    expect(res.body.refreshToken).not.toBe(first.refreshToken);
    expect(res.body.user.id).toBe(user.id);
    expect((await h.call('GET', '/v1/me', { token: res.body.accessToken })).status).toBe(200);
    expect((await refresh(res.body.refreshToken)).status).toBe(200);
  });

  it('treats reuse of a rotated token as theft: 401, the whole session revoked, audited', async () => {
    const user = await createUser(h);
    const first = await signIn(h, user);
    const second = await refresh(first.refreshToken);
    expect(second.status).toBe(200);
    expectProblem(await refresh(first.refreshToken), 401);
    // The thief's replay also kills the legitimate holder's newer token.
    expectProblem(await refresh(second.body.refreshToken), 401);
    const audit = await h.query<{ actor_id: number }>(`select actor_id from audit_events where action = 'auth.refresh_reuse' and actor_id = $1`, [user.id]);
    expect(audit).toHaveLength(1);
    const sessions = await h.query<{ revoked_at: string | null }>('select revoked_at from sessions where user_id = $1', [user.id]);
    expect(sessions.every((s) => s.revoked_at !== null)).toBe(true);
  });

  it('yields at most one new pair from ten concurrent refreshes of one token', async () => {
    const user = await createUser(h);
    const first = await signIn(h, user);
    const results = await Promise.all(Array.from({ length: 10 }, () => refresh(first.refreshToken)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 401)).toHaveLength(9);
    const tokens = await h.query('select 1 from refresh_tokens t join sessions s on s.id = t.session_id where s.user_id = $1', [user.id]);
    expect(tokens).toHaveLength(2);
  });

  it('401 for an unknown, empty-ish or expired token', async () => {
    expectProblem(await refresh('not-a-token'), 401);
    const user = await createUser(h);
    const pair = await signIn(h, user);
    await h.query(`update sessions set expires_at = now() - interval '1 second' where user_id = $1`, [user.id]);
    expectProblem(await refresh(pair.refreshToken), 401);
    expectProblem(await h.call('POST', '/v1/auth/refresh', { body: { refreshToken: '' } }), 422);
  });

  it('401 once the user is disabled', async () => {
    const user = await createUser(h);
    const pair = await signIn(h, user);
    await h.query('update users set disabled = true where id = $1', [user.id]);
    expectProblem(await refresh(pair.refreshToken), 401);
  });

  it('gives sessions an absolute lifetime from REFRESH_TOKEN_TTL', async () => {
    const user = await createUser(h);
    await signIn(h.with({ REFRESH_TOKEN_TTL: '3600' }), user);
    const [row] = await h.query<{ seconds: number }>(
      'select extract(epoch from expires_at - created_at)::int as seconds from sessions where user_id = $1',
      [user.id],
    );
    expect(row!.seconds).toBe(3600);
  });
});

describe('logout', () => {
  it('ends the session of the token; idempotent, also for unknown tokens', async () => {
    const user = await createUser(h);
    const pair = await signIn(h, user);
    for (let i = 0; i < 2; i++) {
      const res = await h.call('POST', '/v1/auth/logout', { body: { refreshToken: pair.refreshToken } });
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
    }
    expect((await h.call('POST', '/v1/auth/logout', { body: { refreshToken: 'never-issued' } })).status).toBe(204);
    expect((await h.call('POST', '/v1/auth/refresh', { body: { refreshToken: pair.refreshToken } })).status).toBe(401);
    const audit = await h.query(`select 1 from audit_events where action = 'auth.logout' and actor_id = $1`, [user.id]);
    expect(audit).toHaveLength(1);
  });

  it('logout-all ends every session of the caller and needs a token', async () => {
    const user = await createUser(h);
    const a = await signIn(h, user);
    const b = await signIn(h, user);
    expectProblem(await h.call('POST', '/v1/auth/logout-all'), 401);
    expect((await h.call('POST', '/v1/auth/logout-all', { token: a.accessToken })).status).toBe(204);
    for (const pair of [a, b]) {
      expect((await h.call('POST', '/v1/auth/refresh', { body: { refreshToken: pair.refreshToken } })).status).toBe(401);
    }
  });
});
