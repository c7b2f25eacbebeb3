/**
 * The database guards its own invariants (drizzle/0005_self_protection.sql), also against direct SQL: the built-in
 * roles cannot be deleted or renamed, and the audit trail is append-only except for the retention purge.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, userWithToken, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.drop());

/** The SQLSTATE a statement fails with, or 'ok'. */
async function outcome(sql: string, params: unknown[] = []): Promise<string> {
  try {
    await h.query(sql, params);
    return 'ok';
  } catch (error) {
    return String((error as { code?: string }).code);
  }
}

describe('built-in roles', () => {
  it.each(['admin', 'analyst', 'viewer'])('%s cannot be deleted or renamed by direct SQL', async (name) => {
    expect(await outcome('delete from roles where name = $1', [name])).toBe('P0A02');
    expect(await outcome(`update roles set name = name || '_x' where name = $1`, [name])).toBe('P0A02');
    expect(await h.query('select name from roles where name = $1', [name])).toHaveLength(1);
  });

  it('TRUNCATE of roles is refused', async () => {
    expect(await outcome('truncate roles cascade')).toBe('P0A02');
    expect((await h.query('select name from roles order by name')).map((r) => r.name)).toEqual(expect.arrayContaining(['admin', 'analyst', 'viewer']));
  });

  it('their descriptions stay editable, other roles can be renamed and deleted', async () => {
    expect(await outcome(`update roles set description = 'Reads the dashboards' where name = 'viewer'`)).toBe('ok');
    expect(await outcome(`insert into roles (name, description) values ('temp_role', '')`)).toBe('ok');
    expect(await outcome(`update roles set name = 'temp_role2' where name = 'temp_role'`)).toBe('ok');
    expect(await outcome(`delete from roles where name = 'temp_role2'`)).toBe('ok');
  });

  it('a statement that would delete one among others changes nothing at all', async () => {
    await h.query(`insert into roles (name, description) values ('doomed', '')`);
    expect(await outcome(`delete from roles where name in ('doomed', 'analyst')`)).toBe('P0A02');
    expect(await h.query(`select 1 from roles where name = 'doomed'`)).toHaveLength(1);
  });

  it('the API still answers 409 built-in-role', async () => {
    const admin = await userWithToken(h, ['admin']);
    const res = await h.call('DELETE', '/v1/roles/viewer', { token: admin.token });
    expect(res.status).toBe(409);
    expect(res.body.type).toMatch(/built-in-role$/);
  });
});

describe('the audit trail is append-only', () => {
  const insertOld = (days: number, n = 1) =>
    h.query(`insert into audit_events (action, target_type, at) select 'auth.logout', 'session', now() - make_interval(days => $1) from generate_series(1, $2)`, [days, n]);

  it('UPDATE, DELETE and TRUNCATE are refused', async () => {
    await insertOld(1);
    const before = await h.query('select * from audit_events order by id');
    expect(await outcome(`update audit_events set action = 'user.delete'`)).toBe('P0A03');
    expect(await outcome(`update audit_events set ip = '198.51.100.1'`)).toBe('P0A03');
    expect(await outcome('delete from audit_events')).toBe('P0A03');
    expect(await outcome('truncate audit_events')).toBe('P0A03');
    expect(await h.query('select * from audit_events order by id')).toEqual(before);
    expect(await outcome(`insert into audit_events (action, target_type) values ('auth.logout', 'session')`)).toBe('ok');
  });

  it('purge_audit_events deletes only rows older than the cut-off, oldest first, in bounded batches', async () => {
    await insertOld(400, 5);
    await insertOld(10, 2);
    const old = await h.query<{ n: number }>(`select count(*)::int as n from audit_events where at < now() - interval '365 days'`);
    expect(old[0]!.n).toBe(5);
    const [first] = await h.query<{ n: string }>(`select purge_audit_events(now() - interval '365 days', 3) as n`);
    expect(Number(first!.n)).toBe(3);
    const [second] = await h.query<{ n: string }>(`select purge_audit_events(now() - interval '365 days', 3) as n`);
    expect(Number(second!.n)).toBe(2);
    expect(await h.query(`select 1 from audit_events where at < now() - interval '365 days'`)).toHaveLength(0);
    expect((await h.query(`select 1 from audit_events where at < now() - interval '9 days'`)).length).toBe(2);
  });

  it('after the purge returns, the same transaction cannot delete anything else', async () => {
    await insertOld(2);
    const result = await outcome(`with p as (select purge_audit_events(now() - interval '1000 days')) select * from p`);
    expect(result).toBe('ok');
    // A multi-statement transaction through one query string: the purge, then a plain delete.
    expect(await outcome(`select purge_audit_events(now() - interval '1000 days'); delete from audit_events`)).toBe('P0A03');
  });

  it('keeps the last 30 days whoever calls it: a later cut-off is refused and deletes nothing (issue 20, item 12)', async () => {
    await insertOld(29, 2);
    await insertOld(31, 1);
    const before = await h.query<{ n: number }>(`select count(*)::int as n from audit_events`);
    expect(await outcome(`select purge_audit_events(now() - interval '29 days')`)).toBe('22023');
    expect(await outcome(`select purge_audit_events(now() + interval '1 day')`)).toBe('22023');
    expect(await h.query(`select count(*)::int as n from audit_events`)).toEqual(before);
    expect(await outcome(`select purge_audit_events(now() - interval '30 days')`)).toBe('ok');
    expect((await h.query(`select 1 from audit_events where at < now() - interval '28 days'`)).length).toBe(2);
  });

  it('refuses a missing cut-off or batch size', async () => {
    expect(await outcome('select purge_audit_events(null)')).toBe('22023');
    expect(await outcome('select purge_audit_events(now(), 0)')).toBe('22023');
  });
});
