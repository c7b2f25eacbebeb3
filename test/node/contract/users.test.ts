/**
 * The HTTP contract, §5 users: who may call, lists, create, read, update, delete, roles, sessions, the last admin.
 * The live stack and the checks every answer gets: ./fixtures.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  analyst, call, db, del, email, expectStatus, expectUser, get, login, patch, post, put, PW, type Res, ROOT, root,
  tag, viewer, signInRootAgain, useContractStack
} from './fixtures';

useContractStack();

describe('§5 users', () => {
  const people: any[] = [];
  const q = `qx${tag}`;

  beforeAll(async () => {
    for (const [name, roles, disabled] of [
      ['Ann', ['viewer'], false],
      ['Bea', ['analyst'], false],
      ['Cid', ['viewer', 'analyst'], true],
      ['Dee', [], false],
      ['Eve', ['viewer'], false],
    ] as const) {
      const res = await post('/v1/users', { name: `${name} ${q}`, email: `${name.toLowerCase()}-${q}@contract.test`, password: PW, roles, disabled }, root.accessToken);
      expectStatus(res, 201);
      people.push(res.body);
    }
  });

  it('who may call: admin everything; analyst reads; viewer only their own id; no token 401', async () => {
    const id = people[0].id;
    for (const t of [root.accessToken, analyst.accessToken]) {
      expectStatus(await get('/v1/users', t), 200);
      expectStatus(await get(`/v1/users/${id}`, t), 200);
    }
    expectStatus(await get('/v1/users', viewer.accessToken), 403);
    expectStatus(await get(`/v1/users/${id}`, viewer.accessToken), 403);
    const own = await get(`/v1/users/${viewer.user.id}`, viewer.accessToken);
    expectStatus(own, 200);
    expectUser(own.body);
    for (const [method, path, body] of [
      ['POST', '/v1/users', { name: 'N', email: email('n'), password: PW }],
      ['PATCH', `/v1/users/${id}`, { name: 'N' }],
      ['DELETE', `/v1/users/${id}`, undefined],
      ['PUT', `/v1/users/${id}/roles`, { roles: ['viewer'] }],
      ['PUT', `/v1/users/${id}/roles/analyst`, undefined],
      ['DELETE', `/v1/users/${id}/roles/viewer`, undefined],
      ['DELETE', `/v1/users/${id}/sessions`, undefined],
    ] as const) {
      expectStatus(await call(method, path, { json: body, token: analyst.accessToken }), 403);
      expectStatus(await call(method, path, { json: body, token: viewer.accessToken }), 403);
      expectStatus(await call(method, path, { json: body }), 401);
    }
    // A viewer may not change themselves through /v1/users either.
    expectStatus(await patch(`/v1/users/${viewer.user.id}`, { name: 'Me' }, viewer.accessToken), 403);
    expectStatus(await put(`/v1/users/${viewer.user.id}/roles/admin`, undefined, viewer.accessToken), 403);
    expect((await get(`/v1/users/${people[0].id}`, root.accessToken)).body).toEqual(people[0]);
  });

  it('GET /v1/users: q (name or email, case-insensitive substring), role, disabled', async () => {
    const byQ = await get(`/v1/users?q=${q.toUpperCase()}&limit=100`, root.accessToken);
    expectStatus(byQ, 200);
    expect(byQ.body.data.map((u: any) => u.id).sort()).toEqual(people.map((p) => p.id).sort());
    const byEmail = await get(`/v1/users?q=${encodeURIComponent(`EVE-${q}@`)}`, root.accessToken);
    expect(byEmail.body.data.map((u: any) => u.name)).toEqual([`Eve ${q}`]);
    const byName = await get(`/v1/users?q=${encodeURIComponent(`bea ${q}`)}`, root.accessToken);
    expect(byName.body.data.map((u: any) => u.name)).toEqual([`Bea ${q}`]);
    for (const literal of ['%', '_', '\\', "'"]) expectStatus(await get(`/v1/users?q=${encodeURIComponent(literal)}`, root.accessToken), 200);
    expect((await get(`/v1/users?q=${encodeURIComponent('%')}${q}`, root.accessToken)).body.data).toEqual([]);
    const analysts = await get(`/v1/users?q=${q}&role=analyst`, root.accessToken);
    expect(analysts.body.data.map((u: any) => u.name).sort()).toEqual([`Bea ${q}`, `Cid ${q}`]);
    const disabled = await get(`/v1/users?q=${q}&disabled=true`, root.accessToken);
    expect(disabled.body.data.map((u: any) => u.name)).toEqual([`Cid ${q}`]);
    const enabled = await get(`/v1/users?q=${q}&disabled=false`, root.accessToken);
    expect(enabled.body.data).toHaveLength(4);
    expect((await get(`/v1/users?q=${q}&role=nosuchrole`, root.accessToken)).body).toEqual({ data: [], nextCursor: null });
    expectStatus(await get(`/v1/users?q=${'q'.repeat(101)}`, root.accessToken), 422);
    expectStatus(await get('/v1/users?disabled=maybe', root.accessToken), 422);
  });

  it('GET /v1/users: sort is one of createdAt, -createdAt (default), name, -name, email, -email — and pages follow it', async () => {
    const names = people.map((p) => p.name);
    const emails = people.map((p) => p.email);
    const ids = people.map((p) => p.id);
    const expected: Record<string, unknown[]> = {
      'name': [...names].sort(),
      '-name': [...names].sort().reverse(),
      'email': [...emails].sort(),
      '-email': [...emails].sort().reverse(),
      'createdAt': ids,
      '-createdAt': [...ids].reverse(),
    };
    const pick = (sort: string, u: any) => (sort.includes('name') ? u.name : sort.includes('email') ? u.email : u.id);
    const dflt = await get(`/v1/users?q=${q}`, root.accessToken);
    expect(dflt.body.data.map((u: any) => u.id)).toEqual(expected['-createdAt']);
    for (const sort of Object.keys(expected)) {
      const got: unknown[] = [];
      let cursor: string | null = null;
      do {
        const page: Res = await get(`/v1/users?q=${q}&sort=${encodeURIComponent(sort)}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, root.accessToken);
        expectStatus(page, 200);
        expect(page.body.data.length).toBeLessThanOrEqual(2);
        got.push(...page.body.data.map((u: any) => pick(sort, u)));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(got, sort).toEqual(expected[sort]);
    }
    for (const sort of ['bogus', 'id', '+name', 'NAME', '--name']) expectStatus(await get(`/v1/users?sort=${encodeURIComponent(sort)}`, root.accessToken), 422);
  });

  it('POST /v1/users → 201 User; roles default to viewer; unknown role → 422 and nothing is written; taken email → 409', async () => {
    const mail = email('made');
    const res = await post('/v1/users', { name: ' Made ', email: ` ${mail.toUpperCase()} `, password: PW }, root.accessToken);
    expectStatus(res, 201);
    expectUser(res.body);
    expect(res.body).toMatchObject({ name: 'Made', email: mail, roles: ['viewer'], disabled: false, lastLoginAt: null });
    await login(mail);
    const two = await post('/v1/users', { name: 'Two', email: email('two'), password: PW, roles: ['analyst', 'admin'] }, root.accessToken);
    expectStatus(two, 201);
    expect([...two.body.roles].sort()).toEqual(['admin', 'analyst']);
    const none = await post('/v1/users', { name: 'None', email: email('none'), password: PW, roles: [] }, root.accessToken);
    expectStatus(none, 201);
    expect(none.body.roles).toEqual([]);

    const ghost = email('ghost');
    const unknown = await post('/v1/users', { name: 'Ghost', email: ghost, password: PW, roles: ['viewer', 'no-such-role'] }, root.accessToken);
    expectStatus(unknown, 422);
    expect(unknown.body.errors.map((e: any) => e.path)).toContain('roles');
    expect(await db('select 1 from users where email = $1', [ghost])).toHaveLength(0);
    expectStatus(await post('/v1/users', { name: 'Dup', email: mail.toUpperCase(), password: PW }, root.accessToken), 409);
    // v2 (§9): without a password the account is an invitation.
    const invited = await post('/v1/users', { name: 'Invited', email: email('invited') }, root.accessToken);
    expectStatus(invited, 201);
    expect(invited.body).toMatchObject({ invited: true, emailVerified: false });
    for (const body of [
      { name: 'X' },
      { name: 'X', email: email('x'), password: 'short' },
      { name: 'X', email: 'nope', password: PW },
      { name: 'X', email: email('x'), password: PW, disabled: 'yes' },
      { name: 'X', email: email('x'), password: PW, roles: 'admin' },
      { name: 'X', email: email('x'), password: PW, roles: ['BAD ROLE'] },
      { name: 'X', email: email('x'), password: PW, id: 1 },
    ]) {
      expectStatus(await post('/v1/users', body, root.accessToken), 422);
    }
  });

  it('GET /v1/users/:id → 200 User; unknown or impossible id → 404', async () => {
    const res = await get(`/v1/users/${people[1].id}`, analyst.accessToken);
    expectStatus(res, 200);
    expect(res.body).toEqual(people[1]);
    for (const id of ['0', '-1', 'abc', '1.5', '99999999', '99999999999999999999', '1e3', '%20']) {
      expectStatus(await get(`/v1/users/${id}`, root.accessToken), 404);
    }
  });

  it('PATCH /v1/users/:id → 200 User; taken email 409; password and disabling revoke refresh tokens', async () => {
    const mail = email('pat');
    const made = await post('/v1/users', { name: 'Pat', email: mail, password: PW }, root.accessToken);
    const id = made.body.id;
    const s1 = await login(mail);
    const renamed = await patch(`/v1/users/${id}`, { name: ' Patricia ', email: ` ${mail.replace('pat', 'patricia').toUpperCase()} ` }, root.accessToken);
    expectStatus(renamed, 200);
    expectUser(renamed.body);
    expect(renamed.body).toMatchObject({ id, name: 'Patricia', email: mail.replace('pat', 'patricia') });
    const newMail = renamed.body.email;
    // Renaming does not end sessions.
    const r1 = await post('/v1/auth/refresh', { refreshToken: s1.refreshToken });
    expectStatus(r1, 200);
    expectStatus(await patch(`/v1/users/${id}`, { email: ROOT.email.toUpperCase() }, root.accessToken), 409);
    expectStatus(await patch(`/v1/users/${id}`, { name: '' }, root.accessToken), 422);
    expectStatus(await patch(`/v1/users/${id}`, { roles: ['admin'] }, root.accessToken), 422);
    expectStatus(await patch('/v1/users/99999999', { name: 'Nobody' }, root.accessToken), 404);
    const unchanged = await patch(`/v1/users/${id}`, {}, root.accessToken);
    expect([200, 422]).toContain(unchanged.status);

    const pw = await patch(`/v1/users/${id}`, { password: 'set by the admin!' }, root.accessToken);
    expectStatus(pw, 200);
    expectStatus(await post('/v1/auth/refresh', { refreshToken: r1.body.refreshToken }), 401);
    expectStatus(await post('/v1/auth/login', { email: newMail, password: PW }), 401);
    const s2 = await login(newMail, 'set by the admin!');

    const off = await patch(`/v1/users/${id}`, { disabled: true }, root.accessToken);
    expectStatus(off, 200);
    expect(off.body.disabled).toBe(true);
    expectStatus(await post('/v1/auth/refresh', { refreshToken: s2.refreshToken }), 401);
    expectStatus(await post('/v1/auth/login', { email: newMail, password: 'set by the admin!' }), 403);
    const on = await patch(`/v1/users/${id}`, { disabled: false }, root.accessToken);
    expect(on.body.disabled).toBe(false);
    await login(newMail, 'set by the admin!');
  });

  it('DELETE /v1/users/:id → 204; then 404; the user’s refresh tokens stop working', async () => {
    const mail = email('bye');
    const made = await post('/v1/users', { name: 'Bye', email: mail, password: PW }, root.accessToken);
    const s = await login(mail);
    const res = await del(`/v1/users/${made.body.id}`, root.accessToken);
    expectStatus(res, 204);
    expect(res.text).toBe('');
    expectStatus(await get(`/v1/users/${made.body.id}`, root.accessToken), 404);
    expectStatus(await del(`/v1/users/${made.body.id}`, root.accessToken), 404);
    expectStatus(await post('/v1/auth/refresh', { refreshToken: s.refreshToken }), 401);
    expectStatus(await post('/v1/auth/login', { email: mail, password: PW }), 401);
    // The email is free again.
    expectStatus(await post('/v1/users', { name: 'Bye Again', email: mail, password: PW }, root.accessToken), 201);
  });

  it('PUT /v1/users/:id/roles → 200 User; replaces the set atomically; unknown role → 422 and nothing changes; revokes refresh tokens', async () => {
    const mail = email('roles');
    const made = await post('/v1/users', { name: 'Roles', email: mail, password: PW, roles: ['viewer'] }, root.accessToken);
    const id = made.body.id;
    const s = await login(mail);
    const res = await put(`/v1/users/${id}/roles`, { roles: ['analyst', 'viewer'] }, root.accessToken);
    expectStatus(res, 200);
    expectUser(res.body);
    expect([...res.body.roles].sort()).toEqual(['analyst', 'viewer']);
    expectStatus(await post('/v1/auth/refresh', { refreshToken: s.refreshToken }), 401);
    const bad = await put(`/v1/users/${id}/roles`, { roles: ['analyst', 'no-such-role'] }, root.accessToken);
    expectStatus(bad, 422);
    expect([...(await get(`/v1/users/${id}`, root.accessToken)).body.roles].sort()).toEqual(['analyst', 'viewer']);
    const only = await put(`/v1/users/${id}/roles`, { roles: ['analyst'] }, root.accessToken);
    expect(only.body.roles).toEqual(['analyst']);
    const empty = await put(`/v1/users/${id}/roles`, { roles: [] }, root.accessToken);
    expectStatus(empty, 200);
    expect(empty.body.roles).toEqual([]);
    expectStatus(await put(`/v1/users/${id}/roles`, {}, root.accessToken), 422);
    expectStatus(await put(`/v1/users/${id}/roles`, { roles: 'viewer' }, root.accessToken), 422);
    expectStatus(await put('/v1/users/99999999/roles', { roles: ['viewer'] }, root.accessToken), 404);
  });

  it('PUT and DELETE /v1/users/:id/roles/:role → 204, idempotent; revokes refresh tokens', async () => {
    const mail = email('one');
    const made = await post('/v1/users', { name: 'One', email: mail, password: PW }, root.accessToken);
    const id = made.body.id;
    const s = await login(mail);
    for (let i = 0; i < 2; i++) {
      const res = await put(`/v1/users/${id}/roles/analyst`, undefined, root.accessToken);
      expectStatus(res, 204);
      expect(res.text).toBe('');
    }
    expect([...(await get(`/v1/users/${id}`, root.accessToken)).body.roles].sort()).toEqual(['analyst', 'viewer']);
    expectStatus(await post('/v1/auth/refresh', { refreshToken: s.refreshToken }), 401);
    for (let i = 0; i < 2; i++) expectStatus(await del(`/v1/users/${id}/roles/viewer`, root.accessToken), 204);
    expect((await get(`/v1/users/${id}`, root.accessToken)).body.roles).toEqual(['analyst']);
    expectStatus(await put(`/v1/users/${id}/roles/no-such-role`, undefined, root.accessToken), 404);
    expectStatus(await put('/v1/users/99999999/roles/viewer', undefined, root.accessToken), 404);
  });

  it('DELETE /v1/users/:id/sessions → 204: every session of that user is revoked', async () => {
    const mail = email('kick');
    await post('/v1/users', { name: 'Kick', email: mail, password: PW }, root.accessToken);
    const a = await login(mail);
    const b = await login(mail);
    const res = await del(`/v1/users/${a.user.id}/sessions`, root.accessToken);
    expectStatus(res, 204);
    for (const p of [a, b]) expectStatus(await post('/v1/auth/refresh', { refreshToken: p.refreshToken }), 401);
    expectStatus(await del('/v1/users/99999999/sessions', root.accessToken), 404);
  });

  it('a change that would leave no enabled admin → 409, and nothing changes', async () => {
    const id = root.user.id;
    const admins = await get('/v1/users?role=admin&disabled=false&limit=100', root.accessToken);
    // Make root the only enabled admin for this test.
    for (const u of admins.body.data) if (u.id !== id) expectStatus(await del(`/v1/users/${u.id}/roles/admin`, root.accessToken), 204);
    const fresh = await login(ROOT.email, ROOT.password);
    const before = (await get(`/v1/users/${id}`, root.accessToken)).body;
    const auditBefore = (await db<{ n: string }>('select count(*) as n from audit_events'))[0]!.n;

    for (const [method, path, body] of [
      ['DELETE', `/v1/users/${id}`, undefined],
      ['PATCH', `/v1/users/${id}`, { disabled: true, name: 'Should Not Stick' }],
      ['DELETE', `/v1/users/${id}/roles/admin`, undefined],
      ['PUT', `/v1/users/${id}/roles`, { roles: ['viewer'] }],
      ['PUT', `/v1/users/${id}/roles`, { roles: [] }],
    ] as const) {
      expectStatus(await call(method, path, { json: body, token: root.accessToken }), 409);
    }
    expectStatus(await del('/v1/roles/admin', root.accessToken), 409);
    expect((await get(`/v1/users/${id}`, root.accessToken)).body).toEqual(before);
    expect((await db<{ n: string }>('select count(*) as n from audit_events'))[0]!.n).toBe(auditBefore);
    // Its sessions were not revoked either.
    const r = await post('/v1/auth/refresh', { refreshToken: fresh.refreshToken });
    expectStatus(r, 200);

    // Two admins removed at once: one wins, an admin remains. The other is refused by the last-admin guard (409),
    // or, when the winner took root's own admin role (which ends root's sessions), by the request-time check (401).
    const second = await post('/v1/users', { name: 'Second Admin', email: email('admin2'), password: PW, roles: ['admin'] }, root.accessToken);
    const results = await Promise.all([
      del(`/v1/users/${id}/roles/admin`, root.accessToken),
      del(`/v1/users/${second.body.id}/roles/admin`, root.accessToken),
    ]);
    const statuses = results.map((x) => x.status).sort();
    expect(statuses[0]).toBe(204);
    expect([401, 409]).toContain(statuses[1]);
    const left = await db<{ n: string }>(
      `select count(*) as n from users u join users_roles ur on ur.user_id = u.id join roles r on r.id = ur.role_id where r.name = 'admin' and not u.disabled`,
    );
    expect(Number(left[0]!.n)).toBe(1);
    // Put things back: both admins (straight in the database: root may have lost admin), and sign root in again.
    await db(`insert into users_roles (user_id, role_id) select u, (select id from roles where name = 'admin') from unnest($1::int[]) u on conflict do nothing`, [[id, second.body.id]]);
    await signInRootAgain();
    // With a second enabled admin, root's own change is allowed: disable the second one instead and back.
    expectStatus(await patch(`/v1/users/${second.body.id}`, { disabled: true }, root.accessToken), 200);
    expectStatus(await patch(`/v1/users/${id}`, { disabled: true }, root.accessToken), 409);
    await signInRootAgain();
  });
});
