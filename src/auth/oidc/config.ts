import { z } from 'zod';

/**
 * One OpenID provider of `OIDC_PROVIDERS` (contract §18, docs/sso.md). The client secret is not part of it: it is a
 * secret (`wrangler secret put OIDC_<ID>_CLIENT_SECRET`), read from its own binding by `resolveOidcSecrets`.
 */
const provider = z.strictObject({
  // In the paths (/v1/auth/oidc/:id/…) and in the secret's binding name.
  id: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be 1..32 lower-case letters, digits or dashes, starting with a letter'),
  name: z.string().trim().min(1).max(100),
  // The issuer identifier exactly as the provider's discovery document states it (https; http only on loopback).
  issuer: z.url({ protocol: /^https?$/ }).refine((u) => u.startsWith('https://') || isLoopbackUrl(u), 'must be https (http only on a loopback host)'),
  clientId: z.string().min(1).max(500),
  // Whose accounts may sign in through this provider: the part after the @ of the verified email. Required: a
  // provider that signs anyone in (a consumer Google account, say) must not open the dashboard to the world.
  allowedDomains: z
    .array(z.string().trim().toLowerCase().regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/, 'must be a domain name such as example.com'))
    .min(1),
  // Whether a verified email with no account here creates one (off: only existing accounts sign in).
  createAccounts: z.boolean().default(false),
  // The roles of an account this provider creates.
  roles: z.array(z.string().regex(/^[a-z][a-z0-9_-]{1,49}$/, 'must be a role name')).default(['viewer']),
  // The ID token claim that says the email is verified: `email_verified` (OpenID Connect Core), or Microsoft Entra
  // ID's optional claim `xms_edov` (the email's domain is verified by the tenant), as Entra sends no email_verified.
  emailVerifiedClaim: z.enum(['email_verified', 'xms_edov']).default('email_verified'),
  scopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/)).default(['openid', 'email', 'profile'])
    .refine((s) => s.includes('openid'), 'must include openid'),
});

export type OidcProviderConfig = z.infer<typeof provider> & { clientSecret: string };

export const oidcProvidersSchema = z
  .array(provider)
  .max(20)
  .refine((list) => new Set(list.map((p) => p.id)).size === list.length, 'provider ids must be unique');

/** `OIDC_<ID>_CLIENT_SECRET`: where the client secret of provider `id` is bound (dashes become underscores). */
export const secretBinding = (id: string) => `OIDC_${id.toUpperCase().replace(/-/g, '_')}_CLIENT_SECRET`;

/** Loopback hosts: the only ones a plain-http issuer may name (a provider run locally, `npm run dev -- --oidc`). */
export function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Each provider with its secret from the bindings, or the list of what is missing: a provider configured without
 * its secret could never complete a sign-in, so the Worker refuses to start instead.
 */
export function resolveOidcSecrets(
  providers: z.infer<typeof oidcProvidersSchema>,
  env: Record<string, unknown>,
): { providers: OidcProviderConfig[]; missing: string[] } {
  const missing: string[] = [];
  const resolved = providers.map((p) => {
    const secret = env[secretBinding(p.id)];
    if (typeof secret !== 'string' || secret.length === 0) missing.push(secretBinding(p.id));
    return { ...p, clientSecret: typeof secret === 'string' ? secret : '' };
  });
  return { providers: resolved, missing };
}
