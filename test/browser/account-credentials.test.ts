/**
 * The credentials a person manages on My account, in a real Chromium.
 *
 * Passkeys (contract §17) end to end in a real Chromium, on the console's `localhost` origin (browsers refuse WebAuthn
 * on an IP address): Chromium's virtual authenticator (DevTools protocol `WebAuthn.addVirtualAuthenticator`, a
 * platform authenticator with user verification) answers the real ceremonies. Register from My account, sign out,
 * sign in with the passkey, remove it.
 *
 * API keys (§16): create one with some of the permissions held now (the picker offers no other), the key shown once
 * and usable at once for what it carries, revoked from the console and refused from the next request; an
 * administrator revokes someone else's key on their user page.
 */
import { createHash } from 'node:crypto';
import type { Browser, CDPSession, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureAdmin } from '../../scripts/admin/ensure-admin';
import { query, startLiveStack, type LiveStack } from '../../scripts/dev/live-stack';
import { callApi, checkPage, closePages, launch, open, signIn, type ApiInit } from './browser';

const PW = 'correct horse battery staple';
const USER = { email: 'passkeys@console.test', name: 'Passkey Person' };
let stack: LiveStack;
let browser: Browser;
let origin: string;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startLiveStack(), launch()]);
  // The same Worker on the name browsers allow WebAuthn on; the relying party follows the request (npm run dev).
  origin = stack.url.replace('127.0.0.1', 'localhost');
  await ensureAdmin(stack.databaseUrl, { ...USER, password: PW }, 'N=1024,r=8,p=1');
}, 120_000);
afterEach(closePages);
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

/** A platform authenticator that holds discoverable credentials and verifies its user without a prompt. */
async function virtualAuthenticator(page: Page): Promise<{ cdp: CDPSession; id: string }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', ctap2Version: 'ctap2_1', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return { cdp, id: authenticatorId };
}

it('registers a passkey, signs out, signs in with it, and removes it', async () => {
  const { page, faults } = await open(browser, origin);
  const { cdp, id } = await virtualAuthenticator(page);
  await signIn(page, origin, USER.email, PW);

  await page.goto(`${origin}/console/account`);
  const panel = page.locator('#passkeys');
  await panel.getByText('No passkeys yet.').waitFor();
  await panel.getByLabel('Passkey name').fill('Virtual laptop');
  await panel.getByRole('button', { name: 'Add a passkey' }).click();
  await panel.getByText('Passkey added.').waitFor();
  await panel.getByText('Virtual laptop', { exact: true }).waitFor();
  // The authenticator holds one discoverable credential for localhost, and the server stored it.
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId: id });
  expect(credentials).toHaveLength(1);
  expect(credentials[0]).toMatchObject({ isResidentCredential: true, rpId: 'localhost' });
  const [stored] = await query(stack.databaseUrl, "select p.name, p.transports from passkeys p join users u on u.id = p.user_id where u.email = $1", [USER.email]);
  expect(stored).toMatchObject({ name: 'Virtual laptop' });
  await checkPage(page, 'passkeys-account');

  await page.getByRole('banner').getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in with a passkey' }).waitFor();
  await checkPage(page, 'passkeys-sign-in');
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await page.getByRole('banner').getByRole('button', { name: 'Sign out' }).waitFor();
  // The session the passkey opened: amr ["pop","mfa"]; the counter moved on.
  const [session] = await query(stack.databaseUrl, "select s.amr from sessions s join users u on u.id = s.user_id where u.email = $1 order by s.created_at desc limit 1", [USER.email]);
  expect(session.amr).toEqual(['pop', 'mfa']);

  await page.goto(`${origin}/console/account`);
  await panel.getByText('Virtual laptop', { exact: true }).waitFor();
  await panel.getByRole('button', { name: 'Remove' }).click();
  await page.getByRole('dialog', { name: 'Remove' }).getByRole('button', { name: 'Remove' }).click();
  await panel.getByText('Passkey removed.').waitFor();
  await panel.getByText('No passkeys yet.').waitFor();
  expect(await query(stack.databaseUrl, 'select 1 from passkeys p join users u on u.id = p.user_id where u.email = $1', [USER.email])).toEqual([]);

  // The authenticator still holds it, but the server no longer knows it: signing in with it is refused.
  await page.getByRole('banner').getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/passkey could not be verified/);
  expect(faults).toEqual([]);
});

const call = (path: string, token: string, init: ApiInit = {}) => callApi(origin, path, { ...init, token });
const login = async (email: string): Promise<string> =>
  (await callApi(origin, '/v1/auth/login', { method: 'POST', body: JSON.stringify({ email, password: PW }) })).body.accessToken;

