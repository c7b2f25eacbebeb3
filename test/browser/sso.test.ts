/**
 * Single sign-on (contract §18) end to end in a real browser: the console's "Sign in with …" button, the real
 * OpenID provider's own login page (oidc-provider, scripts/stand-ins/oidc/provider.ts), the callback page's exchange,
 * the signed-in console. Nothing but the provider's own pages may leave the console's origin.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { startOidcProvider, type LocalOidcProvider } from '../../scripts/stand-ins/oidc/provider';
import { query, startLiveStack, type LiveStack } from '../../scripts/dev/live-stack';
import { checkPage, closePages, launch, open } from './browser';

let provider: LocalOidcProvider;
let stack: LiveStack;
let browser: Browser;

beforeAll(async () => {
  provider = await startOidcProvider({ clientId: 'local' });
  const providers = [{
    id: 'local', name: 'Company SSO', issuer: provider.issuer, clientId: 'local',
    allowedDomains: ['console.test'], createAccounts: true, roles: ['analyst'],
  }];
  [stack, browser] = await Promise.all([
    startLiveStack({ OIDC_PROVIDERS: JSON.stringify(providers), OIDC_LOCAL_CLIENT_SECRET: provider.clientSecret }),
    launch(),
  ]);
}, 120_000);
afterEach(closePages);
afterAll(async () => {
  await browser?.close();
  await stack?.close();
  await provider?.close();
});

/** The page, with every address it went through (no token may ride in any of them). */
async function watched() {
  const { page, faults } = await open(browser, stack.url);
  const urls: string[] = [];
  page.on('request', (r) => urls.push(r.url()));
  const outside = () => faults.filter((f) => !f.startsWith(`request to ${provider.issuer}/`));
  return { page, urls, outside };
}

async function throughProvider(page: Page, email: string) {
  await page.goto(`${stack.url}/console/sign-in?next=${encodeURIComponent('/console/account')}`);
  await page.getByRole('link', { name: 'Sign in with Company SSO' }).click();
  // The provider's own login page.
  await page.waitForURL(`${provider.issuer}/interaction/**`);
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

it('signs in through the real provider: a new account in an allowed domain, with the roles configured', async () => {
  const { page, urls, outside } = await watched();
  const email = `sso-${Date.now()}@console.test`;
  await throughProvider(page, email);
  await page.getByRole('banner').getByRole('button', { name: 'Sign out' }).waitFor();
  await page.waitForURL(`${stack.url}/console/account`);
  await expect.poll(() => page.getByText(email).count()).toBeGreaterThan(0);
  // The one-time code left the address bar; no access or refresh token was ever in an address.
  expect(page.url()).not.toContain('code=');
  const refresh = await page.evaluate('sessionStorage.getItem("dashboard.refresh")');
  expect(typeof refresh).toBe('string');
  expect(urls.filter((u) => u.includes(refresh as string))).toEqual([]);
  expect(urls.some((u) => u.startsWith(`${stack.url}/console/sso-callback?`) && u.includes('code='))).toBe(true);
  expect(outside()).toEqual([]);
  const [user] = await query(stack.databaseUrl, `select u.email_verified, array(select r.name from users_roles ur join roles r on r.id = ur.role_id where ur.user_id = u.id) as roles
    from users u where email = $1`, [email]);
  expect(user).toEqual({ email_verified: true, roles: ['analyst'] });
  const [login] = await query(stack.databaseUrl, `select details from audit_events where action = 'auth.login' and actor_id = (select id from users where email = $1)`, [email]);
  expect(login.details).toMatchObject({ method: 'oidc', provider: 'local' });
});

it('a refusal comes back to the console as a message: a domain the provider may not sign in', async () => {
  const { page, outside } = await watched();
  await throughProvider(page, `someone-${Date.now()}@elsewhere.test`);
  await page.waitForURL(`${stack.url}/console/sso-callback**`);
  await page.getByRole('alert').filter({ hasText: 'Accounts of your email domain cannot sign in with this provider.' }).waitFor();
  await checkPage(page, 'sso-refused');
  await page.getByRole('link', { name: 'Back to sign-in' }).click();
  await page.getByRole('link', { name: 'Sign in with Company SSO' }).waitFor();
  expect(outside()).toEqual([]);
});

it('the sign-in page shows one button per provider, accessibly', async () => {
  const { page } = await watched();
  await page.goto(`${stack.url}/console/sign-in`);
  await page.getByRole('link', { name: 'Sign in with Company SSO' }).waitFor();
  await checkPage(page, 'sso-sign-in');
});
