/**
 * `npm run dev -- --oidc`: the local OpenID provider of the tests (scripts/stand-ins/oidc/provider.ts, oidc-provider) on a
 * fixed loopback port, and the Worker settings that name it, so single sign-on can be tried offline. Its login page
 * takes any email; accounts in example.com are created on first sign-in (role analyst). The settings are for this
 * run only: they reach wrangler through the run's private env file, never .dev.vars (a later run without the flag
 * would otherwise offer a provider that is not running).
 */
import { startOidcProvider, type LocalOidcProvider } from '../stand-ins/oidc/provider';

export const DEV_OIDC_TEST_USER = 'ada@example.com';

export async function startDevOidc(port: number): Promise<{ provider: LocalOidcProvider; vars: Record<string, string> }> {
  const provider = await startOidcProvider({ port, clientId: 'local', defaultEmail: DEV_OIDC_TEST_USER });
  const providers = [{
    id: 'local',
    name: 'Local OpenID provider',
    issuer: provider.issuer,
    clientId: provider.clientId,
    allowedDomains: ['example.com'],
    createAccounts: true,
    roles: ['analyst'],
  }];
  return { provider, vars: { OIDC_PROVIDERS: JSON.stringify(providers), OIDC_LOCAL_CLIENT_SECRET: provider.clientSecret } };
}
