/**
 * Passkeys (contract §17) end to end in a real Chromium, on the console's `localhost` origin (browsers refuse WebAuthn
 * on an IP address): Chromium's virtual authenticator (DevTools protocol `WebAuthn.addVirtualAuthenticator`, a
 * platform authenticator with user verification) answers the real ceremonies. Register from My account, sign out,
 * sign in with the passkey, remove it.
 */
import type { Browser, CDPSession, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { ensureAdmin } from '../../scripts/admin/ensure-admin';
import { query, startLiveStack, type LiveStack } from '../../scripts/dev/live-stack';
import { checkPage, closePages, launch, open, signIn } from './browser';

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
