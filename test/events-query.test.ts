/**
 * Contract §14 through the Worker: the event list and its cursor, event names, the query route's 422 paths, worked
 * examples of each query kind (DST, fractional offsets, `$other`, ordering by code point, same-time funnel steps,
 * first-ever retention), deleted and unknown sources, and `events:read` decided at request time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, userWithToken, type Harness } from './harness';

let h: Harness;
let token: string;
beforeAll(async () => {
  h = await createHarness();
  token = (await userWithToken(h, ['analyst'])).token;
  await h.query(`insert into sources (id, name, deleted_at) values (11, 'web', null), (12, 'app', null), (13, 'gone', now())`);
});
afterAll(() => h.drop());

async function insert(rows: { source?: number; event: string; id: string; ts: string; properties?: object }[]) {
  await h.query(
    `insert into events (source_id, event, distinct_id, timestamp, received_at, properties)
     select r.source_id, r.event, r.distinct_id, r.ts, now(), r.properties
     from json_to_recordset($1::json) r(source_id int, event text, distinct_id text, ts timestamptz, properties jsonb)`,
    [JSON.stringify(rows.map((r) => ({ source_id: r.source ?? 11, event: r.event, distinct_id: r.id, ts: r.ts, properties: r.properties ?? {} })))],
  );
}

const query = (body: unknown, t = token) => h.call('POST', '/v1/events/query', { token: t, body });

describe('POST /v1/events/query validation', () => {
  const base = { kind: 'trends', series: [{ event: 'e', math: 'total' }], interval: 'day', from: '2026-01-01T00:00:00Z', to: '2026-01-08T00:00:00Z' };
  const cases: [string, unknown, string][] = [
    ['empty series event', { ...base, series: [{ event: '', math: 'total' }] }, 'series.0.event'],
    ['bad math', { ...base, series: [{ event: 'e', math: 'avg' }] }, 'series.0.math'],
    ['six series', { ...base, series: Array(6).fill({ event: 'e', math: 'total' }) }, 'series'],
    ['bad step filter op', { kind: 'funnel', steps: [{ event: 'a' }, { event: 'b', filters: [{ property: 'p', op: 'like', value: 1 }] }], windowSeconds: 60, from: base.from, to: base.to }, 'steps.1.filters.0.op'],
    ['one step', { kind: 'funnel', steps: [{ event: 'a' }], windowSeconds: 60, from: base.from, to: base.to }, 'steps'],
    ['window too long', { kind: 'funnel', steps: [{ event: 'a' }, { event: 'b' }], windowSeconds: 7_776_001, from: base.from, to: base.to }, 'windowSeconds'],
    ['in without array', { ...base, filters: [{ property: 'p', op: 'in', value: 1 }] }, 'filters.0.value'],
    ['gt with a string', { ...base, filters: [{ property: 'p', op: 'gt', value: '1' }] }, 'filters.0.value'],
    ['range over 366 days', { ...base, to: '2027-01-03T00:00:00Z' }, 'to'],
    ['to before from', { ...base, to: '2025-12-31T00:00:00Z' }, 'to'],
    ['no range', { ...base, from: undefined, to: undefined }, 'from'],
    ['both ranges', { ...base, last: { count: 3, unit: 'day' } }, 'last'],
    ['last over 52 weeks', { ...base, from: undefined, to: undefined, last: { count: 53, unit: 'week' } }, 'last.count'],
    ['last over 12 months', { ...base, from: undefined, to: undefined, interval: 'month', last: { count: 13, unit: 'month' } }, 'last.count'],
    ['over 1,000 points', { ...base, interval: 'hour', to: '2026-02-12T00:00:00Z' }, 'interval'],
    ['unknown zone', { ...base, tz: 'Mars/Olympus' }, 'tz'],
    ['posix zone', { ...base, tz: 'UTC+5' }, 'tz'],
    ['unknown kind', { ...base, kind: 'paths' }, 'kind'],
    ['unknown field', { ...base, colour: 'red' }, 'colour'],
    ['retention by hour', { kind: 'retention', startEvent: 'a', interval: 'hour', from: base.from, to: base.to }, 'interval'],
    ['breakdown limit', { ...base, breakdown: { property: 'p', limit: 51 } }, 'breakdown.limit'],
  ];
  for (const [name, body, path] of cases) {
    it(`422 at ${path}: ${name}`, async () => {
      const res = await query(body);
      expect(res.status, res.text).toBe(422);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
    });
  }

  it('exactly 1,000 hourly points is accepted, 1,001 is not', async () => {
    const from = Date.parse('2026-06-01T00:00:00Z');
    const at = (hours: number) => new Date(from + hours * 3_600_000).toISOString();
    expect((await query({ ...base, interval: 'hour', from: at(0), to: at(1000) })).status).toBe(200);
    expect((await query({ ...base, interval: 'hour', from: at(0), to: new Date(from + 1000 * 3_600_000 + 1).toISOString() })).status).toBe(422);
  });

  it('an unknown or deleted source is a 422 at its position; a live one is fine', async () => {
    const res = await query({ ...base, sources: [11, 999, 13] });
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(['sources.1', 'sources.2']);
    expect((await query({ ...base, sources: [11, 12] })).status).toBe(200);
  });

  it('a body that is not JSON is a 400, another media type a 415', async () => {
    expect((await h.call('POST', '/v1/events/query', { token, raw: '{', headers: { 'content-type': 'application/json' } })).status).toBe(400);
    expect((await h.call('POST', '/v1/events/query', { token, raw: '{}', headers: { 'content-type': 'text/plain' } })).status).toBe(415);
  });
});

describe('query kinds', () => {
  beforeAll(async () => {
    await insert([
      // Paris, the night clocks go forward (2026-03-29 02:00 → 03:00).
      { event: 'view', id: 'p1', ts: '2026-03-28T23:00:00Z', properties: { plan: 'pro' } }, // 00:00+01:00, exactly on a bound
      { event: 'view', id: 'p1', ts: '2026-03-29T01:00:00Z', properties: { plan: '10' } }, // 03:00+02:00
      { event: 'view', id: 'p2', ts: '2026-03-29T01:59:59.999Z', properties: { plan: '9' } },
      { event: 'view', id: 'p3', ts: '2026-03-29T02:00:00Z', properties: { plan: { tier: 'x', a: 1 } } }, // 04:00+02:00, = to
      { event: 'view', id: 'p4', ts: '2026-03-29T00:30:00Z', source: 13 }, // deleted source
    ]);
  });

  it('trends by hour across the DST change: 23 hours, offsets in t, zero-filled, to exclusive', async () => {
    const res = await query({ kind: 'trends', series: [{ event: 'view', math: 'total' }], interval: 'hour', tz: 'Europe/Paris', from: '2026-03-28T23:00:00Z', to: '2026-03-29T02:00:00Z' });
    expect(res.status, res.text).toBe(200);
    expect(res.statements).toBe(1);
    expect(res.body).toEqual({
      data: [{ series: 0, breakdown: null, total: 3, points: [
        { t: '2026-03-29T00:00:00+01:00', value: 1 },
        { t: '2026-03-29T01:00:00+01:00', value: 0 },
        { t: '2026-03-29T03:00:00+02:00', value: 2 },
      ] }],
    });
  });

  it('Asia/Kathmandu hours start at :15 UTC', async () => {
    const res = await query({ kind: 'trends', series: [{ event: 'view', math: 'uniques' }], interval: 'hour', tz: 'Asia/Kathmandu', from: '2026-03-29T00:15:00Z', to: '2026-03-29T02:15:00Z' });
    expect(res.body.data[0].points).toEqual([
      { t: '2026-03-29T06:00:00+05:45', value: 1 },
      { t: '2026-03-29T07:00:00+05:45', value: 2 },
    ]);
  });

  it('breakdown: top values by total, ties by compact JSON text by code point, then $other', async () => {
    const res = await query({ kind: 'trends', series: [{ event: 'view', math: 'total' }], interval: 'day', tz: 'Europe/Paris', breakdown: { property: 'plan', limit: 2 }, from: '2026-03-28T00:00:00Z', to: '2026-03-30T00:00:00Z' });
    expect(res.status, res.text).toBe(200);
    // All totals are 1: "10" < "9" < "pro" < "{\"a\":…" by code point of their JSON texts.
    expect(res.body.data.map((d: { breakdown: unknown; total: number }) => [d.breakdown, d.total])).toEqual([['10', 1], ['9', 1], ['$other', 2]]);
    expect(res.body.data[0].points).toEqual([{ t: '2026-03-28', value: 0 }, { t: '2026-03-29', value: 1 }, { t: '2026-03-30', value: 0 }]);
  });

  it('an object breakdown value is its compact JSON text', async () => {
    const res = await query({ kind: 'trends', series: [{ event: 'view', math: 'total' }], interval: 'month', breakdown: { property: 'plan' }, from: '2026-03-29T02:00:00Z', to: '2026-03-29T03:00:00Z' });
    expect(res.body.data.map((d: { breakdown: unknown }) => d.breakdown)).toEqual(['{"a":1,"tier":"x"}']);
  });

  it('funnel: same-time steps count, no event serves two steps, the window bounds the last step', async () => {
    await insert([
      { event: 'signup', id: 'f1', ts: '2026-05-01T10:00:00Z' },
      { event: 'pay', id: 'f1', ts: '2026-05-01T10:00:00Z' }, // same instant as its signup
      { event: 'signup', id: 'f2', ts: '2026-05-01T10:00:00Z' }, // one signup cannot be both steps of signup → signup
      { event: 'signup', id: 'f3', ts: '2026-05-01T10:00:00Z' },
      { event: 'signup', id: 'f3', ts: '2026-05-01T11:00:00Z' },
      { event: 'pay', id: 'f3', ts: '2026-05-02T10:00:01Z' }, // a day and a second after its first signup, within a day of the second
    ]);
    const range = { from: '2026-05-01T00:00:00Z', to: '2026-05-02T00:00:00Z' };
    const a = await query({ kind: 'funnel', steps: [{ event: 'signup' }, { event: 'pay' }], windowSeconds: 86_400, ...range });
    expect(a.status, a.text).toBe(200);
    expect(a.body).toEqual({ data: [{ breakdown: null, steps: [{ event: 'signup', count: 3 }, { event: 'pay', count: 2 }] }] });
    const b = await query({ kind: 'funnel', steps: [{ event: 'signup' }, { event: 'signup' }], windowSeconds: 60, ...range });
    expect(b.body.data[0].steps.map((s: { count: number }) => s.count)).toEqual([3, 0]);
  });

  it('retention: cohorts by first start event ever; an earlier one puts an id in no cohort', async () => {
    await insert([
      { event: 'join', id: 'r1', ts: '2026-07-06T09:00:00Z' },
      { event: 'open', id: 'r1', ts: '2026-07-13T09:00:00Z' },
      { event: 'join', id: 'r2', ts: '2026-06-01T09:00:00Z' }, // first join before the range
      { event: 'join', id: 'r2', ts: '2026-07-07T09:00:00Z' },
      { event: 'open', id: 'r3', ts: '2026-07-06T08:00:00Z' }, // before its start event, same week: counts
      { event: 'join', id: 'r3', ts: '2026-07-08T09:00:00Z' },
    ]);
    const res = await query({ kind: 'retention', startEvent: 'join', returnEvent: 'open', interval: 'week', from: '2026-07-06T00:00:00Z', to: '2026-07-20T00:00:00Z' });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ data: [{ cohort: '2026-07-06', size: 2, active: [1, 1] }, { cohort: '2026-07-13', size: 0, active: [0] }] });
    const any = await query({ kind: 'retention', startEvent: 'join', interval: 'week', from: '2026-07-06T00:00:00Z', to: '2026-07-20T00:00:00Z' });
    expect(any.body.data[0]).toEqual({ cohort: '2026-07-06', size: 2, active: [2, 1] });
  });

  it('a deleted source leaves every result at once', async () => {
    await insert([{ event: 'ping', id: 'd1', ts: '2026-08-01T00:00:00Z', source: 12 }]);
    const body = { kind: 'trends', series: [{ event: 'ping', math: 'total' }], interval: 'day', from: '2026-08-01T00:00:00Z', to: '2026-08-02T00:00:00Z' };
    expect((await query(body)).body.data[0].total).toBe(1);
    await h.query(`update sources set deleted_at = now() where id = 12`);
    expect((await query(body)).body.data[0].total).toBe(0);
    expect((await query({ ...body, sources: [12] })).status).toBe(422);
    await h.query(`update sources set deleted_at = null where id = 12`);
  });
});

describe('GET /v1/events and /v1/events/names', () => {
  it('pages newest timestamp first, then highest id, with a cursor that never skips or repeats', async () => {
    const now = Date.now();
    const ts = new Date(now - 60_000).toISOString();
    await insert([
      { event: 'list.me', id: 'l1', ts },
      { event: 'list.me', id: 'l2', ts },
      { event: 'list.me', id: 'l3', ts: new Date(now - 120_000).toISOString(), properties: { k: [1] } },
      { event: 'list.me', id: 'l4', ts, source: 13 },
    ]);
    const first = await h.call('GET', '/v1/events?event=list.me&limit=2', { token });
    expect(first.status, first.text).toBe(200);
    expect(first.statements).toBe(1);
    expect(first.body.data.map((e: { distinctId: string }) => e.distinctId)).toEqual(['l2', 'l1']);
    expect(first.body.data[0]).toMatchObject({ event: 'list.me', timestamp: ts, source: 11, country: null, properties: {} });
    const second = await h.call('GET', `/v1/events?event=list.me&limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`, { token });
    expect(second.body.data.map((e: { distinctId: string }) => e.distinctId)).toEqual(['l3']);
    expect(second.body.nextCursor).toBeNull();
    expect((await h.call('GET', '/v1/events?cursor=tampered', { token })).status).toBe(400);
    expect((await h.call('GET', '/v1/events?distinctId=l3&source=11', { token })).body.data).toHaveLength(1);
  });

  it('names of the last 30 days by count, then name', async () => {
    const recent = new Date(Date.now() - 3_600_000).toISOString();
    await insert([
      { event: 'zz.names', id: 'n1', ts: recent },
      { event: 'zz.names', id: 'n2', ts: recent },
      { event: 'ZZ.names', id: 'n1', ts: recent },
      { event: 'zz.old', id: 'n1', ts: new Date(Date.now() - 31 * 86_400_000).toISOString() },
      { event: 'zz.future', id: 'n1', ts: new Date(Date.now() + 1_800_000).toISOString() },
    ]);
    const res = await h.call('GET', '/v1/events/names', { token });
    expect(res.status, res.text).toBe(200);
    const names = res.body.data.map((d: { event: string }) => d.event);
    expect(names).not.toContain('zz.old');
    expect(names).not.toContain('zz.future');
    expect(res.body.data.find((d: { event: string }) => d.event === 'zz.names')).toEqual({ event: 'zz.names', count: 2, lastSeenAt: recent });
    const counts = res.body.data.map((d: { count: number }) => d.count);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
  });

  it('a caller whose role loses events:read is refused at once (403), whatever the token says', async () => {
    const user = await userWithToken(h, ['viewer']);
    await h.query(`insert into roles (name) values ('readers-q')`);
    await h.query(`insert into role_permissions (role_id, permission) select id, 'events:read' from roles where name = 'readers-q'`);
    await h.query(`insert into users_roles (user_id, role_id) select $1, id from roles where name = 'readers-q'`, [user.id]);
    expect((await h.call('GET', '/v1/events/names', { token: user.token })).status).toBe(200);
    await h.query(`delete from role_permissions where permission = 'events:read' and role_id = (select id from roles where name = 'readers-q')`);
    const refused = await query({ kind: 'trends', series: [{ event: 'x', math: 'total' }], interval: 'day', last: { count: 2, unit: 'day' } }, user.token);
    expect(refused.status).toBe(403);
    expect((await query({ kind: 'nope' }, user.token)).status).toBe(403); // not 422: the caller is checked first
  });
});
