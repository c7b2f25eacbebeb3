/**
 * The demo's product analytics (contract §13–§15): a source, four weeks of its events (sign-ups, reports viewed and
 * shared, by a few hundred people), and two dashboards owned by the demo analyst, shared with `viewer` and
 * `analyst`, so a first `npm run dev` shows living dashboards. Seeding again replaces them.
 */
import pg from 'pg';

const SOURCE = 'Demo web app';
const trends = (event: string, math = 'total', count = 28) => ({ kind: 'trends', series: [{ event, math }], interval: 'day', last: { count, unit: 'day' } });

const DASHBOARDS = [
  {
    name: 'Activation',
    description: 'From sign-up to the first shared report, every Monday.',
    shares: ['viewer', 'analyst'],
    widgets: [
      { title: 'Sign-ups, 28 days', viz: 'number', query: trends('signup'), layout: { x: 0, y: 0, w: 3, h: 2 } },
      { title: 'Report viewers, 28 days', viz: 'number', query: trends('report.viewed', 'uniques'), layout: { x: 3, y: 0, w: 3, h: 2 } },
      { title: 'Reports viewed per day', viz: 'line', query: trends('report.viewed'), layout: { x: 6, y: 0, w: 6, h: 4 } },
      { title: 'Activation funnel', viz: 'funnel', query: { kind: 'funnel', steps: [{ event: 'signup' }, { event: 'report.viewed' }, { event: 'report.shared' }], windowSeconds: 7 * 86400, last: { count: 28, unit: 'day' } }, layout: { x: 0, y: 4, w: 6, h: 4 } },
      { title: 'Sign-ups per day', viz: 'bar', query: trends('signup'), layout: { x: 6, y: 4, w: 6, h: 4 } },
      { title: 'Weekly retention', viz: 'retention', query: { kind: 'retention', startEvent: 'signup', interval: 'week', last: { count: 4, unit: 'week' } }, layout: { x: 0, y: 8, w: 12, h: 4 } },
    ],
  },
  {
    name: 'Sharing',
    description: null,
    shares: ['viewer'],
    widgets: [
      { title: 'Reports shared per day', viz: 'line', query: trends('report.shared'), layout: { x: 0, y: 0, w: 6, h: 4 } },
      { title: 'Shares by plan', viz: 'table', query: { ...trends('report.shared'), breakdown: { property: 'plan' } }, layout: { x: 6, y: 0, w: 6, h: 4 } },
    ],
  },
];

export async function seedDemoDashboards(databaseUrl: string, ownerId: number): Promise<{ events: number; dashboards: number }> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    await db.query('begin');
    await db.query(`delete from events where source_id in (select id from sources where name = $1)`, [SOURCE]);
    await db.query(`delete from sources where name = $1`, [SOURCE]);
    await db.query(`delete from dashboards where owner_id = $1 and name = any ($2::text[])`, [ownerId, DASHBOARDS.map((d) => d.name)]);
    // 400 people signing up over four weeks; most view a report within hours, a third share one within days.
    const { rowCount } = await db.query(`
      with s as (insert into sources (name, last_event_at) values ($1, now()) returning id),
      people as (select n, now() - (random() * interval '28 days') as joined, (array['free', 'team', 'pro'])[1 + n % 3] as plan
                 from generate_series(1, 400) n)
      insert into events (source_id, event, distinct_id, timestamp, received_at, properties)
      select s.id, e.event, 'demo-' || p.n, least(now(), p.joined + e.after), now(), jsonb_build_object('plan', p.plan)
      from s, people p, lateral (values ('signup', interval '0', true), ('report.viewed', random() * interval '6 hours', p.n % 5 <> 0),
        ('report.viewed', random() * interval '9 days', p.n % 2 = 0), ('report.shared', random() * interval '3 days', p.n % 3 = 0)) e(event, after, happens)
      where e.happens`, [SOURCE]);
    for (const d of DASHBOARDS) {
      const widgets = d.widgets.map((w, i) => ({ id: `demo-${i + 1}`, ...w }));
      await db.query(
        `with d as (insert into dashboards (name, description, owner_id, widgets) values ($1, $2, $3, $4::jsonb) returning id)
         insert into dashboard_shares (dashboard_id, role_id) select d.id, r.id from d, roles r where r.name = any ($5::text[])`,
        [d.name, d.description, ownerId, JSON.stringify(widgets), d.shares],
      );
    }
    await db.query('commit');
    return { events: rowCount ?? 0, dashboards: DASHBOARDS.length };
  } catch (error) {
    await db.query('rollback').catch(() => {});
    throw error;
  } finally {
    await db.end();
  }
}
