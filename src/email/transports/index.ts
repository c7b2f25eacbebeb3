import type { Config } from '../../env';
import { devTransport } from './dev';
import { resendTransport } from './resend';
import type { Transport } from './transport';

/** The configured transport; the configuration has already refused a provider without its settings. */
export function transportFor(config: Config): Transport {
  switch (config.EMAIL_TRANSPORT) {
    case 'resend':
      return resendTransport({ apiKey: config.RESEND_API_KEY!, apiUrl: config.RESEND_API_URL });
    case 'dev':
      return devTransport;
  }
}

/** The sender when EMAIL_FROM is unset (dev only: a provider requires it). */
export const DEV_FROM = 'Dashboard Analytics <no-reply@localhost>';
