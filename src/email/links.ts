import type { Context } from 'hono';
import type { AppEnv } from '../env';

/**
 * `APP_URL + path + ?token=…`, the one shape of every link in an email (contract §9). With the dev transport and no
 * APP_URL, links use the request's own origin (the console is served by this Worker).
 */
export function emailLink(c: Context<AppEnv>, path: string, token: string): string {
  const base = c.var.config.APP_URL ?? new URL(c.req.url).origin;
  return `${base}${path}?token=${encodeURIComponent(token)}`;
}

/** The paths the links use: the console's page for each (it POSTs the token to the matching §9 route). */
export const LINK_PATHS = {
  invitation: '/console/accept-invitation',
  password_reset: '/console/reset-password',
  email_verification: '/console/verify-email',
  email_change: '/console/confirm-email',
} as const;
