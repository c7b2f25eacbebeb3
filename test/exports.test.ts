import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvCell, csvRow } from '../src/lib/csv';
import { expectInvalid, expectProblem } from './expect';
import { createHarness, createUser, userWithToken, type Harness } from './harness';

let h: Harness;
let admin: Awaited<ReturnType<typeof userWithToken>>;
let analyst: Awaited<ReturnType<typeof userWithToken>>;
let viewer: Awaited<ReturnType<typeof userWithToken>>;

const HOSTILE = ['=cmd|"/c calc"!A1', '+1+1', '-2', '@SUM(A1)', '\tTab', '\rCR', 'Comma, "quoted"', 'Line\nbreak', 'Ünïcødé 名前', "O'Brien", "x;=cmd|' /C calc'!A0", 'tab\t+1'];

beforeAll(async () => {
  h = await createHarness();
  admin = await userWithToken(h, ['admin']);
  analyst = await userWithToken(h, ['analyst']);
  viewer = await userWithToken(h, ['viewer']);
  await h.query(`insert into roles (name) values ('auditor')`);
  for (const [i, name] of HOSTILE.entries()) {
    await createUser(h, { name, roles: i % 2 ? ['viewer', 'auditor'] : ['viewer'], disabled: i % 3 === 0 });
  }
  // Enough users for several pages of 2,000 (the export's page size).
  await h.query(`
    with u as (
      insert into users (name, email, hashed_password, created_at, last_login_at)
      select 'Bulk ' || g, 'bulk' || g || '@example.com', 'x', now() - g * interval '1 minute', case when g % 2 = 0 then now() - g * interval '1 second' end
      from generate_series(1, 4500) g returning id
    ) insert into users_roles (user_id, role_id) select u.id, r.id from u, roles r where r.name = 'viewer'`);
});
afterAll(() => h.drop());

const csv = (text: string) => parse(text, { columns: true, relax_column_count: false }) as Record<string, string>[];

async function exportUsers(query = '', token = analyst.token) {
  const res = await h.call('GET', `/v1/users/export${query}`, { token });
  expect(res.status, res.text.slice(0, 300)).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
  return res;
}

/** Every page of the list route for the same filters. */
async function listAll(query: string) {
  const users: any[] = [];
  let cursor: string | null = null;
  do {
    const sep = query ? '&' : '?';
    const res = await h.call('GET', `/v1/users${query}${sep}limit=100&sort=createdAt${cursor ? `&cursor=${cursor}` : ''}`, { token: analyst.token });
    expect(res.status).toBe(200);
    users.push(...res.body.data);
    cursor = res.body.nextCursor;
  } while (cursor);
  return users.sort((a, b) => a.id - b.id);
}