describe('API keys', () => {
  it('creates a key with one of my permissions, shows it once, and revokes it', async () => {
    const { page, faults } = await open(browser, origin);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
    await signIn(page, origin, USER.email, PW);
    await page.goto(`${origin}/console/account`);
    const panel = page.locator('#api-keys');
    await panel.getByText('No API keys yet.').waitFor();
    await panel.getByLabel('Key name').fill('Nightly export');
    await panel.getByRole('checkbox', { name: /^stats:read/ }).check();
    await panel.getByLabel('Valid until (optional)').fill('2030-06-30');
    await panel.getByRole('button', { name: 'Create an API key' }).click();
    const key = await panel.getByLabel('The new API key').inputValue();
    expect(key).toMatch(/^dak_[0-9A-Za-z]{49}$/);
    await panel.getByRole('button', { name: 'Copy' }).click();
    await panel.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(key);
    await panel.getByText('Nightly export', { exact: true }).waitFor();
    await checkPage(page, 'api-keys-account');

    // Stored as a hash with what was picked; the end of the chosen day in the browser's zone.
    const [row] = await query(stack.databaseUrl, "select k.prefix, k.permissions, k.expires_at, encode(k.key_hash, 'hex') as hash from api_keys k join users u on u.id = k.user_id where u.email = $1", [USER.email]);
    expect(row.permissions).toEqual(['stats:read']);
    expect(key.startsWith(row.prefix)).toBe(true);
    expect(row.hash).toBe(createHash('sha256').update(key).digest('hex'));
    expect(new Date(row.expires_at).getUTCFullYear()).toBe(2030);
    // The key does what it carries and nothing else.
    expect((await call('/v1/stats/overview?days=7', key)).status).toBe(200);
    expect((await call('/v1/users', key)).status).toBe(403);
    expect((await call('/v1/me', key)).status).toBe(403);

    // Never shown again: after a reload only its prefix is listed.
    await page.reload();
    await panel.getByText('Nightly export', { exact: true }).waitFor();
    expect(await panel.getByLabel('The new API key').count()).toBe(0);
    expect(await panel.textContent()).not.toContain(key);
    await panel.getByText(`${row.prefix}…`).waitFor();

    await panel.getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('dialog', { name: 'Revoke' }).getByRole('button', { name: 'Revoke' }).click();
    await panel.getByText('API key revoked.').waitFor();
    await panel.getByText('No API keys yet.').waitFor();
    expect((await call('/v1/stats/overview?days=7', key)).status).toBe(401);
    expect(faults).toEqual([]);
  });

  it('offers only the permissions a person holds, and an administrator revokes their key on the user page', async () => {
    const admin = await login(USER.email);
    const email = `analyst-${Date.now()}@console.test`;
    const made = await call('/v1/users', admin, { method: 'POST', body: JSON.stringify({ name: 'Key Analyst', email, password: PW, roles: ['analyst'] }) });
    expect(made.status).toBe(201);
    const analyst = await login(email);
    const held: string[] = (await call('/v1/me', analyst)).body.permissions;
    expect(held).toContain('stats:read');
    expect(held).not.toContain('users:write');

    const { page, faults } = await open(browser, origin);
    await signIn(page, origin, email, PW);
    await page.goto(`${origin}/console/account`);
    const mine = page.locator('#api-keys');
    await mine.getByText('No API keys yet.').waitFor();
    const offered = await mine.getByRole('checkbox').evaluateAll((boxes) => boxes.map((b) => b.getAttribute('name')!.replace('key-perm-', '')));
    expect(offered.sort()).toEqual([...held].sort());
    const created = await call('/v1/me/api-keys', analyst, { method: 'POST', body: JSON.stringify({ name: 'BI tool', permissions: ['stats:read'] }) });
    expect(created.status).toBe(201);
    await closePages();

    const { page: adminPage, faults: adminFaults } = await open(browser, origin);
    await signIn(adminPage, origin, USER.email, PW);
    await adminPage.goto(`${origin}/console/users/${made.body.id}`);
    const theirs = adminPage.locator('#user-api-keys');
    await theirs.getByText('BI tool', { exact: true }).waitFor();
    await checkPage(adminPage, 'api-keys-user');
    await theirs.getByRole('button', { name: 'Revoke' }).click();
    await adminPage.getByRole('dialog', { name: 'Revoke' }).getByRole('button', { name: 'Revoke' }).click();
    await theirs.getByText('API key revoked.').waitFor();
    await theirs.getByText('No API keys yet.').waitFor();
    const [revoked] = await query(stack.databaseUrl, 'select revoked_at from api_keys where id = $1', [created.body.id]);
    expect(revoked.revoked_at).not.toBeNull();
    expect((await call('/v1/stats/overview?days=7', created.body.key)).status).toBe(401);
    expect([...faults, ...adminFaults]).toEqual([]);
  });
});
