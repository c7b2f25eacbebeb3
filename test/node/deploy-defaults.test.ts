/**
 * Deploy defaults (wrangler.toml) are the safe ones, `npm run dev` opens what it needs locally, and a remote
 * DATABASE_URL given to `npm run dev` is neither written to nor remembered.
 */
import { unstable_readConfig } from 'wrangler';
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadConfig, type Bindings } from '../../src/env';
import { devPlan, isLoopbackUrl, LOCAL_OVERRIDES, varsToSave } from '../../scripts/dev/plan';
import { generateCursorSecret, generateSigningKey } from '../../scripts/dev/keys';
import { projectRoot } from '../../scripts/dev/migrate';

const deployed = unstable_readConfig({ config: join(projectRoot, 'wrangler.toml') });
const secrets = async () => ({ DATABASE_URL: 'postgres://u:p@db.example.com/app', JWT_PRIVATE_KEY: await generateSigningKey(), CURSOR_SECRET: generateCursorSecret() });

describe('wrangler.toml (what `npm run deploy` ships)', () => {
  it('keeps sign-up closed and trusts only the header Cloudflare sets', async () => {
    const config = loadConfig({ ...(deployed.vars as Bindings), ...(await secrets()) });
    expect(config.ALLOW_SIGNUP).toBe(false);
    expect(config.TRUSTED_IP_HEADER).toBe('cf-connecting-ip');
    expect(config.INSECURE_PASSWORD_HASH_FOR_TESTS).toBe(false);
    expect(config.HIBP_ENABLED).toBe(true);
  });

  it('keeps the logs of the deployed Worker (Workers observability)', () => {
    expect(deployed.observability).toMatchObject({ enabled: true });
    expect(deployed.observability?.head_sampling_rate ?? 1).toBe(1);
  });

  it('ships no secret', () => {
    for (const key of ['DATABASE_URL', 'JWT_PRIVATE_KEY', 'CURSOR_SECRET']) expect(deployed.vars).not.toHaveProperty(key);
  });
});

describe('npm run dev', () => {
  it('opens sign-up and trusts no client-IP header locally', async () => {
    const config = loadConfig({ ...(deployed.vars as Bindings), ...(await secrets()), ...LOCAL_OVERRIDES });
    expect(config.ALLOW_SIGNUP).toBe(true);
    expect(config.TRUSTED_IP_HEADER).toBe('');
  });

  it.each([
    ['postgres://postgres:x@127.0.0.1:54329/dashboard', true],
    ['postgres://postgres:x@127.1.2.3/dashboard', true],
    ['postgres://postgres:x@localhost/dashboard', true],
    ['postgres://postgres:x@[::1]:5432/dashboard', true],
    ['postgres://u:p@ep-cool-name-123.eu-central-1.aws.neon.tech/neondb?sslmode=require', false],
    ['postgres://u:p@10.0.0.5/db', false],
    ['postgres://u:p@127.0.0.1.example.com/db', false],
    ['not a url', false],
  ])('%s is on loopback: %s', (url, loopback) => expect(isLoopbackUrl(url)).toBe(loopback));

  it('its own database, or one on loopback: the local admin is made and the URL kept', () => {
    expect(devPlan(undefined, [])).toEqual({ database: 'local', touchAccounts: true, persistUrl: true });
    expect(devPlan('postgres://p:x@127.0.0.1:5432/d', [])).toEqual({ database: 'loopback', touchAccounts: true, persistUrl: true });
  });

  it('a remote DATABASE_URL: no account touched unless --create-admin, and the URL is never saved', () => {
    const url = 'postgres://u:p@ep-x.neon.tech/neondb';
    expect(devPlan(url, [])).toEqual({ database: 'remote', touchAccounts: false, persistUrl: false });
    expect(devPlan(url, ['--create-admin'])).toEqual({ database: 'remote', touchAccounts: true, persistUrl: false });
    const saved = varsToSave({ JWT_PRIVATE_KEY: 'k', DATABASE_URL: url }, devPlan(url, ['--create-admin']));
    expect(saved).toEqual({ JWT_PRIVATE_KEY: 'k' });
  });

  it('drops a remote URL an older run saved, keeps a local one', () => {
    const local = devPlan(undefined, []);
    expect(varsToSave({ DATABASE_URL: 'postgres://u:p@db.example.com/x' }, local)).toEqual({});
    expect(varsToSave({ DATABASE_URL: 'postgres://u:p@127.0.0.1:1/x' }, local)).toEqual({ DATABASE_URL: 'postgres://u:p@127.0.0.1:1/x' });
  });
});
