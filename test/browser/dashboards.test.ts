/**
 * The Dashboards pages in a real browser against a live stack: a viewer sees the figures of a dashboard shared with
 * their role (and no way to edit it), two people editing one dashboard (the second save gets the conflict message and
 * a reload), axe on both pages, screenshots (light, 1280×800) into docs/screenshots/, and the time until every widget
 * is painted (logged by the page, printed here; not asserted).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureAdmin } from '../../scripts/admin/ensure-admin';
import { projectRoot } from '../../scripts/dev/migrate';
import { startLiveStack, type LiveStack } from '../../scripts/dev/live-stack';
import { callApi, closePages, expectAccessible, launch, open, signIn, type ApiInit } from './browser';

const PW = 'correct horse battery staple';
const ADMIN = { email: 'admin@dashboards.test', name: 'Dash Admin' };
let stack: LiveStack;
let browser: Browser;
let url: string;
let admin: string;

const api = (path: string, init: ApiInit = {}) => callApi(url, path, init);

async function person(roles: string[]) {
  const email = `${roles[0]}-${Date.now()}-${Math.random().toString(36).slice(2, 6)}@dashboards.test`;
  const made = await api('/v1/users', { method: 'POST', token: admin, body: JSON.stringify({ name: `A ${roles[0]}`, email, password: PW, roles }) });
  expect(made.status).toBe(201);
  return email;
}

const views = (event: string) => ({ kind: 'trends', series: [{ event, math: 'total' }], interval: 'day', last: { count: 14, unit: 'day' } });
const WIDGETS = [
  { title: 'Reports viewed', viz: 'number', query: views('report.viewed'), layout: { x: 0, y: 0, w: 3, h: 2 } },
  { title: 'Sign-ups', viz: 'number', query: views('signup'), layout: { x: 3, y: 0, w: 3, h: 2 } },
  { title: 'Views per day', viz: 'line', query: views('report.viewed'), layout: { x: 6, y: 0, w: 6, h: 4 } },
  { title: 'Activation funnel', viz: 'funnel', query: { kind: 'funnel', steps: [{ event: 'signup' }, { event: 'report.viewed' }, { event: 'report.shared' }], windowSeconds: 7 * 86400, last: { count: 30, unit: 'day' } } },
  { title: 'Sign-ups per day', viz: 'bar', query: views('signup') },
  { title: 'Weekly retention', viz: 'retention', query: { kind: 'retention', startEvent: 'signup', interval: 'week', last: { count: 6, unit: 'week' } }, layout: { x: 0, y: 8, w: 12, h: 4 } },
];

beforeAll(async () => {
  [stack, browser] = await Promise.all([startLiveStack(), launch()]);
  url = stack.url;
  await ensureAdmin(stack.databaseUrl, { ...ADMIN, password: PW }, 'N=1024,r=8,p=1');
  admin = (await api('/v1/auth/login', { method: 'POST', body: JSON.stringify({ email: ADMIN.email, password: PW }) })).body.accessToken;
  // A few weeks of events of one source, straight into the store (ingestion has its own tests).
  const db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
  try {
    await db.query(`
      with s as (insert into sources (name) values ('Web app') returning id), people as (select g as n from generate_series(1, 120) g)
      insert into events (source_id, event, distinct_id, timestamp, received_at)
      select s.id, e.event, 'u' || p.n, now() - ((p.n % 35) || ' days')::interval + e.after, now()
      from s, people p, lateral (values ('signup', interval '0'), ('report.viewed', interval '1 hour'), ('report.shared', interval '2 days')) e(event, after)
      where e.event <> 'report.shared' or p.n % 3 = 0`);
  } finally {
    await db.end();
  }
}, 180_000);
afterEach(closePages);
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

describe('Dashboards', () => {
  it('a viewer sees the figures of a dashboard shared with their role, and cannot edit it', async () => {
    const made = await api('/v1/dashboards', { method: 'POST', token: admin, body: JSON.stringify({ name: 'Activation', shares: ['viewer'], widgets: WIDGETS }) });
    expect(made.status).toBe(201);
    const viewer = await person(['viewer']);
    const { page, faults } = await open(browser, url, { width: 1280, height: 800 });
    await signIn(page, url, viewer, PW);
    const painted = new Promise<string>((resolve) => page.on('console', (m) => m.text().startsWith('dashboard painted') && resolve(m.text())));
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboards' }).click();
    await page.getByRole('link', { name: 'Activation' }).click();
    console.log(`Dashboards page (${WIDGETS.length} widgets), after navigation: ${await painted}`);
    await expect.poll(() => page.locator('.big-number').count()).toBe(2);
    expect(await page.locator('.big-number').first().textContent()).toMatch(/^\d+$/);
    await page.locator('.funnel progress').first().waitFor();
    expect(await page.getByRole('button', { name: 'Save changes' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Overview' }).count()).toBe(0);
    await expectAccessible(page, 'dashboard');
    mkdirSync(join(projectRoot, 'docs', 'screenshots'), { recursive: true });
    await page.screenshot({ path: join(projectRoot, 'docs', 'screenshots', 'dashboard.png') });
    await page.goto(`${url}/console/dashboards`);
    await page.getByRole('link', { name: 'Activation' }).waitFor();
    await expectAccessible(page, 'dashboards');
    await page.screenshot({ path: join(projectRoot, 'docs', 'screenshots', 'dashboards.png') });
    expect(faults).toEqual([]);
  });

  it('two people edit one dashboard: the second save gets the conflict message and can reload', async () => {
    const made = await api('/v1/dashboards', { method: 'POST', token: admin, body: JSON.stringify({ name: 'Shared edit', widgets: WIDGETS.slice(0, 2) }) });
    const path = `${url}/console/dashboards/${made.body.id}`;
    const [one, two] = [await open(browser, url), await open(browser, url)];
    for (const { page } of [one, two]) {
      await signIn(page, url, ADMIN.email, PW);
      await page.goto(path);
      await page.getByRole('button', { name: 'Save changes' }).waitFor();
    }
    await one.page.getByRole('button', { name: 'Remove' }).first().click();
    await one.page.getByRole('button', { name: 'Save changes' }).click();
    await one.page.getByText('Saved.').waitFor();
    await two.page.getByRole('button', { name: 'Move Sign-ups earlier' }).click();
    await two.page.getByRole('button', { name: 'Save changes' }).click();
    await two.page.getByText('Someone else saved this dashboard').waitFor();
    await two.page.getByRole('button', { name: 'Reload' }).click();
    await expect.poll(() => two.page.locator('.widget').count()).toBe(1);
    const now = await api(`/v1/dashboards/${made.body.id}`, { token: admin });
    expect(now.body).toMatchObject({ version: 2, widgets: [{ title: 'Sign-ups' }] });
    expect([...one.faults, ...two.faults]).toEqual([]);
  });
});
