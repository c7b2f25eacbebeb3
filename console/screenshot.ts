/**
 * The README's picture of the overview: a live stack with a year of demo data, the console signed in as the demo
 * admin, one PNG written to docs/console-overview.png. Run by hand: `npx tsx console/screenshot.ts`.
 */
import { join } from 'node:path';
import { projectRoot } from '../scripts/dev/migrate';
import { seed } from '../scripts/seed/seed';
import { launch } from '../test/browser/browser';
import { startLiveStack } from '../scripts/dev/live-stack';
import { buildConsole } from './build';

await buildConsole();
const stack = await startLiveStack();
const browser = await launch();
try {
  const demo = await seed(stack.databaseUrl, { users: 3000, events: 60000, hashParams: 'N=1024,r=8,p=1' });
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' })).newPage();
  await page.goto(`${stack.url}/console/sign-in`);
  await page.getByLabel('Email').fill(demo.adminEmail);
  await page.getByLabel('Password').fill(demo.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  await page.goto(`${stack.url}/console/?days=90&tz=UTC`);
  await page.locator('.chart canvas').first().waitFor();
  await page.waitForTimeout(1500);
  await page.screenshot({ path: join(projectRoot, 'docs', 'console-overview.png'), fullPage: false });
} finally {
  await browser.close();
  await stack.close();
}
