/**
 * Contract §13, sources and write keys: the routes' answers, what they store (hashes, never keys), their audit rows,
 * rotation and deletion in the database. The keys at work (grace, deletion) are checked in test/ingest.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectInvalid, expectProblem } from './expect';
import { createHarness, userWithToken, type Harness } from './harness';

let h: Harness;
let admin: { id: number; token: string };
let analyst: { token: string };
beforeAll(async () => {
  h = await createHarness();
  admin = await userWithToken(h, ['admin']);
  analyst = await userWithToken(h, ['analyst']);
});
afterAll(() => h.drop());

const create = (name: string) => h.call('POST', '/v1/sources', { token: admin.token, body: { name } });
const sha256 = async (text: string) =>
  [...new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)))].map((b) => b.toString(16).padStart(2, '0')).join('');

describe('POST /v1/sources', () => {
  it('201 with a write key shown once: prefixed, 256 random bits, stored only as its SHA-256', async () => {
    const res = await create('  Marketing site  ');
    expect(res.status, res.text).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(Number),
      name: 'Marketing site',
      writeKeyPrefix: res.body.writeKey.slice(0, 12),
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      lastEventAt: null,
      writeKey: expect.stringMatching(/^da_wk_[A-Za-z0-9_-]{43}$/),
    });
    const rows = await h.query<{ hash: string; prefix: string; expires_at: string | null }>(
      `select encode(key_hash, 'hex') as hash, prefix, expires_at from source_keys where source_id = $1`,
      [res.body.id],
    );
    expect(rows).toEqual([{ hash: await sha256(res.body.writeKey), prefix: res.body.writeKeyPrefix, expires_at: null }]);
    // Nowhere in the database is the key itself (the audit row names its prefix only).
    const leaked = await h.query(`select 1 from audit_events where details::text like '%' || $1 || '%'`, [res.body.writeKey]);
    expect(leaked).toEqual([]);
    const [audit] = await h.query<{ action: string; actor_id: number; details: any }>(
      `select action, actor_id, details from audit_events where target_type = 'source' and target_id = $1::text`,
      [res.body.id],
    );
    expect(audit).toEqual({ action: 'source.create', actor_id: admin.id, details: { name: 'Marketing site', writeKeyPrefix: res.body.writeKeyPrefix } });
  });

  it('every key differs', async () => {
    const keys = await Promise.all([1, 2, 3, 4].map(async (i) => (await create(`s${i}`)).body.writeKey));
    expect(new Set(keys).size).toBe(4);
  });

  it('422 for a blank, long or unknown field; nothing created', async () => {
    const before = await h.query(`select count(*)::int as n from sources`);
    expectInvalid(await create('   '), 'name');
    expectInvalid(await create('x'.repeat(101)), 'name');
    expectInvalid(await create('\u0000'), 'name');
    expectInvalid(await h.call('POST', '/v1/sources', { token: admin.token, body: { name: 'a', writeKey: 'x' } }), 'writeKey');
    expect(await h.query(`select count(*)::int as n from sources`)).toEqual(before);
  });

  it('100 code points are fine (astral characters count once)', async () => {
    expect((await create('😀'.repeat(100))).status).toBe(201);
  });

  it('403 for an analyst (events:read, not sources:write)', async () => {
    expectProblem(await h.call('POST', '/v1/sources', { token: analyst.token, body: { name: 'x' } }), 403);
  });
});

describe('GET /v1/sources', () => {
  it('live sources ordered by id, for events:read', async () => {
    const a = (await create('list-a')).body;
    const b = (await create('list-b')).body;
    await h.call('DELETE', `/v1/sources/${a.id}`, { token: admin.token });
    const res = await h.call('GET', '/v1/sources', { token: analyst.token });
    expect(res.status).toBe(200);
    const ids = res.body.data.map((s: { id: number }) => s.id);
    expect(ids).toEqual([...ids].sort((x: number, y: number) => x - y));
    expect(ids).not.toContain(a.id);
    const { writeKey: _, ...listed } = b;
    expect(res.body.data.find((s: { id: number }) => s.id === b.id)).toEqual(listed);
  });
});

describe('PATCH /v1/sources/:id', () => {
  it('renames (trimmed), keeps the key, audits the change', async () => {
    const s = (await create('before')).body;
    const res = await h.call('PATCH', `/v1/sources/${s.id}`, { token: admin.token, body: { name: ' after ' } });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ id: s.id, name: 'after', writeKeyPrefix: s.writeKeyPrefix });
    const audit = await h.query(`select details from audit_events where action = 'source.update' and target_id = $1::text`, [s.id]);
    expect(audit).toEqual([{ details: { name: 'after', previousName: 'before' } }]);
  });

  it('404 for an unknown, deleted or impossible id; 422 for a bad name', async () => {
    const s = (await create('gone')).body;
    await h.call('DELETE', `/v1/sources/${s.id}`, { token: admin.token });
    for (const id of [s.id, 999999, 'abc', '99999999999', '0']) {
      expectProblem(await h.call('PATCH', `/v1/sources/${id}`, { token: admin.token, body: { name: 'x' } }), 404);
    }
    expectInvalid(await h.call('PATCH', `/v1/sources/${s.id}`, { token: admin.token, body: { name: '' } }), 'name');
  });
});

describe('POST /v1/sources/:id/rotate', () => {
  const keys = (id: number) =>
    h.query<{ prefix: string; current: boolean; grace: number | null }>(
      `select prefix, expires_at is null as current, round(extract(epoch from expires_at - now()))::int as grace
       from source_keys where source_id = $1 order by id`,
      [id],
    );

  it('a new current key; the previous one keeps working for graceSeconds (default one day)', async () => {
    const s = (await create('rotating')).body;
    const res = await h.call('POST', `/v1/sources/${s.id}/rotate`, { token: admin.token });
    expect(res.status, res.text).toBe(200);
    expect(res.body.writeKey).not.toBe(s.writeKey);
    expect(res.body.writeKeyPrefix).toBe(res.body.writeKey.slice(0, 12));
    const rows = await keys(s.id);
    expect(rows).toEqual([
      { prefix: s.writeKeyPrefix, current: false, grace: expect.any(Number) },
      { prefix: res.body.writeKeyPrefix, current: true, grace: null },
    ]);
    expect(Math.abs(rows[0]!.grace! - 86400)).toBeLessThan(5);
  });

  it('rotating again ends the older key at once: at most two live keys', async () => {
    const s = (await create('twice')).body;
    await h.call('POST', `/v1/sources/${s.id}/rotate`, { token: admin.token, body: { graceSeconds: 600 } });
    const third = await h.call('POST', `/v1/sources/${s.id}/rotate`, { token: admin.token, body: { graceSeconds: 300 } });
    const rows = await keys(s.id);
    expect(rows.map((r) => r.current)).toEqual([false, true]);
    expect(rows[1]!.prefix).toBe(third.body.writeKeyPrefix);
    expect(Math.abs(rows[0]!.grace! - 300)).toBeLessThan(5);
    const [audit] = await h.query<{ details: any }>(
      `select details from audit_events where action = 'source.rotate' and target_id = $1::text order by id desc limit 1`,
      [s.id],
    );
    expect(audit!.details).toMatchObject({ graceSeconds: 300, writeKeyPrefix: third.body.writeKeyPrefix, endedKeyPrefixes: [expect.any(String)] });
  });

  it('concurrent rotations leave exactly one current key and at most one in its grace', async () => {
    const s = (await create('race')).body;
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => h.call('POST', `/v1/sources/${s.id}/rotate`, { token: admin.token, body: { graceSeconds: 60 } })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(6).fill(200));
    const rows = await keys(s.id);
    expect(rows.filter((r) => r.current)).toHaveLength(1);
    expect(rows.length).toBeLessThanOrEqual(2);
    expect(answers.map((a) => a.body.writeKeyPrefix)).toContain(rows.find((r) => r.current)!.prefix);
  });

  it('422 outside 0..604800 or not an integer; 404 for a deleted source', async () => {
    const s = (await create('bounds')).body;
    for (const graceSeconds of [-1, 604801, 1.5, '60']) {
      expectInvalid(await h.call('POST', `/v1/sources/${s.id}/rotate`, { token: admin.token, body: { graceSeconds } }), 'graceSeconds');
    }
    expect((await keys(s.id)).length).toBe(1);
    await h.call('DELETE', `/v1/sources/${s.id}`, { token: admin.token });
    expectProblem(await h.call('POST', `/v1/sources/${s.id}/rotate`, { token: admin.token, body: { graceSeconds: 0 } }), 404);
  });
});

describe('DELETE /v1/sources/:id', () => {
  it('204: the row is marked, its keys are gone, audited; a second delete is a 404', async () => {
    const s = (await create('doomed')).body;
    const res = await h.call('DELETE', `/v1/sources/${s.id}`, { token: admin.token });
    expect(res.status).toBe(204);
    expect(await h.query(`select deleted_at is not null as deleted from sources where id = $1`, [s.id])).toEqual([{ deleted: true }]);
    expect(await h.query(`select 1 from source_keys where source_id = $1`, [s.id])).toEqual([]);
    expect(await h.query(`select details from audit_events where action = 'source.delete' and target_id = $1::text`, [s.id])).toEqual([
      { details: { name: 'doomed' } },
    ]);
    expectProblem(await h.call('DELETE', `/v1/sources/${s.id}`, { token: admin.token }), 404);
  });
});
