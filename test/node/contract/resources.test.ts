/**
 * The HTTP contract, §1 resources: the User and Role shapes, emails, names, passwords, role names, built-ins.
 * The live stack and the checks every answer gets: ./fixtures.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  analyst, db, del, email, expectRole, expectStatus, expectUser, get, login, patch, post, PW, register, root, tag,
  viewer, useContractStack
} from './fixtures';

useContractStack();

describe('§1 resources', () => {
  it('User has exactly its fields, never a hash or token material', async () => {
    const res = await get(`/v1/users/${viewer.user.id}`, root.accessToken);
    expectStatus(res, 200);
    expectUser(res.body);
    expect(res.body).toMatchObject({ id: viewer.user.id, roles: ['viewer'], disabled: false });
    const stored = await db<{ hashed_password: string }>('select hashed_password from users where id = $1', [viewer.user.id]);
    for (const r of [res, await get('/v1/me', viewer.accessToken), await get('/v1/users?limit=100', root.accessToken)]) {
      expect(r.text).not.toContain(stored[0]!.hashed_password.split('$')[4]);
      expect(r.text).not.toMatch(/password|hash|refresh/i);
    }
  });

  it('Role has exactly its fields, userCount in lists and single reads', async () => {
    const list = await get('/v1/roles', root.accessToken);
    expectStatus(list, 200);
    list.body.data.forEach(expectRole);
    const one = await get('/v1/roles/viewer', root.accessToken);
    expectStatus(one, 200);
    expectRole(one.body);
    expect(one.body.userCount).toBe(list.body.data.find((r: any) => r.name === 'viewer').userCount);
  });

  it('emails are trimmed, compared case-insensitively, stored lower-case, unique', async () => {
    const local = `MiXeD.Case-${tag}`;
    const pair = await register('Mixed Case', `  ${local}@Example.COM  `);
    expect(pair.user.email).toBe(`${local.toLowerCase()}@example.com`);
    const rows = await db<{ email: string }>('select email from users where id = $1', [pair.user.id]);
    expect(rows[0]!.email).toBe(`${local.toLowerCase()}@example.com`);
    expectStatus(await post('/v1/auth/register', { name: 'Again', email: `${local.toUpperCase()}@EXAMPLE.com`, password: PW }), 409);
    expectStatus(await post('/v1/users', { name: 'Again', email: ` ${local}@example.com`, password: PW }, root.accessToken), 409);
    await login(`${local.toUpperCase()}@example.com `);
  });

  it('names: 1..100 characters after trimming (code points)', async () => {
    expect((await register(`  ${'n'.repeat(100)}  `)).user.name).toBe('n'.repeat(100));
    expect((await register('😀'.repeat(100))).user.name).toBe('😀'.repeat(100));
    expect((await register('  Trimmed  ')).user.name).toBe('Trimmed');
    for (const name of ['', '   ', 'n'.repeat(101), '😀'.repeat(101)]) {
      const res = await post('/v1/auth/register', { name, email: email('name'), password: PW });
      expectStatus(res, 422);
      expect(res.body.errors.map((e: any) => e.path)).toEqual(['name']);
    }
    expectStatus(await patch('/v1/me', { name: 'n'.repeat(101) }, viewer.accessToken), 422);
    expectStatus(await patch('/v1/me', { name: ' ' }, viewer.accessToken), 422);
  });

  it('passwords: 12..128 code points, never trimmed', async () => {
    await register('P12', email('pw'), 'p'.repeat(12));
    await register('P128', email('pw'), 'p'.repeat(128));
    const emoji = email('pw');
    await register('Emoji', emoji, '🔑'.repeat(12)); // 24 UTF-16 units, 12 code points
    await login(emoji, '🔑'.repeat(12));
    await register('Emoji128', email('pw'), '🔑'.repeat(128));
    for (const password of ['p'.repeat(11), 'p'.repeat(129), '🔑'.repeat(11), '🔑'.repeat(129), '']) {
      const res = await post('/v1/auth/register', { name: 'P', email: email('pw'), password });
      expectStatus(res, 422);
      expect(res.body.errors.map((e: any) => e.path)).toEqual(['password']);
    }
    const spaced = email('pw');
    await register('Spaces', spaced, '  spaced password  ');
    expectStatus(await post('/v1/auth/login', { email: spaced, password: 'spaced password' }), 401);
    await login(spaced, '  spaced password  ');
  });

  it('role names: ^[a-z][a-z0-9_-]{1,49}$, unique, immutable', async () => {
    for (const name of ['a', 'Ab', '1ab', '-ab', 'ab cd', 'ab.cd', 'é-role', `a${'b'.repeat(50)}`, '', 'ADMIN']) {
      const res = await post('/v1/roles', { name }, root.accessToken);
      expectStatus(res, 422);
      expect(res.body.errors.map((e: any) => e.path)).toContain('name');
    }
    for (const name of ['zz', 'a1', `a${'b'.repeat(49)}`, `x_${tag}`, `y-${tag}`]) {
      const res = await post('/v1/roles', { name }, root.accessToken);
      expectStatus(res, 201);
      expect(res.body.name).toBe(name);
    }
    expectStatus(await patch('/v1/roles/zz', { name: 'zy' }, root.accessToken), 422);
    expectStatus(await patch('/v1/roles/zz', { name: 'zz', description: 'd' }, root.accessToken), 422);
    expectStatus(await get('/v1/roles/zz', root.accessToken), 200);
    expectStatus(await del('/v1/roles/zz', root.accessToken), 204);
  });

  it('built-in roles admin, analyst, viewer are present after migration and cannot be deleted', async () => {
    const list = await get('/v1/roles', root.accessToken);
    const names = list.body.data.map((r: any) => r.name);
    for (const builtIn of ['admin', 'analyst', 'viewer']) {
      expect(names).toContain(builtIn);
      expectStatus(await del(`/v1/roles/${builtIn}`, root.accessToken), 409);
      expectStatus(await get(`/v1/roles/${builtIn}`, root.accessToken), 200);
    }
  });
});