/** The Worker ends its connections right after the answer; give it a moment, then insist. */
async function noConnectionLeft() {
  for (let i = 0; i < 100; i++) {
    const [row] = await h.query<{ n: number }>(
      `select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`,
    );
    if (row!.n === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the export kept its connection');
}

/** The value as stored: the `'` the export puts in front of a formula (at the start, or after `;`, a tab or a line break) removed. */
const undefuse = (v: string) => v.replace(/^'(?=[=+\-@\t\r])/, '').replace(/([;\t\r\n])'(?="*[=+\-@\t\r])/g, '$1');

/**
 * The cells a spreadsheet whose list separator is `;` (or a tab-separated import) would make of the export, at worst:
 * every `;`, tab and line break splits, quotes are not honoured. None may start a formula.
 */
function expectNoFormulaWhereverSplit(text: string) {
  const starts = text.split(/[;\t\r\n]/).filter((cell) => /^"*[=+\-@]/.test(cell));
  expect(starts).toEqual([]);
}

describe('csv cells', () => {
  it('quotes per RFC 4180 and defuses formulas inside the quotes', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('=1+2')).toBe("'=1+2");
    expect(csvCell('=HYPERLINK("x","y")')).toBe(`"'=HYPERLINK(""x"",""y"")"`);
    expect(csvCell('-5')).toBe("'-5");
    expect(csvCell('+5')).toBe("'+5");
    expect(csvCell('@x')).toBe("'@x");
    expect(csvCell('\tx')).toBe(`"'\tx"`);
    expect(csvCell('\rx')).toBe(`"'\rx"`);
    expect(csvCell('a=b')).toBe('a=b');
    expect(csvCell(null)).toBe('');
    expect(csvCell(false)).toBe('false');
    expect(csvRow(['a', 1, null])).toBe('a,1,\r\n');
  });

  it('quotes and defuses what a spreadsheet splitting on ; or tab would see as a formula', () => {
    expect(csvCell("x;=cmd|' /C calc'!A0")).toBe(`"x;'=cmd|' /C calc'!A0"`);
    expect(csvCell('a;b')).toBe('"a;b"');
    expect(csvCell('a\tb')).toBe('"a\tb"');
    expect(csvCell('a\t@SUM(A1)')).toBe(`"a\t'@SUM(A1)"`);
    expect(csvCell('a;"=1+2"')).toBe(`"a;'""=1+2"""`);
    expect(csvCell('a\n-2')).toBe(`"a\n'-2"`);
    expect(csvCell('=a;+b')).toBe(`"'=a;'+b"`);
    expect(csvCell('a;b=c')).toBe('"a;b=c"');
    expect(csvRow([5, "x;=cmd|' /C calc'!A0", 'admin;viewer'])).toBe(`5,"x;'=cmd|' /C calc'!A0","admin;viewer"\r\n`);
    expectNoFormulaWhereverSplit(csvRow([5, "x;=cmd|' /C calc'!A0", 'y\t=1', 'z\r\n@a']));
  });
});

describe('GET /v1/users/export', () => {
  it('streams every user, parsed back equal to the list route, header first, CRLF lines', async () => {
    const res = await exportUsers();
    expect(res.text.startsWith('id,name,email,roles,disabled,createdAt,lastLoginAt\r\n')).toBe(true);
    expect(res.headers.get('content-disposition')).toContain('users.csv');
    const rows = csv(res.text);
    const listed = await listAll('');
    expect(rows).toHaveLength(listed.length);
    expect(rows.length).toBeGreaterThan(4000);
    expect(rows.map((r) => Number(r.id))).toEqual(listed.map((u) => u.id));
    for (const [i, r] of rows.entries()) {
      const u = listed[i];
      expect({ ...r, name: undefuse(r.name!) }).toEqual({
        id: String(u.id),
        name: u.name,
        email: u.email,
        roles: u.roles.join(';'),
        disabled: String(u.disabled),
        createdAt: u.createdAt,
        lastLoginAt: u.lastLoginAt ?? '',
      });
    }
  });

  it('defuses every formula-like name exactly as §11 says', async () => {
    const rows = csv((await exportUsers()).text);
    const names = rows.map((r) => r.name);
    expect(names).toContain(`'=cmd|"/c calc"!A1`);
    expect(names).toContain("'+1+1");
    expect(names).toContain("'-2");
    expect(names).toContain("'@SUM(A1)");
    expect(names).toContain("'\tTab");
    expect(names).toContain("'\rCR");
    expect(names).toContain('Comma, "quoted"');
    expect(names).toContain('Line\nbreak');
    expect(names).toContain("O'Brien");
    expect(names).toContain("x;'=cmd|' /C calc'!A0");
    expect(names).toContain("tab\t'+1");
  });

  it('a spreadsheet that splits lines on ; or tab finds no formula in the export either', async () => {
    const res = await exportUsers();
    expect(res.text).toContain(`,"x;'=cmd|' /C calc'!A0",`);
    expectNoFormulaWhereverSplit(res.text);
  });

  it.each(['?q=bulk1', '?q=o', '?q=%C3%BC', '?role=auditor', '?disabled=true', '?role=viewer&disabled=false&q=bulk', '?role=nobody'])(
    'filters %s exactly like the list',
    async (query) => {
      const rows = csv((await exportUsers(query)).text);
      const listed = await listAll(query);
      expect(rows.map((r) => Number(r.id))).toEqual(listed.map((u) => u.id));
    },
  );

  it('a filter that matches nothing gives the header alone', async () => {
    const res = await exportUsers('?q=no-such-user-anywhere');
    expect(res.text).toBe('id,name,email,roles,disabled,createdAt,lastLoginAt\r\n');
  });

  it('401, 403 for a viewer, 422 for a bad filter', async () => {
    expectProblem(await h.call('GET', '/v1/users/export'), 401);
    expectProblem(await h.call('GET', '/v1/users/export', { token: viewer.token }), 403);
    expectInvalid(await h.call('GET', '/v1/users/export?disabled=maybe', { token: admin.token }), 'disabled');
    expectInvalid(await h.call('GET', `/v1/users/export?q=${'x'.repeat(101)}`, { token: admin.token }), 'q');
  });

  it('runs one statement per page of 2,000 rows and leaves no connection behind', async () => {
    const res = await exportUsers();
    expect(res.statements).toBe(1);
    await noConnectionLeft();
  });

  it('checks the caller on every page: a session revoked mid-export stops it at the next page', async () => {
    const { createExecutionContext, waitOnExecutionContext } = await import('cloudflare:test');
    const worker = (await import('../src/index')).default as { fetch(r: Request, e: unknown, c: ExecutionContext): Promise<Response> };
    const reader = await userWithToken(h, ['analyst']);
    const ctx = createExecutionContext();
    const response = await worker.fetch(new Request('http://api.test/v1/users/export', { headers: { authorization: `Bearer ${reader.token}` } }), h.env, ctx);
    expect(response.status).toBe(200);
    const body = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (text.split('\r\n').length < 3) text += decoder.decode((await body.read()).value);
    await h.query(`update sessions set revoked_at = now() where user_id = $1`, [reader.id]);
    let failure: unknown;
    try {
      for (let chunk = await body.read(); !chunk.done; chunk = await body.read()) text += decoder.decode(chunk.value);
    } catch (error) {
      failure = error;
    }
    await waitOnExecutionContext(ctx);
    expect(failure).toBeDefined();
    const [total] = await h.query<{ n: number }>(`select count(*)::int as n from users`);
    // At most the page already fetched when the session ended follows the first: never the whole table.
    expect(text.split('\r\n').length - 2).toBeLessThanOrEqual(4000);
    expect(total!.n).toBeGreaterThan(4000);
    await noConnectionLeft();
  });

  it('a client that stops reading releases the connection', async () => {
    const { createExecutionContext, waitOnExecutionContext } = await import('cloudflare:test');
    const worker = (await import('../src/index')).default as { fetch(r: Request, e: unknown, c: ExecutionContext): Promise<Response> };
    const ctx = createExecutionContext();
    const response = await worker.fetch(new Request('http://api.test/v1/users/export', { headers: { authorization: `Bearer ${analyst.token}` } }), h.env, ctx);
    const reader = response.body!.getReader();
    await reader.read();
    await reader.cancel();
    await waitOnExecutionContext(ctx);
    await noConnectionLeft();
  });
});

describe('GET /v1/audit/export', () => {
  beforeAll(async () => {
    await h.query(`
      insert into audit_events (at, actor_id, action, target_type, target_id, ip, details)
      select timestamptz '2026-01-01T00:00:00Z' + g * interval '1 hour', g % 7, case when g % 3 = 0 then 'auth.login' else 'user.update' end,
             'user', (g % 7)::text, case when g % 5 = 0 then null else '10.0.0.' || g % 250 end,
             case when g = 7 then '{"name": "=evil()", "note": "a,b"}'::jsonb else jsonb_build_object('n', g) end
      from generate_series(1, 4200) g`);
  });

  async function exportAudit(query = '') {
    const res = await h.call('GET', `/v1/audit/export${query}`, { token: admin.token });
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    return csv(res.text);
  }

  /** The audit list, every page, oldest first. */
  async function listAudit(query = '') {
    const events: any[] = [];
    let cursor: string | null = null;
    do {
      const sep = query ? '&' : '?';
      const res = await h.call('GET', `/v1/audit${query}${sep}limit=100${cursor ? `&cursor=${cursor}` : ''}`, { token: admin.token });
      events.push(...res.body.data);
      cursor = res.body.nextCursor;
    } while (cursor);
    return events.sort((a, b) => (a.at === b.at ? a.id - b.id : a.at < b.at ? -1 : 1));
  }

  it('every event, oldest first, parsed back equal to the audit list', async () => {
    const rows = await exportAudit();
    const listed = await listAudit();
    expect(rows).toHaveLength(listed.length);
    for (const [i, r] of rows.entries()) {
      const e = listed[i];
      expect({ ...r, details: JSON.parse(r.details!) }).toEqual({
        id: String(e.id),
        at: e.at,
        actorId: e.actorId === null ? '' : String(e.actorId),
        action: e.action,
        targetType: e.targetType,
        targetId: e.targetId ?? '',
        ip: e.ip ?? '',
        details: e.details,
      });
    }
  });

  it('from is inclusive, to exclusive, action filters', async () => {
    const rows = await exportAudit('?from=2026-01-02T00:00:00Z&to=2026-01-03T00:00:00%2B00:00&action=auth.login');
    // Hours 24..47 after 2026-01-01: g = 24..47, of which multiples of 3 are sign-ins: 24, 27, ..., 45.
    expect(rows.map((r) => r.at)).toEqual([24, 27, 30, 33, 36, 39, 42, 45].map((g) => new Date(Date.UTC(2026, 0, 1) + g * 3_600_000).toISOString()));
    const offsetForm = await exportAudit('?from=2026-01-02T01:00:00%2B01:00&to=2026-01-02T03:00:00Z');
    expect(offsetForm.map((r) => r.at)).toEqual([24, 25, 26].map((g) => new Date(Date.UTC(2026, 0, 1) + g * 3_600_000).toISOString()));
  });

  it('details stay JSON; formula-like text inside is quoted, not defused (the cell starts with {)', async () => {
    const rows = await exportAudit('?from=2026-01-01T07:00:00Z&to=2026-01-01T07:00:01Z');
    expect(rows).toHaveLength(1);
    expect(JSON.parse(rows[0]!.details!)).toEqual({ name: '=evil()', note: 'a,b' });
  });

  it('422 for instants without a zone or out of order, 403 for an analyst', async () => {
    for (const q of ['?from=2026-01-01', '?from=yesterday', '?to=2026-01-01T00:00:00', '?from=2026-02-30T00:00:00Z', '?action=nope']) {
      const res = await h.call('GET', `/v1/audit/export${q}`, { token: admin.token });
      expectProblem(res, 422);
    }
    expectInvalid(await h.call('GET', '/v1/audit/export?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', { token: admin.token }), 'to');
    expectProblem(await h.call('GET', '/v1/audit/export', { token: analyst.token }), 403);
    expectProblem(await h.call('GET', '/v1/audit/export'), 401);
  });
});
