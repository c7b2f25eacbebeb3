/**
 * Contract §15: dashboards, their visibility (owner, shares by role, admin; 404 to anyone else, lists included),
 * edits (owner with dashboards:write + events:read, or admin), ETag / If-Match, widgets, audit rows, and an owner's
 * deletion leaving `ownerId: null`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectWithinBudget } from './budgets';
import { expectInvalid, expectProblem } from './expect';
import { createHarness, userWithToken, type Harness } from './harness';

let h: Harness;
let admin: Awaited<ReturnType<typeof userWithToken>>;
let analyst: Awaited<ReturnType<typeof userWithToken>>;
let analyst2: Awaited<ReturnType<typeof userWithToken>>;
let viewer: Awaited<ReturnType<typeof userWithToken>>;

const trends = (event = 'report.viewed') => ({
  kind: 'trends',
  series: [{ event, math: 'total' }],
  interval: 'day',
  last: { count: 7, unit: 'day' },
});
const funnel = { kind: 'funnel', steps: [{ event: 'signup' }, { event: 'activate' }], windowSeconds: 86400, last: { count: 30, unit: 'day' } };
const widget = (title: string, extra: object = {}) => ({ title, viz: 'line', query: trends(), ...extra });

async function create(token: string, body: object) {
  const res = await h.call('POST', '/v1/dashboards', { token, body });
  expect(res.status, res.text).toBe(201);
  return res;
}

beforeAll(async () => {
  h = await createHarness();
  admin = await userWithToken(h, ['admin']);
  analyst = await userWithToken(h, ['analyst']);
  analyst2 = await userWithToken(h, ['analyst']);
  viewer = await userWithToken(h, ['viewer']);
});
afterAll(() => h.drop());

describe('POST /v1/dashboards', () => {
  it('creates one owned by the caller, with widget ids, an ETag, and an audit row, in one statement', async () => {
    const res = await create(analyst.token, {
      name: '  Activation ',
      shares: ['viewer'],
      widgets: [widget('Views'), { title: 'Funnel', viz: 'funnel', query: funnel, layout: { x: 6, y: 0, w: 6, h: 4 } }],
    });
    expectWithinBudget('POST /v1/dashboards', res);
    const d = res.body;
    expect(d).toMatchObject({ name: 'Activation', description: null, ownerId: analyst.id, shares: ['viewer'], version: 1 });
    expect(d.widgets).toHaveLength(2);
    expect(d.widgets[0].id).toMatch(/^w[0-9a-f]{12}$/);
    expect(d.widgets[0].id).not.toBe(d.widgets[1].id);
    expect(d.widgets[1]).toMatchObject({ title: 'Funnel', viz: 'funnel', query: funnel, layout: { x: 6, y: 0, w: 6, h: 4 } });
    expect(res.headers.get('etag')).toBe('"v1"');
    expect(res.headers.get('location')).toBe(`/v1/dashboards/${d.id}`);
    const audit = await h.query<{ actor_id: number; details: any }>(
      `select actor_id, details from audit_events where action = 'dashboard.create' and target_id = $1`,
      [String(d.id)],
    );
    expect(audit).toEqual([{ actor_id: analyst.id, details: { name: 'Activation', shares: ['viewer'], widgets: 2 } }]);
  });

  it('keeps a widget id the client sent', async () => {
    const res = await create(analyst.token, { name: 'Ids', widgets: [widget('A', { id: 'mine-1' }), widget('B')] });
    expect(res.body.widgets[0].id).toBe('mine-1');
    expect(res.body.widgets[1].id).not.toBe('mine-1');
  });

  it('stores a widget query as parsed (defaults applied), and takes only live sources', async () => {
    const source = (await h.query<{ id: number }>(`insert into sources (name) values ('Site') returning id`))[0]!.id;
    const query = { ...trends(), sources: [source], tz: 'europe/paris' };
    const res = await create(analyst.token, { name: 'Parsed', widgets: [widget('A', { query })] });
    expect(res.body.widgets[0].query).toEqual({ ...trends(), sources: [source], tz: 'Europe/Paris' });
    await h.query('update sources set deleted_at = now() where id = $1', [source]);
    const again = await h.call('PUT', `/v1/dashboards/${res.body.id}`, { token: analyst.token, body: { name: 'Parsed', widgets: res.body.widgets } });
    expectInvalid(again, 'widgets.0.query.sources.0');
  });

  it('refuses bad input with exact paths, and writes nothing', async () => {
    const before = await h.query<{ n: number }>('select count(*)::int as n from dashboards');
    const cases: [object, string][] = [
      [{}, 'name'],
      [{ name: ' ' }, 'name'],
      [{ name: 'x', shares: ['Not A Role'] }, 'shares.0'],
      [{ name: 'x', shares: ['no-such-role'] }, 'shares'],
      [{ name: 'x', widgets: Array.from({ length: 25 }, (_, i) => widget(`w${i}`)) }, 'widgets'],
      [{ name: 'x', widgets: [widget('a', { id: 'same' }), widget('b', { id: 'same' })] }, 'widgets.1.id'],
      [{ name: 'x', widgets: [widget('a'), widget('b', { viz: 'pie' })] }, 'widgets.1.viz'],
      [{ name: 'x', widgets: [widget('a'), { title: 'f', viz: 'funnel', query: trends() }] }, 'widgets.1.viz'],
      [{ name: 'x', widgets: [widget('a', { layout: { x: 8, y: 0, w: 6, h: 2 } })] }, 'widgets.0.layout.w'],
      [{ name: 'x', widgets: [widget('a', { query: { kind: 'pie' } })] }, 'widgets.0.query.kind'],
      [{ name: 'x', widgets: [widget('a'), widget('b', { query: { ...trends(), sources: [2147483000] } })] }, 'widgets.1.query.sources.0'],
      [{ name: 'x', widgets: [widget('a'), widget('b', { query: { ...trends(), series: [{ event: '', math: 'total' }] } })] }, 'widgets.1.query.series.0.event'],
      [{ name: 'x', widgets: [{ title: 'f', viz: 'funnel', query: { ...funnel, steps: [{ event: 'a' }, { event: 'b', filters: [{ property: 'p', op: 'near' }] }] } }] }, 'widgets.0.query.steps.1.filters.0.op'],
      [{ name: 'x', widgets: [widget('a', { query: { ...trends(), colour: 'red' } })] }, 'widgets.0.query.colour'],
      [{ name: 'x', extra: 1 }, 'extra'],
    ];
    for (const [body, path] of cases) expectInvalid(await h.call('POST', '/v1/dashboards', { token: analyst.token, body }), path);
    expect(await h.query<{ n: number }>('select count(*)::int as n from dashboards')).toEqual(before);
  });

  it('needs dashboards:write and events:read', async () => {
    expectProblem(await h.call('POST', '/v1/dashboards', { token: viewer.token, body: { name: 'x' } }), 403);
    await h.query(`with r as (insert into roles (name) values ('dash-only') returning id)
      insert into role_permissions (role_id, permission) select id, 'dashboards:write' from r`);
    const writer = await userWithToken(h, ['dash-only']);
    const res = await h.call('POST', '/v1/dashboards', { token: writer.token, body: { name: 'x' } });
    expectProblem(res, 403);
    expect(res.body.detail).toContain('events:read');
    expect(res.statements).toBe(1);
  });
});

describe('who sees a dashboard', () => {
  let privateId: number;
  let sharedId: number;
  beforeAll(async () => {
    privateId = (await create(analyst.token, { name: 'Private' })).body.id;
    sharedId = (await create(analyst.token, { name: 'Shared', shares: ['viewer'] })).body.id;
  });

  it('the owner, holders of a shared role and admin read it; anyone else gets 404', async () => {
    for (const who of [analyst, admin]) {
      const res = await h.call('GET', `/v1/dashboards/${privateId}`, { token: who.token });
      expect(res.status).toBe(200);
      expectWithinBudget('GET /v1/dashboards/:id', res);
      expect(res.headers.get('etag')).toBe('"v1"');
    }
    expectProblem(await h.call('GET', `/v1/dashboards/${privateId}`, { token: viewer.token }), 404);
    expectProblem(await h.call('GET', `/v1/dashboards/${privateId}`, { token: analyst2.token }), 404);
    expect((await h.call('GET', `/v1/dashboards/${sharedId}`, { token: viewer.token })).status).toBe(200);
    expectProblem(await h.call('GET', '/v1/dashboards/0', { token: admin.token }), 404);
    expectProblem(await h.call('GET', '/v1/dashboards/abc', { token: admin.token }), 404);
    expectProblem(await h.call('GET', '/v1/dashboards/99999999999', { token: admin.token }), 404);
  });

  it('lists only what the caller sees, in pages', async () => {
    const ids = async (token: string) => {
      const seen: number[] = [];
      let cursor: string | null = null;
      do {
        const res = await h.call('GET', `/v1/dashboards?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token });
        expect(res.status, res.text).toBe(200);
        expectWithinBudget('GET /v1/dashboards', res);
        seen.push(...res.body.data.map((d: { id: number }) => d.id));
        cursor = res.body.nextCursor;
      } while (cursor);
      return seen;
    };
    const all = (await h.query<{ id: number }>('select id from dashboards order by id')).map((r) => r.id);
    expect(await ids(admin.token)).toEqual(all);
    const viewerSees = await ids(viewer.token);
    expect(viewerSees).toContain(sharedId);
    expect(viewerSees).not.toContain(privateId);
    expect(await ids(analyst2.token)).not.toContain(privateId);
    expectProblem(await h.call('GET', '/v1/dashboards?cursor=junk', { token: viewer.token }), 400);
  });

  it('a share ends when the role is deleted, and does not pass to a new role of the same name', async () => {
    await h.query(`insert into roles (name) values ('temps')`);
    const temp = await userWithToken(h, ['temps']);
    const id = (await create(admin.token, { name: 'For temps', shares: ['temps'] })).body.id;
    expect((await h.call('GET', `/v1/dashboards/${id}`, { token: temp.token })).status).toBe(200);
    expect((await h.call('DELETE', '/v1/roles/temps', { token: admin.token })).status).toBe(204);
    await h.query(`insert into roles (name) values ('temps')`);
    const again = await userWithToken(h, ['temps']);
    expectProblem(await h.call('GET', `/v1/dashboards/${id}`, { token: again.token }), 404);
    expect((await h.call('GET', `/v1/dashboards/${id}`, { token: admin.token })).body.shares).toEqual([]);
  });
});

describe('PUT /v1/dashboards/:id', () => {
  it('replaces everything, keeps sent widget ids, bumps the version, and audits content and shares apart', async () => {
    const made = (await create(analyst.token, { name: 'Weekly', description: 'd', shares: ['viewer'], widgets: [widget('A'), widget('B')] })).body;
    const [a] = made.widgets;
    const res = await h.call('PUT', `/v1/dashboards/${made.id}`, {
      token: analyst.token,
      headers: { 'if-match': '"v1"' },
      body: { name: 'Weekly 2', shares: ['analyst', 'viewer'], widgets: [{ ...a, title: 'A2' }, widget('C')] },
    });
    expect(res.status, res.text).toBe(200);
    expectWithinBudget('PUT /v1/dashboards/:id', res);
    expect(res.body).toMatchObject({ name: 'Weekly 2', description: null, shares: ['analyst', 'viewer'], version: 2, ownerId: analyst.id });
    expect(res.body.widgets.map((w: { id: string }) => w.id)[0]).toBe(a.id);
    expect(res.body.widgets[1].id).not.toBe(made.widgets[1].id);
    expect(res.headers.get('etag')).toBe('"v2"');
    expect((await h.call('GET', `/v1/dashboards/${made.id}`, { token: analyst.token })).body).toEqual(res.body);
    const audit = await h.query<{ action: string; details: any }>(
      `select action, details from audit_events where target_type = 'dashboard' and target_id = $1 and action <> 'dashboard.create' order by action`,
      [String(made.id)],
    );
    expect(audit).toEqual([
      { action: 'dashboard.share', details: { shares: ['analyst', 'viewer'], added: ['analyst'], removed: [], version: 2 } },
      { action: 'dashboard.update', details: { name: 'Weekly 2', version: 2, widgets: 2 } },
    ]);
    // A save that changes only the shares writes only a share event; one that changes nothing writes none.
    await h.call('PUT', `/v1/dashboards/${made.id}`, { token: analyst.token, body: { ...res.body, id: undefined, ownerId: undefined, createdAt: undefined, updatedAt: undefined, version: undefined, shares: [] } }).then((r) => expect(r.status, r.text).toBe(200));
    const body = { name: 'Weekly 2', description: null, shares: [], widgets: res.body.widgets };
    expect((await h.call('PUT', `/v1/dashboards/${made.id}`, { token: analyst.token, body })).status).toBe(200);
    const actions = await h.query<{ action: string }>(
      `select action from audit_events where target_type = 'dashboard' and target_id = $1 order by id`,
      [String(made.id)],
    );
    expect(actions.map((r) => r.action)).toEqual(['dashboard.create', 'dashboard.share', 'dashboard.update', 'dashboard.share']);
  });

  it('412 with the current ETag for a stale If-Match, and nothing changes', async () => {
    const made = (await create(analyst.token, { name: 'Race' })).body;
    expect((await h.call('PUT', `/v1/dashboards/${made.id}`, { token: analyst.token, headers: { 'if-match': '"v1"' }, body: { name: 'First' } })).status).toBe(200);
    for (const tag of ['"v1"', 'W/"v1"', '"something-else"']) {
      const res = await h.call('PUT', `/v1/dashboards/${made.id}`, { token: analyst.token, headers: { 'if-match': tag }, body: { name: 'Second' } });
      expectProblem(res, 412);
      expect(res.headers.get('etag')).toBe('"v2"');
    }
    expectProblem(await h.call('DELETE', `/v1/dashboards/${made.id}`, { token: analyst.token, headers: { 'if-match': '"v1"' } }), 412);
    const now = await h.call('GET', `/v1/dashboards/${made.id}`, { token: analyst.token });
    expect(now.body).toMatchObject({ name: 'First', version: 2 });
    expect((await h.call('PUT', `/v1/dashboards/${made.id}`, { token: analyst.token, headers: { 'if-match': '"v1", "v2"' }, body: { name: 'Third' } })).status).toBe(200);
    expect((await h.call('PUT', `/v1/dashboards/${made.id}`, { token: analyst.token, headers: { 'if-match': '*' }, body: { name: 'Fourth' } })).status).toBe(200);
  });

  it('two saves from one version at the same moment: exactly one wins, the other gets 412', async () => {
    const made = (await create(analyst.token, { name: 'Concurrent' })).body;
    const results = await Promise.all(
      ['One', 'Two', 'Three'].map((name) =>
        h.call('PUT', `/v1/dashboards/${made.id}`, { token: analyst.token, headers: { 'if-match': '"v1"' }, body: { name } }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 412, 412]);
    const winner = results.find((r) => r.status === 200)!.body.name;
    expect((await h.call('GET', `/v1/dashboards/${made.id}`, { token: analyst.token })).body).toMatchObject({ name: winner, version: 2 });
  });

  it('only the owner (with both permissions) or admin edits: 403 for someone who sees it, 404 for anyone else', async () => {
    const made = (await create(analyst.token, { name: 'Owned', shares: ['viewer', 'analyst'] })).body;
    expectProblem(await h.call('PUT', `/v1/dashboards/${made.id}`, { token: analyst2.token, body: { name: 'Taken' } }), 403);
    expectProblem(await h.call('DELETE', `/v1/dashboards/${made.id}`, { token: analyst2.token }), 403);
    // A viewer lacks dashboards:write: 403 from the route's permission, before anything else.
    expectProblem(await h.call('PUT', `/v1/dashboards/${made.id}`, { token: viewer.token, body: { name: 'Taken' } }), 403);
    const hidden = (await create(analyst.token, { name: 'Hidden' })).body;
    expectProblem(await h.call('PUT', `/v1/dashboards/${hidden.id}`, { token: analyst2.token, body: { name: 'Taken' } }), 404);
    expectProblem(await h.call('DELETE', `/v1/dashboards/${hidden.id}`, { token: analyst2.token }), 404);
    const res = await h.call('PUT', `/v1/dashboards/${hidden.id}`, { token: admin.token, body: { name: 'By admin' } });
    expect(res.body).toMatchObject({ name: 'By admin', ownerId: analyst.id });
    expect((await h.call('GET', `/v1/dashboards/${made.id}`, { token: analyst.token })).body.name).toBe('Owned');
  });

  it('validates like POST and writes nothing', async () => {
    const made = (await create(analyst.token, { name: 'Valid' })).body;
    expectInvalid(await h.call('PUT', `/v1/dashboards/${made.id}`, { token: analyst.token, body: { name: 'x', shares: ['ghost'] } }), 'shares');
    expectInvalid(
      await h.call('PUT', `/v1/dashboards/${made.id}`, { token: analyst.token, body: { name: 'x', widgets: [widget('a'), widget('b'), widget('c', { query: { kind: 'x' } })] } }),
      'widgets.2.query.kind',
    );
    expect((await h.call('GET', `/v1/dashboards/${made.id}`, { token: analyst.token })).body).toMatchObject({ name: 'Valid', version: 1 });
  });
});

describe('DELETE /v1/dashboards/:id', () => {
  it('deletes, with its shares, and audits', async () => {
    const made = (await create(analyst.token, { name: 'Gone', shares: ['viewer'] })).body;
    const res = await h.call('DELETE', `/v1/dashboards/${made.id}`, { token: analyst.token, headers: { 'if-match': '"v1"' } });
    expect(res.status).toBe(204);
    expectWithinBudget('DELETE /v1/dashboards/:id', res);
    expectProblem(await h.call('GET', `/v1/dashboards/${made.id}`, { token: admin.token }), 404);
    expect(await h.query('select * from dashboard_shares where dashboard_id = $1', [made.id])).toEqual([]);
    const audit = await h.query<{ actor_id: number }>(`select actor_id from audit_events where action = 'dashboard.delete' and target_id = $1`, [String(made.id)]);
    expect(audit).toEqual([{ actor_id: analyst.id }]);
    expectProblem(await h.call('DELETE', `/v1/dashboards/${made.id}`, { token: analyst.token }), 404);
  });
});

describe('an owner deleted', () => {
  it('leaves the dashboard with ownerId null, for admin to edit or delete; a former share still shows it', async () => {
    const owner = await userWithToken(h, ['analyst']);
    const made = (await create(owner.token, { name: 'Orphan', shares: ['viewer'] })).body;
    expect((await h.call('DELETE', `/v1/users/${owner.id}`, { token: admin.token })).status).toBe(204);
    expect((await h.call('GET', `/v1/dashboards/${made.id}`, { token: viewer.token })).body.ownerId).toBeNull();
    expectProblem(await h.call('PUT', `/v1/dashboards/${made.id}`, { token: analyst.token, body: { name: 'Mine now' } }), 404);
    const res = await h.call('PUT', `/v1/dashboards/${made.id}`, { token: admin.token, body: { name: 'Adopted', shares: ['viewer'] } });
    expect(res.body).toMatchObject({ name: 'Adopted', ownerId: null });
    expect((await h.call('DELETE', `/v1/dashboards/${made.id}`, { token: admin.token })).status).toBe(204);
  });
});
