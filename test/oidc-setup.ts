/**
 * Runs in Node before the workers suites, beside test/global-setup.ts: the two OpenID providers the single sign-on
 * tests sign in through (test/oidc.test.ts), on loopback. `local` is the real one (oidc-provider, certified);
 * `rogue` the hand-written one that bends its ID tokens on request (scripts/stand-ins/oidc/rogue-provider.ts says how).
 * The Worker's bindings name both (vitest.config.ts); `local` may create accounts in example.com, `rogue` too.
 */
import type { TestProject } from 'vitest/node';
import { startOidcProvider } from '../scripts/stand-ins/oidc/provider';
import { startRogueOidcProvider } from '../scripts/stand-ins/oidc/rogue-provider';

export default async function setup(project: TestProject) {
  const local = await startOidcProvider({ clientId: 'local' });
  const rogue = await startRogueOidcProvider({ clientId: 'rogue' });
  const provider = (id: string, name: string, issuer: string) => ({
    id, name, issuer, clientId: id, allowedDomains: ['example.com'], createAccounts: true, roles: ['viewer'],
  });
  project.provide('oidcProviders', JSON.stringify([provider('local', 'Local provider', local.issuer), provider('rogue', 'Rogue provider', rogue.issuer)]));
  project.provide('oidcLocalSecret', local.clientSecret);
  project.provide('oidcRogueSecret', rogue.clientSecret);
  return async () => {
    await local.close();
    await rogue.close();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    oidcProviders: string;
    oidcLocalSecret: string;
    oidcRogueSecret: string;
  }
}
