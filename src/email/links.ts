import type { Context } from 'hono';
import type { AppEnv } from '../env';

/**
 * `APP_URL + path + ?token=…`, the one shape of every link in an email (contract §9). With the dev transport and no
 * APP_URL, links point at the console this Worker serves on the request's own origin.
 */
export function emailLink(c: Context<AppEnv>, path: string, token: string): string {
  const base = c.var.config.APP_URL ?? `${new URL(c.req.url).origin}/console`;
  return `${base}${path}?token=${encodeURIComponent(token)}`;
}

/** The paths the links use (the console implements a page for each). */
export const LINK_PATHS = {
  invitation: '/accept-invitation',
  password_reset: '/reset-password',
  email_verification: '/verify-email',
  email_change: '/confirm-email',
} as const;
