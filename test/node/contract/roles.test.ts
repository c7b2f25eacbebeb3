/**
 * The HTTP contract, §6 roles: list, create, read, update, members, delete.
 * The live stack and the checks every answer gets: ./fixtures.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  analyst, db, del, email, expectRole, expectStatus, expectUser, get, patch, post, PW, root, tag, viewer,
  useContractStack
} from './fixtures';

useContractStack();

describe('§6 roles', () => {
  const name = `auditor-${tag}`;

  it('GET /v1/roles → {data: [Role]}, every role, ordered by name; admin and analyst only', async () => {
    const res = await get('/v1/roles', analyst.accessToken);
    expectStatus(res, 200);
    expect(Object.keys(res.body)).toEqual(['data']);
    const names = res.body.data.map((r: any) => r.name);
    expect(names).toEqual([...names].sort());
    const counts = await db<{ name: string; n: number }>(
      'select r.name, (select count(*)::int from users_roles ur where ur.role_id = r.id) as n from roles r',
    );
    expect(names.sort()).toEqual(counts.map((c) => c.name).sort());
    for (const r of res.body.data) expect(r.userCount).toBe(counts.find((c) => c.name === r.name)!.n);
    expectStatus(await get('/v1/roles', viewer.accessToken), 403);
    expectStatus(await get('/v1/roles'), 401);
  });

  it('POST /v1/roles → 201 Role (userCount 0); 409 on a taken name; admin only', async () => {
    const res = await post('/v1/roles', { name }, root.accessToken);
    expectStatus(res, 201);
    expectRole(res.body);
    expect(res.body).toMatchObject({ name, description: null, userCount: 0 });
    expectStatus(await post('/v1/roles', { name }, root.accessToken), 409);
    expectStatus(await post('/v1/roles', { name: 'admin' }, root.accessToken), 409);
    expectStatus(await post('/v1/roles', { name: `x-${tag}` }, analyst.accessToken), 403);
    expectStatus(await post('/v1/roles', { name: `x-${tag}` }, viewer.accessToken), 403);
    expectStatus(await post('/v1/roles', { name: `x-${tag}`, extra: 1 }, root.accessToken), 422);
    const withDescription = await post('/v1/roles', { name: `described-${tag}`, description: 'Reads things' }, root.accessToken);
    expectStatus(withDescription, 201);
    expect(withDescription.body.description).toBe('Reads things');
    const race = `race-${tag}`;
    const results = await Promise.all(Array.from({ length: 6 }, () => post('/v1/roles', { name: race }, root.accessToken)));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
  });

  it('GET /v1/roles/:role → 200 Role; PATCH {description} → 200 Role; name immutable', async () => {
    const one = await get(`/v1/roles/${name}`, analyst.accessToken);
    expectStatus(one, 200);
    expectRole(one.body);
    expectStatus(await get(`/v1/roles/${name}`, viewer.accessToken), 403);
    expectStatus(await get('/v1/roles/nosuch', root.accessToken), 404);
    expectStatus(await get('/v1/roles/Not%20A%20Name', root.accessToken), 404);
    const changed = await patch(`/v1/roles/${name}`, { description: 'Reads the audit trail' }, root.accessToken);
    expectStatus(changed, 200);
    expectRole(changed.body);
    expect(changed.body).toMatchObject({ name, description: 'Reads the audit trail', id: one.body.id, createdAt: one.body.createdAt });
    const cleared = await patch(`/v1/roles/${name}`, { description: null }, root.accessToken);
    expectStatus(cleared, 200);
    expect(cleared.body.description).toBeNull();
    expectStatus(await patch(`/v1/roles/${name}`, { name: 'renamed' }, root.accessToken), 422);
    expectStatus(await patch(`/v1/roles/${name}`, { description: 5 }, root.accessToken), 422);
    expectStatus(await patch(`/v1/roles/${name}`, { description: 'x' }, analyst.accessToken), 403);
    expectStatus(await patch('/v1/roles/nosuch', { description: 'x' }, root.accessToken), 404);
    // Built-ins' descriptions can change too (only deletion is refused).
    const viewerRole = await get('/v1/roles/viewer', root.accessToken);
    expectStatus(await patch('/v1/roles/viewer', { description: viewerRole.body.description }, root.accessToken), 200);
  });

  it('GET /v1/roles/:role/users → page of User holding the role', async () => {
    const holders = [];
    for (let i = 0; i < 3; i++) {
      const u = await post('/v1/users', { name: `Holder ${i}`, email: email('holder'), password: PW, roles: [name] }, root.accessToken);
      expectStatus(u, 201);
      holders.push(u.body.id);
    }
    expect((await get(`/v1/roles/${name}`, root.accessToken)).body.userCount).toBe(3);
    const p1 = await get(`/v1/roles/${name}/users?limit=2`, analyst.accessToken);
    expectStatus(p1, 200);
    expect(Object.keys(p1.body).sort()).toEqual(['data', 'nextCursor']);
    expect(p1.body.data).toHaveLength(2);
    p1.body.data.forEach(expectUser);
    for (const u of p1.body.data) expect(u.roles).toContain(name);
    const p2 = await get(`/v1/roles/${name}/users?limit=2&cursor=${encodeURIComponent(p1.body.nextCursor)}`, analyst.accessToken);
    expectStatus(p2, 200);
    expect(p2.body.data).toHaveLength(1);
    expect(p2.body.nextCursor).toBeNull();
    expect([...p1.body.data, ...p2.body.data].map((u: any) => u.id).sort()).toEqual(holders.sort());
    const all = await get(`/v1/roles/${name}/users`, root.accessToken);
    expect(all.body.data).toHaveLength(3);
    expect(all.body.nextCursor).toBeNull();
    expectStatus(await get(`/v1/roles/viewer/users?cursor=${encodeURIComponent(p1.body.nextCursor)}`, root.accessToken), 400);
    expectStatus(await get(`/v1/roles/${name}/users?cursor=tampered`, root.accessToken), 400);
    expectStatus(await get(`/v1/roles/${name}/users?limit=0`, root.accessToken), 422);
    expectStatus(await get('/v1/roles/nosuch/users', root.accessToken), 404);
    expectStatus(await get(`/v1/roles/${name}/users`, viewer.accessToken), 403);
  });

  it('DELETE /v1/roles/:role → 204, its assignments go with it; built-ins 409; admin only', async () => {
    const holder = (await get(`/v1/roles/${name}/users?limit=1`, root.accessToken)).body.data[0];
    expectStatus(await del(`/v1/roles/${name}`, analyst.accessToken), 403);
    const res = await del(`/v1/roles/${name}`, root.accessToken);
    expectStatus(res, 204);
    expect(res.text).toBe('');
    expectStatus(await get(`/v1/roles/${name}`, root.accessToken), 404);
    expectStatus(await del(`/v1/roles/${name}`, root.accessToken), 404);
    expect((await get(`/v1/users/${holder.id}`, root.accessToken)).body.roles).not.toContain(name);
    expect(await db(`select 1 from users_roles ur join roles r on r.id = ur.role_id where r.name = $1`, [name])).toHaveLength(0);
    for (const builtIn of ['admin', 'analyst', 'viewer']) expectStatus(await del(`/v1/roles/${builtIn}`, root.accessToken), 409);
    // The name can be created again, fresh.
    const again = await post('/v1/roles', { name }, root.accessToken);
    expectStatus(again, 201);
    expect(again.body.userCount).toBe(0);
  });
});
