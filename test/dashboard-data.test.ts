/**
 * Contract §15, GET /v1/dashboards/:id/data: every widget computed for anyone who sees the dashboard (no
 * events:read), one widget's failure failing no other, the cache (up to DASHBOARD_CACHE_SECONDS, ?refresh=true, a new
 * version recomputes) and visibility decided on every request, cached or not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectWithinBudget } from './budgets';
import { expectInvalid, expectProblem } from './expect';
import { createHarness, userWithToken, type Harness } from './harness';

let h: Harness;
let analyst: Awaited<ReturnType<typeof userWithToken>>;
let viewer: Awaited<ReturnType<typeof userWithToken>>;
let source: number;
let other: number;

const day = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString();

async function addEvents(rows: [event: string, distinctId: string, daysAgo: number, sourceId?: number][]) {
  await h.query(
    `insert into events (source_id, event, distinct_id, timestamp, received_at)
     select s, e, d, t::timestamptz, now() from unnest($1::int[], $2::text[], $3::text[], $4::text[]) x(s, e, d, t)`,
    [rows.map((r) => r[3] ?? source), rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => day(r[2]))],
  );
}

const views = { kind: 'trends', series: [{ event: 'view', math: 'total' }], interval: 'day', last: { count: 7, unit: 'day' } };
const signupFunnel = { kind: 'funnel', steps: [{ event: 'signup' }, { event: 'activate' }], windowSeconds: 86400 * 3, last: { count: 30, unit: 'day' } };

async function dashboard(body: object) {
  const res = await h.call('POST', '/v1/dashboards', { token: analyst.token, body });
  expect(res.status, res.text).toBe(201);
  return res.body as { id: number; widgets: { id: string }[] };
}

beforeAll(async () => {
  h = await createHarness();
  analyst = await userWithToken(h, ['analyst']);
  viewer = await userWithToken(h, ['viewer']);
  const made = await h.query<{ id: number }>(`insert into sources (name) values ('Site'), ('App') returning id`);
  source = made[0]!.id;
  other = made[1]!.id;
  await addEvents([
    ['view', 'a', 1], ['view', 'b', 2], ['view', 'a', 3], ['view', 'c', 40],
    ['signup', 'a', 5], ['activate', 'a', 4], ['signup', 'b', 5], ['view', 'z', 1, other],
  ]);
});
afterAll(() => h.drop());

describe('GET /v1/dashboards/:id/data', () => {
  it('computes every widget for a viewer it is shared with (no events:read), in two statements', async () => {
    const d = await dashboard({
      name: 'Activation',
      shares: ['viewer'],
      widgets: [
        { title: 'Views', viz: 'number', query: views },
        { title: 'Funnel', viz: 'funnel', query: signupFunnel },
        { title: 'Views on App', viz: 'line', query: { ...views, sources: [other] } },
      ],
    });
    const res = await h.call('GET', `/v1/dashboards/${d.id}/data`, { token: viewer.token });
    expect(res.status, res.text).toBe(200);
    expectWithinBudget('GET /v1/dashboards/:id/data', res);
    expect(res.statements).toBe(2);
    expect(res.body.data.map((w: { widgetId: string }) => w.widgetId)).toEqual(d.widgets.map((w) => w.id));
    const [v, f, app] = res.body.data;
    expect(v.error).toBeNull();
    expect(v.result.data[0].total).toBe(4);
    expect(v.result.data[0].points).toHaveLength(7);
    expect(f.result.data[0].steps).toEqual([{ event: 'signup', count: 2 }, { event: 'activate', count: 1 }]);
    expect(app.result.data[0].total).toBe(1);
    expect(Date.parse(res.body.computedAt)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('one widget whose query no longer holds gets its 422 as error; the others their figures', async () => {
    const doomed = (await h.query<{ id: number }>(`insert into sources (name) values ('Doomed') returning id`))[0]!.id;
    const d = await dashboard({
      name: 'Mixed',
      widgets: [
        { title: 'Doomed', viz: 'line', query: { ...views, sources: [doomed] } },
        { title: 'Views', viz: 'line', query: views },
      ],
    });
    await h.query('update sources set deleted_at = now() where id = $1', [doomed]);
    const res = await h.call('GET', `/v1/dashboards/${d.id}/data?refresh=true`, { token: analyst.token });
    expect(res.status, res.text).toBe(200);
    const [bad, good] = res.body.data;
    expect(bad.result).toBeNull();
    expect(bad.error).toMatchObject({ status: 422, errors: [{ path: 'sources.0' }] });
    expect(good.error).toBeNull();
    expect(good.result.data[0].total).toBe(4);
    // A stored query the schema no longer accepts fails alone too.
    await h.query(`update dashboards set widgets = jsonb_set(widgets, '{1,query,interval}', '"fortnight"') where id = $1`, [d.id]);
    const again = await h.call('GET', `/v1/dashboards/${d.id}/data?refresh=true`, { token: analyst.token });
    expect(again.body.data[1].error).toMatchObject({ status: 422, errors: [{ path: 'interval' }] });
  });

  it('serves cached figures until refresh=true or a new version, and never to a caller who no longer sees it', async () => {
    const d = await dashboard({ name: 'Cached', shares: ['viewer'], widgets: [{ title: 'Views', viz: 'number', query: views }] });
    const first = await h.call('GET', `/v1/dashboards/${d.id}/data`, { token: viewer.token });
    await addEvents([['view', 'q', 0]]);
    const cached = await h.call('GET', `/v1/dashboards/${d.id}/data`, { token: analyst.token });
    expect(cached.body).toEqual(first.body);
    expect(cached.statements).toBe(1);
    const fresh = await h.call('GET', `/v1/dashboards/${d.id}/data?refresh=true`, { token: viewer.token });
    expect(fresh.body.data[0].result.data[0].total).toBe(first.body.data[0].result.data[0].total + 1);
    expect(fresh.statements).toBe(2);
    // The share taken away: 404 at once, though the figures are in the cache.
    const put = await h.call('PUT', `/v1/dashboards/${d.id}`, { token: analyst.token, body: { name: 'Cached', widgets: [{ ...d.widgets[0], title: 'Views', viz: 'number', query: views }] } });
    expect(put.status, put.text).toBe(200);
    expectProblem(await h.call('GET', `/v1/dashboards/${d.id}/data`, { token: viewer.token }), 404);
    const stranger = await userWithToken(h, ['analyst']);
    expectProblem(await h.call('GET', `/v1/dashboards/${d.id}/data`, { token: stranger.token }), 404);
    // The new version is computed afresh.
    const after = await h.call('GET', `/v1/dashboards/${d.id}/data`, { token: analyst.token });
    expect(after.statements).toBe(2);
  });

  it('takes a range override for every widget, and refuses a bad one', async () => {
    const d = await dashboard({ name: 'Ranges', widgets: [{ title: 'Views', viz: 'line', query: views }] });
    const wide = await h.call('GET', `/v1/dashboards/${d.id}/data?last=60d`, { token: analyst.token });
    expect(wide.body.data[0].result.data[0].points).toHaveLength(60);
    expect(wide.body.data[0].result.data[0].total).toBeGreaterThanOrEqual(5);
    const from = new Date(Date.now() - 2.5 * 86_400_000).toISOString();
    const to = new Date().toISOString();
    const narrow = await h.call('GET', `/v1/dashboards/${d.id}/data?from=${from}&to=${to}`, { token: analyst.token });
    expect(narrow.body.data[0].result.data[0].total).toBeGreaterThanOrEqual(2);
    expectInvalid(await h.call('GET', `/v1/dashboards/${d.id}/data?last=7x`, { token: analyst.token }), 'last');
    expectInvalid(await h.call('GET', `/v1/dashboards/${d.id}/data?from=${from}`, { token: analyst.token }), 'to');
    const tooLong = await h.call('GET', `/v1/dashboards/${d.id}/data?last=9999d`, { token: analyst.token });
    expect(tooLong.body.data[0].error).toMatchObject({ status: 422 });
  });

  it('404 for what cannot be a dashboard; an empty dashboard has no figures', async () => {
    expectProblem(await h.call('GET', '/v1/dashboards/0/data', { token: analyst.token }), 404);
    const d = await dashboard({ name: 'Empty' });
    const res = await h.call('GET', `/v1/dashboards/${d.id}/data`, { token: analyst.token });
    expect(res.body.data).toEqual([]);
  });
});
