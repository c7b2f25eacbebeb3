/** One message as a transport sends it. `id` is the outbox row's id: the provider's idempotency key. */
export interface OutgoingEmail {
  id: string;
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

export type SendResult =
  | { ok: true; providerId: string | null }
  /** `retry`: worth trying again later (network, 5xx, 429, configuration); `retryAfter` in seconds when the provider said. */
  | { ok: false; retry: boolean; error: string; retryAfter?: number };

export interface Transport {
  /** Stored with each sent row; `dev` rows are what the dev mailbox shows. */
  name: string;
  /** Whether message bodies stay in the outbox after sending (only the dev mailbox needs them). */
  keepsBodies: boolean;
  send(email: OutgoingEmail): Promise<SendResult>;
}
