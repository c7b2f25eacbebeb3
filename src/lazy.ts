/**
 * The Worker's lazily loaded libraries (scripts/build/lazy-modules.ts builds them into src/vendor/lazy, wrangler.toml
 * uploads them as modules of their own). The imports live here, beside src/index.ts, on purpose: the runtime
 * resolves a dynamic import's path against the main module at the root of the upload, which is also where this file's
 * own folder ends up, so the same `./vendor/lazy/…` path is right for TypeScript, the tests and the deployed Worker.
 */
export const webauthn = (): Promise<typeof import('@simplewebauthn/server')> => import('./vendor/lazy/webauthn.js');
export const oauth = (): Promise<typeof import('oauth4webapi')> => import('./vendor/lazy/oauth.js');
