/**
 * What `npm run dev` may do to a database and to `.dev.vars`, decided before it does anything.
 *
 * Its own local PostgreSQL (or another one on loopback) is a playground: it is migrated, the local admin is created
 * (or re-enabled and promoted) and its URL is kept in `.dev.vars` for the other scripts. A DATABASE_URL anywhere else
 * (a Neon branch, a shared server) may hold real accounts: it is migrated, but accounts are touched only when asked
 * (`--create-admin`), and its URL never lands in `.dev.vars` (it reaches `wrangler dev` through a private env file),
 * so later scripts do not quietly default to it.
 */
export interface DevPlan {
  /** `local`: the PostgreSQL the script starts; `loopback`/`remote`: the DATABASE_URL given. */
  database: 'local' | 'loopback' | 'remote';
  /** Create or re-enable and promote the local admin. */
  touchAccounts: boolean;
  /** Keep the database URL in `.dev.vars`. */
  persistUrl: boolean;
}

/** Settings `npm run dev` gives the Worker over wrangler.toml's deploy defaults. */
export const LOCAL_OVERRIDES: Record<string, string> = {
  // Open locally; closed on a deploy (wrangler.toml).
  ALLOW_SIGNUP: 'true',
  // wrangler dev simulates `request.cf` and lets a client set CF-Connecting-IP: no header is trustworthy here.
  TRUSTED_IP_HEADER: '',
};

const LOOPBACK_NAMES = new Set(['localhost', '[::1]', '::1']);

/** Whether a postgres:// URL points at this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return false;
  }
  return LOOPBACK_NAMES.has(host) || /^127(\.\d{1,3}){3}$/.test(host);
}

export function devPlan(databaseUrl: string | undefined, argv: string[]): DevPlan {
  const asked = argv.includes('--create-admin');
  if (!databaseUrl) return { database: 'local', touchAccounts: true, persistUrl: true };
  if (isLoopbackUrl(databaseUrl)) return { database: 'loopback', touchAccounts: true, persistUrl: true };
  return { database: 'remote', touchAccounts: asked, persistUrl: false };
}

/** What goes into `.dev.vars`: everything but a database URL the plan must not keep (nor one kept by an older run). */
export function varsToSave(vars: Record<string, string>, plan: DevPlan): Record<string, string> {
  const saved = { ...vars };
  if (!plan.persistUrl || (saved.DATABASE_URL && !isLoopbackUrl(saved.DATABASE_URL))) delete saved.DATABASE_URL;
  return saved;
}
