import type { SendResult, Transport } from './transport';

const TIMEOUT_MS = 10_000;

/** What Resend answers on failure: `{ statusCode, name, message }` (https://resend.com/docs/api-reference/errors). */
interface ResendError {
  statusCode?: number;
  name?: string;
  message?: string;
}

/**
 * Resend's `POST /emails` over plain `fetch`, with the outbox id as `Idempotency-Key` so a retry after a lost answer
 * never sends twice (Resend replays the first answer for 24 hours).
 */
export function resendTransport(settings: { apiKey: string; apiUrl: string }): Transport {
  return {
    name: 'resend',
    keepsBodies: false,
    async send(email) {
      let response: Response;
      try {
        response = await fetch(`${settings.apiUrl}/emails`, {
          method: 'POST',
          headers: {
            Authorization: `Bearer ${settings.apiKey}`,
            'Content-Type': 'application/json',
            'Idempotency-Key': email.id,
            'User-Agent': 'dashboard-analytics-api',
          },
          body: JSON.stringify({ from: email.from, to: [email.to], subject: email.subject, text: email.text, html: email.html }),
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
      } catch (error) {
        // Unreachable, reset or timed out: the outcome is unknown, and the idempotency key makes a retry safe.
        return { ok: false, retry: true, error: `resend unreachable: ${(error as Error)?.name ?? 'error'}` };
      }
      const body = (await response.json().catch(() => null)) as (ResendError & { id?: unknown }) | null;
      if (response.ok && typeof body?.id === 'string') return { ok: true, providerId: body.id };
      return classify(response, body);
    },
  };
}

/** Only the status and Resend's error name are kept: its message may quote the request (addresses). */
function classify(response: Response, body: ResendError | null): SendResult {
  const status = response.status;
  const name = typeof body?.name === 'string' ? body.name.slice(0, 64) : 'unknown';
  const error = `resend ${status} ${name}`;
  const retryAfter = Number(response.headers.get('retry-after')) || undefined;
  // Rate limit or quota: later. Another request with the same key in flight: later, it may succeed meanwhile.
  if (status === 429 || name === 'concurrent_idempotent_requests') return { ok: false, retry: true, error, retryAfter };
  // A missing, invalid or restricted key, or an unverified sending domain: the operator can fix it, so keep trying
  // within the attempts allowed (every failure is logged).
  if (status === 401 || status === 403) return { ok: false, retry: true, error };
  if (status >= 500 || response.ok) return { ok: false, retry: true, error };
  // 400/404/405/409/422: the request itself is wrong (address, fields, key reused with another body): no retry helps.
  return { ok: false, retry: false, error };
}
