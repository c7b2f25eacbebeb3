/**
 * A hand-written OpenID provider that misbehaves on request, for the refusals a certified provider cannot be made
 * to commit (scripts/stand-ins/oidc/provider.ts is the real one). It speaks just enough of the protocol for the Worker's
 * client: discovery, a JWKS with one RS256 key, an authorization endpoint that answers at once (no login page), and
 * a token endpoint that checks the client secret, the code (single use) and the PKCE verifier, then returns an ID
 * token bent the way the authorization request's `login_hint` says: `<mode>:<email>`, with mode one of
 * - `ok`: a valid ID token;
 * - `other-key`: signed by a key that is not in the JWKS (with the published key's `kid`);
 * - `expired`: `exp` two minutes ago (beyond the 30 s of skew);
 * - `wrong-aud`: for another client; `wrong-iss`: from another issuer; `wrong-nonce`: with another nonce;
 * - `string-verified`: `email_verified` as the string "true" (not a JSON true: not verified);
 * - `entra`: no `email_verified`, but Microsoft Entra ID's optional claim `xms_edov: true`.
 * Listens on loopback only. Not a model of a provider: a test fixture.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { closeServer, listenOnLoopback, type OidcStandIn } from './loopback';

export type RogueOidcProvider = OidcStandIn;

type Pending = { mode: string; email: string; nonce: string; challenge: string; redirectUri: string };

export async function startRogueOidcProvider(options: { clientId?: string } = {}): Promise<RogueOidcProvider> {
  const clientId = options.clientId ?? 'rogue';
  const clientSecret = randomBytes(24).toString('base64url');
  const kid = randomBytes(8).toString('hex');
  const published = await generateKeyPair('RS256', { extractable: true });
  const other = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(published.publicKey)), kid, alg: 'RS256', use: 'sig' };
  const codes = new Map<string, Pending>();

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    const json = (status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
    if (req.method === 'GET' && url.pathname === '/.well-known/openid-configuration') {
      return json(200, {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        token_endpoint_auth_methods_supported: ['client_secret_basic'],
        code_challenge_methods_supported: ['S256'],
      });
    }
    if (req.method === 'GET' && url.pathname === '/jwks') return json(200, { keys: [jwk] });
    if (req.method === 'GET' && url.pathname === '/authorize') {
      const p = url.searchParams;
      const [mode = 'ok', email = 'ada@example.com'] = (p.get('login_hint') ?? 'ok:ada@example.com').split(':');
      if (p.get('client_id') !== clientId || p.get('code_challenge_method') !== 'S256' || !p.get('redirect_uri')) {
        return json(400, { error: 'invalid_request' });
      }
      const code = randomBytes(16).toString('base64url');
      codes.set(code, { mode, email, nonce: p.get('nonce') ?? '', challenge: p.get('code_challenge') ?? '', redirectUri: p.get('redirect_uri')! });
      const back = new URL(p.get('redirect_uri')!);
      back.searchParams.set('code', code);
      back.searchParams.set('state', p.get('state') ?? '');
      return res.writeHead(302, { location: back.toString() }).end();
    }
    if (req.method === 'POST' && url.pathname === '/token') {
      let body = '';
      for await (const chunk of req) body += chunk;
      const form = new URLSearchParams(body);
      const [id, secret] = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString().split(':').map(decodeURIComponent);
      if (id !== clientId || secret !== clientSecret) return json(401, { error: 'invalid_client' });
      const pending = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? '');
      const verifier = form.get('code_verifier') ?? '';
      if (!pending || pending.redirectUri !== form.get('redirect_uri') || createHash('sha256').update(verifier).digest('base64url') !== pending.challenge) {
        return json(400, { error: 'invalid_grant' });
      }
      const now = Math.floor(Date.now() / 1000);
      const { mode, email } = pending;
      const token = await new SignJWT({
        nonce: mode === 'wrong-nonce' ? 'not-the-nonce' : pending.nonce,
        email,
        ...(mode === 'entra' ? { xms_edov: true } : { email_verified: mode === 'string-verified' ? 'true' : true }),
        name: 'Rogue User',
      })
        .setProtectedHeader({ alg: 'RS256', kid })
        .setIssuer(mode === 'wrong-iss' ? 'https://elsewhere.example' : issuer)
        .setAudience(mode === 'wrong-aud' ? 'another-client' : clientId)
        .setSubject(`rogue-${email}`)
        .setIssuedAt(mode === 'expired' ? now - 600 : now)
        .setExpirationTime(mode === 'expired' ? now - 120 : now + 300)
        .sign(mode === 'other-key' ? other.privateKey : published.privateKey);
      return json(200, { access_token: randomBytes(16).toString('base64url'), token_type: 'Bearer', expires_in: 300, id_token: token });
    }
    json(404, { error: 'not_found' });
  });
  const issuer = await listenOnLoopback(server);
  return {
    issuer,
    clientId,
    clientSecret,
    close: closeServer(server),
  };
}
