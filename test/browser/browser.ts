/**
 * A real Chromium for the console's tests: CHROMIUM_PATH when set (an installed Chrome or Chromium), otherwise the
 * one the npm package @sparticuz/chromium unpacks (Linux x64). Every page records what a reader of the console
 * must never see: requests to another origin, Content-Security-Policy violations and uncaught errors.
 */
import { AxeBuilder } from '@axe-core/playwright';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { projectRoot } from '../../scripts/dev/migrate';

export const SCREENS = join(projectRoot, 'test-results', 'screens');

export async function launch(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH ?? (await (await import('@sparticuz/chromium')).default.executablePath());
  // Not the package's own flags: they are for AWS Lambda (one process, web security off), and a test of the
  // console's Content-Security-Policy needs the browser's ordinary security. No sandbox: CI runs as root.
  // HEADED=1 with CHROMIUM_PATH of a desktop Chrome shows the window (the packaged Chromium is headless only).
  const headless = process.env.HEADED !== '1';
  return chromium.launch({ executablePath, args: ['--no-sandbox', '--font-render-hinting=none'], headless, slowMo: headless ? 0 : 100 });
}

export interface Watched {
  page: Page;
  /** Requests that left the console's origin, CSP violations, page errors: all must stay empty. */
  faults: string[];
}

const contexts: BrowserContext[] = [];

/** Closes every page opened since the last call (after each test: a 2-core CI machine has no memory to spare). */
export async function closePages() {
  await Promise.all(contexts.splice(0).map((c) => c.close()));
}

export async function open(browser: Browser, origin: string, size = { width: 1280, height: 860 }): Promise<Watched> {
  const context = await browser.newContext({ viewport: size, locale: 'en-US', acceptDownloads: true });
  contexts.push(context);
  const page = await context.newPage();
  const faults: string[] = [];
  page.on('request', (r) => {
    const url = r.url();
    if (!url.startsWith(origin) && !url.startsWith('data:') && !url.startsWith('blob:')) faults.push(`request to ${url}`);
  });
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) faults.push(`csp: ${m.text()}`);
  });
  page.on('pageerror', (e) => faults.push(`error: ${e.message}`));
  return { page, faults };
}

/** axe-core on the page as it is: no serious or critical violation. */
export async function expectAccessible(page: Page, name: string) {
  const result = await new AxeBuilder({ page }).analyze();
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad.map((v) => `${name}: ${v.id} (${v.impact}) ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
}

/** A screenshot at desktop width and at a phone's, for the reader of the pull request (git-ignored folder). */
export async function screenshots(page: Page, name: string) {
  mkdirSync(SCREENS, { recursive: true });
  const size = page.viewportSize()!;
  await page.screenshot({ path: join(SCREENS, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(150);
  await page.screenshot({ path: join(SCREENS, `${name}-mobile.png`), fullPage: true });
  await page.setViewportSize(size);
}

/** Every page check in one: accessible, photographed. */
export async function checkPage(page: Page, name: string) {
  await expectAccessible(page, name);
  await screenshots(page, name);
}

/** Signs in through the form; unless told it should fail, waits until the console shows the signed-in shell. */
export async function signIn(page: Page, origin: string, email: string, password: string, { fails = false } = {}) {
  await page.goto(`${origin}/console/sign-in`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  if (!fails) await page.getByRole('banner').getByRole('button', { name: 'Sign out' }).waitFor();
}

export type ApiInit = RequestInit & { token?: string; body?: string };

/** A JSON call to the API the console talks to (test set-up and checks beside the browser): status and parsed body. */
export async function callApi(origin: string, path: string, init: ApiInit = {}): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const res = await fetch(origin + path, { ...init, headers });
  return { status: res.status, body: res.status === 204 ? null : await res.json().catch(() => null) };
}
