/**
 * The console in a real browser against a live stack (wrangler dev + PostgreSQL): what a person sees and can do.
 * One stack and one browser for the file; each test signs in on its own page (its own tab storage).
 */
import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureAdmin } from '../../scripts/admin/ensure-admin';
import { startLiveStack, type LiveStack } from '../../scripts/dev/live-stack';
import { callApi, checkPage, closePages, launch, open, screenshots, signIn, type ApiInit } from './browser';
import { totp } from './totp';

const PW = 'correct horse battery staple';
const ADMIN = { email: 'admin@console.test', name: 'Console Admin' };
let stack: LiveStack;
let browser: Browser;
let url: string;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startLiveStack(), launch()]);
  url = stack.url;
  await ensureAdmin(stack.databaseUrl, { ...ADMIN, password: PW }, 'N=1024,r=8,p=1');
}, 120_000);
afterEach(closePages);
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

// The root program has no browser typings: code run in the page is given as expressions (page.evaluate strings).
const api = (path: string, init: ApiInit = {}) => callApi(url, path, init);
const adminToken = async () => (await api('/v1/auth/login', { method: 'POST', body: JSON.stringify({ email: ADMIN.email, password: PW }) })).body.accessToken as string;
/** The newest link to `page` in the dev mailbox of `to` (delivery happens after the response: poll). */
async function mailedLink(to: string, page: string): Promise<string> {
  const pattern = new RegExp(`https?://[^\\s"'<>]+/console/${page}\\?token=[A-Za-z0-9_-]+`);
  for (let i = 0; i < 50; i++) {
    const box = await api(`/v1/dev/mailbox?to=${encodeURIComponent(to)}`);
    const found = (box.body?.data ?? []).map((m: { text: string }) => m.text.match(pattern)?.[0]).find(Boolean);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no ${page} link mailed to ${to}`);
}
let serial = 0;
const email = (tag: string) => `${tag}-${Date.now()}-${++serial}@console.test`;

describe('what the Worker serves around the console (§12)', () => {
  it('/ redirects to the console; its pages fall back to index.html with the CSP; every other unknown path is a problem', async () => {
    const root = await fetch(`${url}/`, { redirect: 'manual' });
    expect([root.status, root.headers.get('location')]).toEqual([302, '/console/']);
    for (const path of ['/console/', '/console/users/42', '/console/account']) {
      const res = await fetch(url + path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("default-src 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(await res.text()).toMatch(/<script type="module" src="\/console\/assets\/app-[A-Z0-9]+\.js"><\/script>/);
    }
    for (const path of ['/nope', '/console-nope', '/console/assets/missing.js', '/docs/', '/docs/missing.js']) {
      const res = await fetch(url + path);
      expect([res.status, res.headers.get('content-type')], path).toEqual([404, 'application/problem+json']);
    }
    const docs = await fetch(`${url}/docs`);
    expect(docs.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await docs.text()).not.toMatch(/https?:\/\//);
    expect((await fetch(`${url}/docs/scalar.js`)).status).toBe(200);
  });
});

describe('sign-in and the overview', () => {
  it('signs in, draws the overview, and reports the time to drawn', async () => {
    const { page, faults } = await open(browser, url);
    await page.goto(`${url}/console/`);
    await expect.poll(() => page.url()).toContain('/console/sign-in');
    await checkPage(page, 'sign-in');
    await signIn(page, url, ADMIN.email, PW);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.locator('.chart canvas').first().waitFor();
    // Time from navigation start to the first chart drawn, on a fresh load of the page (token kept in this tab).
    await page.reload();
    await page.locator('.chart canvas').first().waitFor();
    const drawn = await page.evaluate<number>("performance.getEntriesByName('overview-drawn')[0]?.startTime ?? -1");
    console.log(`overview drawn ${Math.round(drawn)} ms after navigation (reload, signed in)`);
    expect(drawn).toBeGreaterThan(0);
    await expect.poll(() => page.locator('figcaption', { hasText: 'Sign-ups per day' }).count()).toBe(1);
    await checkPage(page, 'overview');
    expect(faults).toEqual([]);
  });

  it('a wrong password is a clear message and no session', async () => {
    const { page } = await open(browser, url);
    await signIn(page, url, ADMIN.email, 'not the password at all', { fails: true });
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/credentials are wrong/i);
    expect(await page.evaluate<number>('sessionStorage.length')).toBe(0);
  });

  it('period and time zone are kept in the URL; the overview reflects a new sign-up', async () => {
    const { page } = await open(browser, url);
    await signIn(page, url, ADMIN.email, PW);
    // The browser's zone by default (en-US context on this machine: its own zone, e.g. UTC).
    const zone = await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone);
    expect(await page.getByLabel('Time zone').inputValue()).toBe(zone);
    await page.getByLabel('Period').selectOption('7');
    await expect.poll(() => page.url()).toContain('days=7');
    await page.getByLabel('Time zone').selectOption('Pacific/Auckland');
    await expect.poll(() => page.url()).toContain('tz=Pacific%2FAuckland');
    await page.locator('figcaption', { hasText: 'Active users' }).waitFor();
    // Retention: one row per week of the last 12, the current week's cohort holding this test's admin.
    await expect.poll(() => page.locator('table.retention tbody tr').count()).toBe(12);
    const card = page.locator('.card', { hasText: 'New in period' }).locator('.card-value');
    const before = Number(await card.textContent());
    expect((await api('/v1/auth/register', { method: 'POST', body: JSON.stringify({ name: 'New Signup', email: email('signup'), password: PW }) })).status).toBe(201);
    await page.reload();
    await expect.poll(async () => Number(await page.locator('.card', { hasText: 'New in period' }).locator('.card-value').textContent())).toBe(before + 1);
    expect(page.url()).toContain('days=7');
    expect(await page.getByLabel('Time zone').inputValue()).toBe('Pacific/Auckland');
    await checkPage(page, 'overview-auckland');
  });
});

describe('email links (§9)', () => {
  it('invites a user, who accepts from the mailed link, sets a password and sees only what the role allows', async () => {
    const { page, faults } = await open(browser, url);
    await signIn(page, url, ADMIN.email, PW);
    await page.getByRole('link', { name: 'Users' }).first().click();
    const mail = email('invitee');
    await page.getByRole('button', { name: 'New user' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name', { exact: true }).fill('Ivy Invitee');
    await dialog.getByLabel('Email').fill(mail);
    expect(await dialog.getByLabel('Password', { exact: true }).count()).toBe(0);
    await dialog.getByRole('checkbox', { name: 'viewer' }).uncheck();
    await dialog.getByRole('checkbox', { name: 'analyst' }).check();
    await dialog.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('heading', { name: 'Ivy Invitee' }).waitFor();
    await page.getByText('Invited', { exact: true }).waitFor();

    const link = await mailedLink(mail, 'accept-invitation');
    expect(new URL(link).origin).toBe(url);
    const invitee = await open(browser, url);
    await invitee.page.goto(link);
    await invitee.page.getByRole('heading', { name: 'Accept the invitation' }).waitFor();
    await checkPage(invitee.page, 'accept-invitation');
    await invitee.page.getByLabel('New password').fill('short');
    await invitee.page.getByRole('button', { name: 'Create my account' }).click();
    expect(await invitee.page.getByRole('heading', { name: 'Accept the invitation' }).count()).toBe(1);
    await invitee.page.getByLabel('New password').fill(PW);
    await invitee.page.getByRole('button', { name: 'Create my account' }).click();
    await invitee.page.getByRole('banner').getByRole('button', { name: 'Sign out' }).waitFor();
    expect(await invitee.page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents()).toEqual(['Overview', 'Dashboards', 'Users', 'Roles', 'My account']);
    await invitee.page.getByRole('banner').getByRole('button', { name: 'Sign out' }).click();
    // The link is spent; the password works.
    await invitee.page.goto(link);
    await invitee.page.getByLabel('New password').fill(PW);
    await invitee.page.getByRole('button', { name: 'Create my account' }).click();
    await expect.poll(() => invitee.page.getByRole('alert').first().textContent()).toMatch(/Not signed in|credentials|link/i);
    await signIn(invitee.page, url, mail, PW);
    expect([...faults, ...invitee.faults]).toEqual([]);
  });

  it('resets a forgotten password from the mailed link', async () => {
    const token = await adminToken();
    const mail = email('forgetful');
    await api('/v1/users', { method: 'POST', token, body: JSON.stringify({ name: 'Forgetful', email: mail, password: PW }) });
    const { page, faults } = await open(browser, url);
    await page.goto(`${url}/console/sign-in`);
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.getByRole('heading', { name: 'Reset your password' }).waitFor();
    await checkPage(page, 'forgot-password');
    await page.getByLabel('Email').fill(mail);
    await page.getByRole('button', { name: 'Send the link' }).click();
    await page.getByText('If an account uses this email').waitFor();
    const link = await mailedLink(mail, 'reset-password');
    await page.goto(link);
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    await checkPage(page, 'reset-password');
    await page.getByLabel('New password').fill('a brand new passphrase');
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.getByText('Your password was changed').waitFor();
    await page.getByRole('link', { name: 'Sign in' }).click();
    await signIn(page, url, mail, 'a brand new passphrase');
    expect((await api('/v1/auth/login', { method: 'POST', body: JSON.stringify({ email: mail, password: PW }) })).status).toBe(401);
    expect(faults).toEqual([]);
  });
});

describe('second factor (§10)', () => {
  it('enrols with the QR code’s key, signs in with a code and with a recovery code; an admin resets it', { timeout: 120_000 }, async () => {
    const token = await adminToken();
    const mail = email('twostep');
    const created = await api('/v1/users', { method: 'POST', token, body: JSON.stringify({ name: 'Two Step', email: mail, password: PW }) });
    const { page, faults } = await open(browser, url);
    await signIn(page, url, mail, PW);
    const panel = page.locator('.panel', { has: page.getByRole('heading', { name: 'Two-step sign-in' }) });
    await panel.getByLabel('Current password').fill('not my password at all');
    await panel.getByRole('button', { name: 'Turn on' }).click();
    await expect.poll(() => panel.getByRole('alert').textContent()).toMatch(/wrong/i);
    await panel.getByLabel('Current password').fill(PW);
    await panel.getByRole('button', { name: 'Turn on' }).click();
    await page.getByRole('img', { name: /QR code/ }).waitFor();
    await checkPage(page, 'account-mfa-enrol');
    const secret = (await page.locator('code.secret').textContent())!.trim();
    await page.getByLabel('Authentication code').fill(totp(secret));
    await page.getByRole('button', { name: 'Confirm and turn on' }).click();
    await page.getByRole('list', { name: 'Recovery codes' }).waitFor();
    const codes = await page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem').allTextContents();
    expect(codes).toHaveLength(10);
    await page.getByRole('button', { name: 'I saved them' }).click();
    await page.getByText('On', { exact: true }).waitFor();

    // The next sign-in asks for a code (the next 30-second step: the one just used is spent).
    const second = await open(browser, url);
    await signIn(second.page, url, mail, PW, { fails: true });
    await second.page.getByLabel('Authentication code').waitFor();
    await checkPage(second.page, 'sign-in-code');
    await second.page.getByLabel('Authentication code').fill(totp(secret, Date.now(), 1));
    await second.page.getByRole('button', { name: 'Verify' }).click();
    await second.page.getByRole('banner').getByRole('button', { name: 'Sign out' }).waitFor();

    const third = await open(browser, url);
    await signIn(third.page, url, mail, PW, { fails: true });
    await third.page.getByRole('button', { name: 'Use a recovery code instead' }).click();
    await third.page.getByLabel('Recovery code').fill('wrong-code');
    await third.page.getByRole('button', { name: 'Verify' }).click();
    await expect.poll(() => third.page.getByRole('alert').first().textContent()).toMatch(/wrong|invalid|credentials/i);
    await third.page.getByLabel('Recovery code').fill(codes[0]!.trim());
    await third.page.getByRole('button', { name: 'Verify' }).click();
    await third.page.getByRole('banner').getByRole('button', { name: 'Sign out' }).waitFor();

    const admin = await open(browser, url);
    await signIn(admin.page, url, ADMIN.email, PW);
    await admin.page.goto(`${url}/console/users/${created.body.id}`);
    await admin.page.getByRole('button', { name: 'Reset two-step sign-in' }).click();
    await admin.page.getByRole('dialog').getByRole('button', { name: 'Reset two-step sign-in' }).click();
    await expect.poll(async () => (await api(`/v1/users/${created.body.id}`, { token })).body.mfaEnabled).toBe(false);
    expect([...faults, ...second.faults, ...third.faults, ...admin.faults]).toEqual([]);
  });
});

describe('users and roles', () => {
  it('creates a role with permissions, creates a user holding only it; that user sees only what the role allows', async () => {
    const { page, faults } = await open(browser, url);
    await signIn(page, url, ADMIN.email, PW);
    await page.getByRole('link', { name: 'Roles' }).click();
    await page.getByRole('heading', { name: 'Roles' }).waitFor();
    await checkPage(page, 'roles');
    const role = `ops${serial++}${Date.now() % 100000}`;
    await page.getByRole('button', { name: 'New role' }).click();
    const create = page.getByRole('dialog');
    await create.getByLabel('Role name').fill(role);
    await create.getByLabel('Description').fill('Operations');
    await create.getByRole('checkbox', { name: 'stats:read' }).check();
    await create.getByRole('checkbox', { name: 'users:read' }).check();
    await create.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('heading', { name: role }).waitFor();
    expect(await page.getByRole('checkbox', { name: 'stats:read' }).isChecked()).toBe(true);
    expect(await page.getByRole('checkbox', { name: 'audit:read' }).isChecked()).toBe(false);
    await checkPage(page, 'role');
    const token = await adminToken();
    expect((await api(`/v1/roles/${role}`, { token })).body.permissions).toEqual(['stats:read', 'users:read']);

    await page.getByRole('link', { name: 'Users' }).first().click();
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    const mail = email('operator');
    await page.getByRole('button', { name: 'New user' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name', { exact: true }).fill('Opal Erator');
    await dialog.getByLabel('Email').fill(mail);
    await dialog.getByLabel('Set a password now').check();
    await dialog.getByLabel('Password', { exact: true }).fill(PW);
    await dialog.getByRole('checkbox', { name: 'viewer' }).uncheck();
    await dialog.getByRole('checkbox', { name: role }).check();
    await dialog.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('heading', { name: 'Opal Erator' }).waitFor();
    await checkPage(page, 'user');
    const found = await api(`/v1/users?q=${encodeURIComponent(mail)}`, { token });
    expect(found.body.data[0].roles).toEqual([role]);

    const as = await open(browser, url);
    await signIn(as.page, url, mail, PW);
    await as.page.getByRole('heading', { name: 'Overview' }).waitFor();
    const nav = await as.page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents();
    expect(nav).toEqual(['Overview', 'Dashboards', 'Users', 'My account']);
    await as.page.getByRole('link', { name: 'Users' }).click();
    await as.page.getByRole('heading', { name: 'Users' }).waitFor();
    expect(await as.page.getByRole('button', { name: 'New user' }).count()).toBe(0);
    await as.page.goto(`${url}/console/audit`);
    await expect.poll(() => as.page.getByText('You are not allowed to do this.').count()).toBe(1);

    // Taking a permission away shows on the next page the user opens (decided by the API at request time).
    await api(`/v1/roles/${role}`, { method: 'PATCH', token, body: JSON.stringify({ permissions: ['users:read'] }) });
    await as.page.goto(`${url}/console/`);
    await as.page.getByRole('heading', { name: 'My account' }).waitFor();
    expect(await as.page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents()).toEqual(['Dashboards', 'Users', 'My account']);
    expect([...faults, ...as.faults]).toEqual([]);
  });

  it('searches, filters, sorts and pages through users', async () => {
    const token = await adminToken();
    const tag = `pager${Date.now()}`;
    for (let i = 0; i < 23; i++) {
      await api('/v1/users', { method: 'POST', token, body: JSON.stringify({ name: `${tag} ${String(i).padStart(2, '0')}`, email: email(tag), password: PW }) });
    }
    const { page } = await open(browser, url);
    await signIn(page, url, ADMIN.email, PW);
    await page.goto(`${url}/console/users?q=${tag}&sort=name`);
    await page.getByRole('cell', { name: `${tag} 00` }).waitFor();
    await checkPage(page, 'users');
    expect(await page.locator('tbody tr').count()).toBe(20);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('cell', { name: `${tag} 22` }).waitFor();
    expect(await page.locator('tbody tr').count()).toBe(3);
    await page.getByRole('button', { name: 'Previous' }).click();
    await page.getByRole('cell', { name: `${tag} 00` }).waitFor();
    await page.getByLabel('Sort').selectOption('-name');
    await expect.poll(() => page.locator('tbody tr').first().textContent()).toContain(`${tag} 22`);
    await page.getByLabel('Status').selectOption('true');
    await page.getByText('No user matches.').waitFor();
  });

  it('exports the filtered users to CSV and the audit log for a time range', async () => {
    const token = await adminToken();
    const tag = `csv${Date.now()}`;
    for (const name of ['=SUM(A1)', 'Plain Name']) {
      await api('/v1/users', { method: 'POST', token, body: JSON.stringify({ name: `${name} ${tag}`, email: email(tag), password: PW }) });
    }
    const { page, faults } = await open(browser, url);
    await signIn(page, url, ADMIN.email, PW);
    await page.goto(`${url}/console/users?q=${tag}&sort=name`);
    await page.getByRole('cell', { name: `Plain Name ${tag}` }).waitFor();
    const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    expect(file.suggestedFilename()).toBe('users.csv');
    const csv = readFileSync((await file.path())!, 'utf8').trim().split(/\r?\n/);
    expect(csv[0]).toBe('id,name,email,roles,disabled,createdAt,lastLoginAt');
    expect(csv).toHaveLength(3);
    // The formula is defused (a leading ') and every row is one of this test's users.
    expect(csv.slice(1).every((line) => line.includes(tag))).toBe(true);
    expect(csv.some((line) => line.includes(`'=SUM(A1) ${tag}`))).toBe(true);

    await page.goto(`${url}/console/audit?action=user.create`);
    await page.locator('tbody tr').first().waitFor();
    const [audit] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    const rows = readFileSync((await audit.path())!, 'utf8').trim().split(/\r?\n/);
    expect(rows[0]).toBe('id,at,actorId,action,targetType,targetId,ip,details');
    expect(rows.length).toBeGreaterThan(2);
    expect(rows.slice(1).every((line) => line.includes(',user.create,'))).toBe(true);
    expect(faults).toEqual([]);
  });

  it('disables and deletes a user after confirmation; an API refusal is shown as a message', async () => {
    const token = await adminToken();
    const created = await api('/v1/users', { method: 'POST', token, body: JSON.stringify({ name: 'Short Lived', email: email('short'), password: PW }) });
    const { page } = await open(browser, url);
    await signIn(page, url, ADMIN.email, PW);
    await page.goto(`${url}/console/users/${created.body.id}`);
    await page.getByRole('heading', { name: 'Short Lived' }).waitFor();
    await page.getByRole('button', { name: 'Disable' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Disable' }).click();
    await page.getByRole('button', { name: 'Enable' }).waitFor();
    expect((await api(`/v1/users/${created.body.id}`, { token })).body.disabled).toBe(true);
    // Taken email: the API's 409 becomes a sentence under the form.
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect.poll(() => page.getByRole('alert').first().textContent()).toMatch(/conflicts/i);
    await page.getByRole('button', { name: 'Delete user' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete user' }).click();
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    expect((await api(`/v1/users/${created.body.id}`, { token })).status).toBe(404);
  });
});

describe('audit, account, language, docs', () => {
  it('filters the audit log and shows an event’s details', async () => {
    const token = await adminToken();
    await api('/v1/roles', { method: 'POST', token, body: JSON.stringify({ name: `audited${Date.now()}`, description: 'For the audit page' }) });
    const { page } = await open(browser, url);
    await signIn(page, url, ADMIN.email, PW);
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByLabel('Action').selectOption('role.create');
    await expect.poll(() => page.url()).toContain('action=role.create');
    await expect.poll(async () => [...new Set(await page.locator('tbody td code').allTextContents())]).toEqual(['role.create']);
    await page.getByText('Show').first().click();
    await checkPage(page, 'audit');
  });

  it('changes the name and the password from my account; sessions are listed', async () => {
    const token = await adminToken();
    const mail = email('self');
    await api('/v1/users', { method: 'POST', token, body: JSON.stringify({ name: 'Self Service', email: mail, password: PW }) });
    const { page } = await open(browser, url);
    await signIn(page, url, mail, PW);
    await page.getByRole('heading', { name: 'My account' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Self Renamed');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Self Renamed').first().waitFor();
    const pw = page.locator('.panel', { has: page.getByRole('heading', { name: 'Password', exact: true }) });
    await pw.getByLabel('Current password').fill('wrong wrong wrong');
    await pw.getByLabel('New password').fill('an even longer passphrase');
    await pw.getByRole('button', { name: 'Change password' }).click();
    await expect.poll(() => pw.getByRole('alert').textContent()).toMatch(/wrong/i);
    await pw.getByLabel('Current password').fill(PW);
    await pw.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Password changed.').waitFor();
    await page.getByText('this one').waitFor();
    await checkPage(page, 'account');
    const login = await api('/v1/auth/login', { method: 'POST', body: JSON.stringify({ email: mail, password: 'an even longer passphrase' }) });
    expect(login.status).toBe(200);
  });

  it('switches to French and keeps the choice', async () => {
    const { page } = await open(browser, url);
    await signIn(page, url, ADMIN.email, PW);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByLabel('Language').selectOption('fr');
    await page.getByRole('heading', { name: 'Vue d’ensemble' }).waitFor();
    expect(await page.evaluate<string>('document.documentElement.lang')).toBe('fr');
    await page.reload();
    await page.getByRole('heading', { name: 'Vue d’ensemble' }).waitFor();
    await checkPage(page, 'overview-fr');
  });

  it('is usable from the keyboard alone: sign in with Tab and Enter, reach every link of the navigation', async () => {
    const { page } = await open(browser, url);
    await page.goto(`${url}/console/sign-in`);
    await page.getByLabel('Email').waitFor();
    const focused = async () => page.evaluate<string>("document.activeElement?.getAttribute('name') ?? document.activeElement?.textContent ?? ''");
    const tabTo = async (target: string) => {
      for (let i = 0; i < 15; i++) {
        await page.keyboard.press('Tab');
        if ((await focused()) === target) return;
      }
      throw new Error(`${target} is not reachable with Tab`);
    };
    await tabTo('email');
    await page.keyboard.type(ADMIN.email);
    await tabTo('password');
    await page.keyboard.type(PW);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    for (const link of ['Users', 'Roles', 'Audit log', 'My account']) await tabTo(link);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'My account' }).waitFor();
  });

  it('/docs renders the API reference with nothing but this origin', async () => {
    const { page, faults } = await open(browser, url);
    await page.goto(`${url}/docs`);
    await page.getByText('Dashboard Analytics API').first().waitFor({ timeout: 20_000 });
    await page.waitForTimeout(1000);
    expect(faults).toEqual([]);
    // Scalar's own markup (a large DOM) is photographed, not audited: its accessibility is the vendor's.
    await screenshots(page, 'docs');
  });
});
