import type { Transport } from './transport';

/** Sends nothing: the message stays in the outbox, readable through GET /v1/dev/mailbox on a loopback host. */
export const devTransport: Transport = {
  name: 'dev',
  keepsBodies: true,
  send: async () => ({ ok: true, providerId: null }),
};
