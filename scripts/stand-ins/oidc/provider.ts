/**
 * A real OpenID provider on loopback, for the tests and `npm run dev -- --oidc`: `oidc-provider` (panva's certified
 * implementation) with one confidential client, PKCE required, and accounts made up from their email:
 * any email signs in (it is also the `sub`), and `email_verified` is true except for emails that start with
 * `unverified`. The one part written here is the interaction (the provider's own login page):
 * - with `login_hint` naming an email (the Worker passes `loginHint` through), the user is signed in at once, as
 *   when they already have a session at their company's provider: what the server tests drive with plain requests;
 * - without it, a small form asks for the email (prefilled with `defaultEmail`): what a person, or the browser test,
 *   fills in.
 * Consent is given with the login (a first-party client). Redirect URIs: any loopback (or `api.test`, the tests'
 * Worker host) URL ending in `/v1/auth/oidc/<clientId>/callback`, so a Worker on any port can use it.
 * Its ID tokens are thin, as OpenID Connect Core §5.4 has it for the code flow (and as Okta's org server does): the
 * email and its verification come from the UserInfo endpoint.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import { closeServer, listenOnLoopback, type OidcStandIn } from './loopback';

export type LocalOidcProvider = OidcStandIn;

const quiet = (provider: Provider) => provider.on('server_error', (_ctx: unknown, error: unknown) => console.error('oidc-provider:', error));

/** The claims of the account an email signs in as. */
export function accountFor(email: string) {
  const name = email.slice(0, email.indexOf('@')).replace(/[._-]+/g, ' ');
  return { sub: email, email, email_verified: !email.startsWith('unverified'), name };
}

function page(title: string, body: string) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>body{font:16px system-ui;margin:3rem auto;max-width:24rem}input,button{font:inherit;padding:.4rem;width:100%;margin:.3rem 0}</style>
</head><body><h1>${title}</h1>${body}</body></html>`;
}

const escape = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

export async function startOidcProvider(options: { port?: number; clientId?: string; clientSecret?: string; defaultEmail?: string } = {}): Promise<LocalOidcProvider> {
  const clientId = options.clientId ?? 'local';
  const clientSecret = options.clientSecret ?? randomBytes(24).toString('base64url');
  const server = http.createServer();
  const issuer = await listenOnLoopback(server, options.port);

  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: randomBytes(8).toString('hex'), alg: 'RS256', use: 'sig' };
  const provider = new Provider(issuer, {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [`http://127.0.0.1/v1/auth/oidc/${clientId}/callback`],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    }],
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    pkce: { required: () => true },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    findAccount: (_ctx: unknown, id: string) => ({
      accountId: id,
      claims: () => accountFor(id),
    }),
    ttl: { AuthorizationCode: 60, IdToken: 300, AccessToken: 300, Interaction: 600, Session: 600, Grant: 600 },
  } as never);
  quiet(provider);
  const callbackPath = `/v1/auth/oidc/${clientId}/callback`;
  provider.Client.prototype.redirectUriAllowed = function (value: string) {
    try {
      const url = new URL(value);
      const host = url.hostname;
      return url.protocol === 'http:' && url.pathname === callbackPath && (host === '127.0.0.1' || host === 'localhost' || host === 'api.test');
    } catch {
      return false;
    }
  };

  const finish = async (req: http.IncomingMessage, res: http.ServerResponse, email: string) => {
    const details = await provider.interactionDetails(req, res);
    const grant = new provider.Grant({ accountId: email, clientId: String(details.params.client_id) });
    grant.addOIDCScope(String(details.params.scope));
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { login: { accountId: email }, consent: { grantId } }, { mergeWithLastSubmission: false });
  };

  const callback = provider.callback();
  server.on('request', async (req, res) => {
    const m = /^\/interaction\/([\w-]+)$/.exec(req.url ?? '');
    if (!m) return callback(req, res);
    try {
      if (req.method === 'GET') {
        const details = await provider.interactionDetails(req, res);
        const hint = typeof details.params.login_hint === 'string' ? details.params.login_hint : '';
        if (hint.includes('@')) return await finish(req, res, hint.toLowerCase());
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page('Local OpenID provider', `
<p>Sign in as any email (a stand-in for your company's provider). Emails starting with "unverified" have no verified email.</p>
<form method="post" action="/interaction/${m[1]}">
<label>Email <input name="email" type="email" required value="${escape(options.defaultEmail ?? 'ada@example.com')}"></label>
<button type="submit">Sign in</button></form>`));
        return;
      }
      let body = '';
      for await (const chunk of req) body += chunk;
      const email = new URLSearchParams(body).get('email')?.trim().toLowerCase() ?? '';
      if (!email.includes('@')) return void res.writeHead(400, { 'content-type': 'text/plain' }).end('an email is needed');
      await finish(req, res, email);
    } catch (error) {
      if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' }).end(`interaction failed: ${String(error)}`);
    }
  });

  return {
    issuer,
    clientId,
    clientSecret,
    close: closeServer(server),
  };
}
