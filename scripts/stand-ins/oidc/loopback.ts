/**
 * What the two OpenID stand-ins (provider.ts, the real one, and rogue-provider.ts) share: how a test or `npm run dev`
 * sees them, and how they listen (loopback only; the issuer is the address they got) and stop.
 */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OidcStandIn {
  issuer: string;
  clientId: string;
  clientSecret: string;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 (`port` 0: any free one) and answers the issuer that address makes. */
export async function listenOnLoopback(server: http.Server, port = 0): Promise<string> {
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Stops listening and drops open connections (keep-alive ones would hold `close` open). */
export const closeServer = (server: http.Server) => () =>
  new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
