/**
 * The HTTP contract, §0 conventions: request ids, problem+json, status codes, hostile input, pagination.
 * The live stack and the checks every answer gets: ./fixtures.ts.
 */
import { describe, expect, it } from 'vitest';
import { query } from '../../../scripts/dev/live-stack';
import {
  analyst, b64url, base, call, db, email, expectMe, expectStatus, expectUser, get, ISO, login, mint, post, PW,
  register, type Res, ROOT, root, tag, viewer, useContractStack
} from './fixtures';

useContractStack();

describe('§0 conventions', () => {
  it('timestamps are ISO 8601 UTC with milliseconds; field names camelCase (checked on every answer)', async () => {
    const me = await get('/v1/me', root.accessToken);
    expectStatus(me, 200);
    expectMe(me.body);
    expect(me.body.createdAt).toMatch(ISO);
    expect(me.body.lastLoginAt).toMatch(ISO);
    expect(me.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('X-Request-Id is echoed when sane and generated otherwise, on successes and errors alike', async () => {
    const sane = 'trace-Abc_123=';
    for (const [method, path, token] of [
      ['GET', '/health', undefined],
      ['GET', '/v1/me', root.accessToken],
      ['GET', '/v1/me', undefined], // 401
      ['GET', '/v1/users', viewer.accessToken], // 403
      ['GET', '/v1/nowhere', undefined], // 404
      ['DELETE', '/health', undefined], // 405
    ] as const) {
      const echoed = await call(method, path, { token, headers: { 'X-Request-Id': sane } });
      expect(echoed.headers.get('x-request-id'), `${method} ${path}`).toBe(sane);
      const fresh = await call(method, path, { token });
      expect(fresh.headers.get('x-request-id'), `${method} ${path}`).toMatch(/^[A-Za-z0-9_=-]{8,}$/);
    }
    const a = await get('/health');
    const b = await get('/health');
    expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
    const max = 'a'.repeat(200);
    expect((await get('/health', undefined, { 'X-Request-Id': max })).headers.get('x-request-id')).toBe(max);
    for (const insane of ['has spaces', '<script>', 'a'.repeat(201), 'semi;colon', '"quoted"', 'a/b', "it's"]) {
      const res = await call('GET', '/health', { headers: { 'X-Request-Id': insane } });
      expect(res.headers.get('x-request-id'), insane).not.toBe(insane);
    }
    // On the error answers the middleware chain raises early, too.
    const bad = await call('POST', '/v1/auth/login', { raw: '{', headers: { 'content-type': 'application/json', 'X-Request-Id': sane } });
    expectStatus(bad, 400);
    expect(bad.headers.get('x-request-id')).toBe(sane);
    const query = await call('GET', '/v1/users?q=%E0%A4%A', { token: root.accessToken, headers: { 'X-Request-Id': sane } });
    expectStatus(query, 400);
    expect(query.headers.get('x-request-id')).toBe(sane);
    // Early refusals look like every other answer (no-store, nosniff).
    for (const early of [query, bad]) {
      expect(early.headers.get('cache-control')).toBe('no-store');
      expect(early.headers.get('x-content-type-options')).toBe('nosniff');
    }
    // Preflight and HEAD answers carry it too.
    const preflight = await fetch(`${base}/v1/users`, { method: 'OPTIONS', headers: { Origin: 'https://elsewhere.example', 'Access-Control-Request-Method': 'GET' } });
    expect(preflight.headers.get('x-request-id')).toBeTruthy();
    const head = await fetch(`${base}/health`, { method: 'HEAD', headers: { 'X-Request-Id': sane } });
    expect(head.headers.get('x-request-id')).toBe(sane);
  });

  it('400 for malformed JSON, in every flavour', async () => {
    for (const raw of ['{', '{"email":', "{'a':1}", '{"a":1,}', 'nope', '\u0000']) {
      const res = await call('POST', '/v1/auth/login', { raw, headers: { 'content-type': 'application/json' } });
      expectStatus(res, 400, 'malformed-json');
    }
    const empty = await call('POST', '/v1/auth/login', { raw: '', headers: { 'content-type': 'application/json' } });
    expectStatus(empty, 400);
    const authed = await call('PATCH', '/v1/me', { raw: '{"name":', token: viewer.accessToken, headers: { 'content-type': 'application/json' } });
    expectStatus(authed, 400, 'malformed-json');
  });

  it('400 for a query string that is not decodable', async () => {
    for (const q of ['q=%E0%A4%A', 'q=%', 'q=%zz', 'limit=%FF']) {
      expectStatus(await get(`/v1/users?${q}`, root.accessToken), 400);
    }
  });

  it('401 for a missing, malformed, invalid or expired token — and nothing but the Authorization header authenticates', async () => {
    expectStatus(await get('/v1/me'), 401, 'unauthorized');
    expectStatus(await get('/v1/me', undefined, { authorization: 'Bearer' }), 401);
    expectStatus(await get('/v1/me', undefined, { authorization: 'Basic cm9vdDpyb290' }), 401);
    expectStatus(await get('/v1/me', undefined, { authorization: `Token ${root.accessToken}` }), 401);
    expectStatus(await get('/v1/me', 'not.a.jwt'), 401);
    expectStatus(await get('/v1/me', root.refreshToken), 401);
    expectStatus(await get(`/v1/me?access_token=${root.accessToken}`), 401);
    expectStatus(await get(`/v1/me?token=${root.accessToken}`), 401);
    expectStatus(await get('/v1/me', undefined, { cookie: `token=${root.accessToken}; access_token=${root.accessToken}` }), 401);
    expectStatus(await get('/v1/me', undefined, { 'x-access-token': root.accessToken }), 401);
    const expired = await mint({ sub: String(root.user.id) }, { iat: Math.floor(Date.now() / 1000) - 1000, exp: Math.floor(Date.now() / 1000) - 120 });
    expectStatus(await get('/v1/me', expired), 401);
  });

  it('403 when authenticated but lacking the role', async () => {
    expectStatus(await get('/v1/users', viewer.accessToken), 403, 'forbidden');
    expectStatus(await get('/v1/audit', analyst.accessToken), 403);
  });

  it('404 for an unknown resource and for a route that does not exist', async () => {
    for (const path of ['/nope', '/v1', '/v1/', '/v1/nope', '/v2/users', '/v1/auth', '/v1/auth/nope', '/.well-known/nope', '/favicon.ico']) {
      expectStatus(await get(path), 404, 'not-found');
    }
    expectStatus(await get('/v1/users/999999', root.accessToken), 404);
    expectStatus(await get('/v1/roles/no-such-role', root.accessToken), 404);
    for (const path of ['/v1/users/1/nope', '/v1/me/nope', '/v1/roles/admin/users/1', '/v1/stats', '/v1/stats/nope', '/v1/audit/1']) {
      expectStatus(await get(path, root.accessToken), 404);
      expectStatus(await get(path), 404);
    }
  });

  it('a trailing slash is not another route: never a 405 that names the method used', async () => {
    for (const path of ['/health/', '/docs/', '/v1/me/', '/v1/users/', `/v1/users/${root.user.id}/`, '/v1/roles/']) {
      const res = await get(path, root.accessToken);
      if (res.status === 405) expect(res.headers.get('allow'), `GET ${path}`).not.toMatch(/\bGET\b/);
      expect([200, 404], `GET ${path}`).toContain(res.status);
    }
  });

  it('405 with Allow for a known path under another method', async () => {
    const cases: [string, string, string[], string?][] = [
      ['POST', '/health', ['GET']],
      ['DELETE', '/.well-known/jwks.json', ['GET']],
      ['PUT', '/openapi.json', ['GET']],
      ['POST', '/docs', ['GET']],
      ['GET', '/v1/auth/login', ['POST']],
      ['GET', '/v1/auth/register', ['POST']],
      ['DELETE', '/v1/auth/refresh', ['POST']],
      ['GET', '/v1/auth/logout', ['POST']],
      ['GET', '/v1/auth/logout-all', ['POST']],
      ['DELETE', '/v1/me', ['GET', 'PATCH'], root.accessToken],
      ['GET', '/v1/me/password', ['POST'], root.accessToken],
      ['POST', '/v1/me/sessions', ['GET'], root.accessToken],
      ['GET', '/v1/me/sessions/00000000-0000-4000-8000-000000000000', ['DELETE'], root.accessToken],
      ['PUT', '/v1/users', ['GET', 'POST'], root.accessToken],
      ['POST', `/v1/users/${root.user.id}`, ['GET', 'PATCH', 'DELETE'], root.accessToken],
      ['GET', `/v1/users/${root.user.id}/roles`, ['PUT'], root.accessToken],
      ['GET', `/v1/users/${root.user.id}/roles/admin`, ['PUT', 'DELETE'], root.accessToken],
      ['GET', `/v1/users/${root.user.id}/sessions`, ['DELETE'], root.accessToken],
      ['DELETE', '/v1/roles', ['GET', 'POST'], root.accessToken],
      ['POST', '/v1/roles/admin', ['GET', 'PATCH', 'DELETE'], root.accessToken],
      ['POST', '/v1/roles/admin/users', ['GET'], root.accessToken],
      ['POST', '/v1/stats/overview', ['GET'], root.accessToken],
      ['DELETE', '/v1/audit', ['GET'], root.accessToken],
    ];
    for (const [method, path, methods, token] of cases) {
      // Routing comes first: the same answer with or without a token.
      for (const t of new Set([token, undefined])) {
        const res = await call(method, path, { token: t });
        expectStatus(res, 405, 'method-not-allowed');
        const allow = (res.headers.get('allow') ?? '').split(',').map((m) => m.trim());
        for (const m of methods) expect(allow, `${method} ${path}: Allow`).toContain(m);
        expect(allow, `${method} ${path}: Allow`).not.toContain(method);
      }
    }
  });

  it('409 on conflicts (duplicate email, duplicate role name, last admin) — covered in §3, §5, §6', async () => {
    const res = await post('/v1/auth/register', { name: 'Dup', email: ROOT.email.toUpperCase(), password: PW });
    expectStatus(res, 409);
  });

  it('413 for a body over 64 KiB, with or without Content-Length', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(64 * 1024), email: email('big'), password: PW });
    expectStatus(await call('POST', '/v1/auth/register', { raw: big, headers: { 'content-type': 'application/json' } }), 413, 'body-too-large');
    expectStatus(await call('PATCH', '/v1/me', { raw: big, token: viewer.accessToken, headers: { 'content-type': 'application/json' } }), 413);
    // Streamed (chunked, no Content-Length): the answer must be the 413, not a reset connection, every time.
    for (const kib of [80, 300, 2048, 80, 300, 2048]) {
      const chunk = new TextEncoder().encode('x'.repeat(1024));
      let sent = 0;
      const stream = new ReadableStream({
        pull(controller) {
          if (sent++ < kib) controller.enqueue(chunk);
          else controller.close();
        },
      });
      const res = await fetch(`${base}/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: stream,
        duplex: 'half',
      } as RequestInit);
      expect(res.status, `${kib} KiB streamed`).toBe(413);
      expect(res.headers.get('content-type')).toMatch(/problem\+json/);
      expect(res.headers.get('x-request-id')).toBeTruthy();
      expect(((await res.json()) as { status: number }).status).toBe(413);
    }
    // A streamed body within the limit is read as usual.
    const small = new TextEncoder().encode(JSON.stringify({ email: ROOT.email, password: ROOT.password }));
    const streamed = await fetch(`${base}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream({ start: (c) => (c.enqueue(small), c.close()) }),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(200);
    await streamed.arrayBuffer();
    // Just under the limit is not refused for its size.
    const under = JSON.stringify({ email: 'x@example.com', password: 'p'.repeat(64 * 1024 - 60) });
    expect(under.length).toBeLessThanOrEqual(64 * 1024);
    expect((await call('POST', '/v1/auth/login', { raw: under, headers: { 'content-type': 'application/json' } })).status).not.toBe(413);
  });

  it('415 for a body that is not application/json', async () => {
    const body = JSON.stringify({ email: ROOT.email, password: ROOT.password });
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'text/json']) {
      expectStatus(await call('POST', '/v1/auth/login', { raw: body, headers: { 'content-type': type } }), 415, 'unsupported-media-type');
    }
    // A body with no Content-Type at all (a Blob without a type sends none).
    expectStatus(await call('POST', '/v1/auth/login', { raw: new Blob([body]) }), 415);
    expectStatus(await call('PATCH', '/v1/me', { raw: '{"name":"x"}', token: viewer.accessToken, headers: { 'content-type': 'text/plain' } }), 415);
    expectStatus(await call('POST', '/v1/users', { raw: '{}', token: root.accessToken, headers: { 'content-type': 'text/plain' } }), 415);
    // Also on routes that read no body: a body that is not JSON is refused, not ignored. An empty one is no body.
    const mail = email('bodyless');
    const pair = await register('Bodyless', mail);
    for (const [method, path, type] of [
      ['POST', '/v1/auth/logout-all', 'text/plain'],
      ['DELETE', `/v1/users/${pair.user.id}/sessions`, 'application/x-www-form-urlencoded'],
      ['PUT', `/v1/users/${pair.user.id}/roles/analyst`, 'text/plain'],
      ['DELETE', `/v1/users/${pair.user.id}`, 'text/xml'],
    ] as const) {
      const token = path.startsWith('/v1/auth') ? pair.accessToken : root.accessToken;
      expectStatus(await call(method, path, { raw: 'x=1', token, headers: { 'content-type': type } }), 415);
    }
    expect((await get(`/v1/users/${pair.user.id}`, root.accessToken)).body.roles).toEqual(['viewer']);
    expectStatus(await post('/v1/auth/refresh', { refreshToken: pair.refreshToken }), 200);
    expectStatus(await call('POST', '/v1/auth/logout-all', { raw: '', token: pair.accessToken, headers: { 'content-type': 'text/plain' } }), 204);
    // With a charset, and in capitals, it is JSON.
    expectStatus(await call('POST', '/v1/auth/login', { raw: body, headers: { 'content-type': 'application/json; charset=utf-8' } }), 200);
    expectStatus(await call('POST', '/v1/auth/login', { raw: body, headers: { 'content-type': 'Application/JSON' } }), 200);
  });

  it('422 for well-formed input that fails validation, with errors[] naming the fields', async () => {
    const res = await post('/v1/auth/register', { name: '', email: 'not-an-email', password: 'short' });
    expectStatus(res, 422, 'validation-error');
    expect(res.body.errors.map((e: any) => e.path).sort()).toEqual(['email', 'name', 'password']);
    for (const body of [[], null, 'text', 42, true, { name: 1, email: 2, password: 3 }]) {
      expectStatus(await post('/v1/auth/register', body), 422);
    }
    // Unknown fields are refused, naming the field (README decision).
    const extra = await post('/v1/auth/register', { name: 'A', email: email('x'), password: PW, isAdmin: true });
    expectStatus(extra, 422);
    expect(extra.body.errors).toContainEqual({ path: 'isAdmin', message: expect.any(String) });
    const proto = await call('POST', '/v1/auth/register', { raw: `{"name":"A","email":"${email('p')}","password":"${PW}","__proto__":{"roles":["admin"]}}`, headers: { 'content-type': 'application/json' } });
    expect([201, 422]).toContain(proto.status);
    if (proto.status === 201) expect(proto.body.user.roles).toEqual(['viewer']);
  });

  /** Sends each case; answers the ones that got a 5xx. */
  async function serverErrors(cases: [string, string, unknown, string?][]) {
    const failures: string[] = [];
    for (const [method, path, json, token] of cases) {
      const res = await call(method, path, { json, token });
      if (res.status >= 500) failures.push(`${method} ${path} ${JSON.stringify(json) ?? ''} → ${res.status}`);
    }
    return failures;
  }
  const NUL = 'a\u0000b';

  it('hostile text (NUL, lone surrogates, SQL) is a 4xx, never a 500: auth, me, audit', async () => {
    expect(
      await serverErrors([
        ['POST', '/v1/auth/register', { name: NUL, email: email('nul'), password: PW }],
        ['POST', '/v1/auth/register', { name: 'N', email: `a\u0000${email('nul')}`, password: PW }],
        ['POST', '/v1/auth/register', { name: '\ud800', email: email('nul'), password: PW }],
        ['POST', '/v1/auth/login', { email: `${ROOT.email}\u0000`, password: PW }],
        ['POST', '/v1/auth/login', { email: "x'--@example.com", password: "' or '1'='1" }],
        ['POST', '/v1/auth/refresh', { refreshToken: NUL }],
        ['POST', '/v1/auth/logout', { refreshToken: NUL }],
        ['PATCH', '/v1/me', { name: NUL }, viewer.accessToken],
        ['POST', '/v1/me/password', { currentPassword: NUL, newPassword: PW }, viewer.accessToken],
        ['DELETE', '/v1/me/sessions/%00', undefined, viewer.accessToken],
        ['GET', '/v1/audit?action=%00', undefined, root.accessToken],
        ['GET', '/v1/audit?action=auth.login%00', undefined, root.accessToken],
        ['GET', '/v1/stats/overview?days=1%00', undefined, root.accessToken],
        ['GET', '/v1/users?q=%ED%A0%80', undefined, root.accessToken],
      ]),
    ).toEqual([]);
    // Where text is stored, a NUL is a 422 naming the field (PostgreSQL text cannot hold U+0000).
    for (const [method, path, json, token] of [
      ['POST', '/v1/auth/register', { name: NUL, email: email('nul'), password: PW }, undefined],
      ['PATCH', '/v1/me', { name: NUL }, viewer.accessToken],
    ] as const) {
      const res = await call(method, path, { json, token });
      expectStatus(res, 422);
      expect(res.body.errors.map((e: any) => e.path)).toEqual(['name']);
    }
  });

  it('hostile text (NUL, lone surrogates, SQL) is a 4xx, never a 500: users, roles', async () => {
    const target = (await post('/v1/users', { name: 'Target', email: email('target'), password: PW }, root.accessToken)).body.id;
    expect(
      await serverErrors([
        ['POST', '/v1/users', { name: NUL, email: email('nul'), password: PW }, root.accessToken],
        ['PATCH', `/v1/users/${target}`, { name: NUL }, root.accessToken],
        ['PUT', `/v1/users/${target}/roles`, { roles: [NUL] }, root.accessToken],
        ['POST', '/v1/roles', { name: `nul-${tag}`, description: NUL }, root.accessToken],
        ['PATCH', '/v1/roles/viewer', { description: NUL }, root.accessToken],
        ['GET', '/v1/users?q=%00', undefined, root.accessToken],
        ['GET', '/v1/users?q=a%00b&sort=name', undefined, root.accessToken],
        ['GET', '/v1/users?role=%00', undefined, root.accessToken],
        ['GET', '/v1/users/%00', undefined, root.accessToken],
        ['GET', '/v1/roles/%00', undefined, root.accessToken],
        ['GET', `/v1/users?q=${encodeURIComponent("'; drop table users; --")}`, undefined, root.accessToken],
      ]),
    ).toEqual([]);
    expect(await db('select 1 from users where id = $1', [target])).toHaveLength(1);
  });

  it('429 with Retry-After when rate limited (the sign-in lockout, §3)', async () => {
    // Exercised in §3 below; here only the shape of the answer.
    const mail = email('lock0');
    for (let i = 0; i < 5; i++) expectStatus(await post('/v1/auth/login', { email: mail, password: `wrong password ${i}` }), 401);
    const res = await post('/v1/auth/login', { email: mail, password: 'whatever password' });
    expectStatus(res, 429, 'rate-limited');
    expect(res.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/);
  });

  it('lists use keyset pagination: {data, nextCursor}, limit 1..100 default 20, a bad cursor is a 400', async () => {
    // Enough users for more than one default page.
    await db(
      `insert into users (name, email, hashed_password) select 'Bulk ' || i, 'bulk-' || i || '-${tag}@contract.test', 'x' from generate_series(1, 25) i`,
    );
    const first = await get('/v1/users', root.accessToken);
    expectStatus(first, 200);
    expect(Object.keys(first.body).sort()).toEqual(['data', 'nextCursor']);
    expect(first.body.data).toHaveLength(20);
    expect(typeof first.body.nextCursor).toBe('string');
    first.body.data.forEach(expectUser);
    expect((await get('/v1/users?limit=1', root.accessToken)).body.data).toHaveLength(1);
    const all = await get('/v1/users?limit=100', root.accessToken);
    expectStatus(all, 200);
    expect(all.body.data.length).toBeGreaterThan(20);
    expect(all.body.data.length).toBeLessThanOrEqual(100);
    for (const limit of ['0', '101', '-1', '1.5', 'abc', '']) {
      expectStatus(await get(`/v1/users?limit=${encodeURIComponent(limit)}`, root.accessToken), 422);
    }
    // Walk the whole list with the cursor: every user once, then null.
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page: Res = await get(`/v1/users?limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, root.accessToken);
      expectStatus(page, 200);
      seen.push(...page.body.data.map((u: any) => u.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe(all.body.data.length);

    const next: string = first.body.nextCursor;
    const tampered = [
      'garbage',
      next.slice(0, -2) + (next.endsWith('AA') ? 'BB' : 'AA'),
      `${b64url(JSON.stringify({ kind: 'users', sort: '-createdAt', values: ['2000-01-01T00:00:00Z'], id: 1 }))}.${next.split('.')[1]}`,
      next + '.x',
      'a'.repeat(5000),
      '....',
      "' or 1=1 --",
    ];
    for (const bad of tampered) {
      expectStatus(await get(`/v1/users?cursor=${encodeURIComponent(bad)}`, root.accessToken), 400);
    }
    // Foreign: a cursor of another list, or of another sort order.
    const audit = await get('/v1/audit?limit=1', root.accessToken);
    expect(audit.body.nextCursor).toEqual(expect.any(String));
    expectStatus(await get(`/v1/users?cursor=${encodeURIComponent(audit.body.nextCursor)}`, root.accessToken), 400);
    expectStatus(await get(`/v1/audit?cursor=${encodeURIComponent(next)}`, root.accessToken), 400);
    expectStatus(await get(`/v1/users?sort=name&cursor=${encodeURIComponent(next)}`, root.accessToken), 400);
    expectStatus(await get(`/v1/roles/viewer/users?cursor=${encodeURIComponent(next)}`, root.accessToken), 400);
  });

  it('an empty cursor is refused as a client error, never a 500', async () => {
    const res = await get('/v1/users?cursor=', root.accessToken);
    expect([400, 422]).toContain(res.status);
  });
});
