import { createHash } from 'node:crypto';
import type { Config } from '../env';
import { validationFailed } from '../lib/errors';

// A real range answer is ~30 KB (~1,000 padded lines); anything much larger is not one.
const MAX_ANSWER_BYTES = 256 * 1024;

/**
 * Refuses a new password that Have I Been Pwned's Pwned Passwords knows (ASVS 6.2.12), with a 422 at `path`.
 *
 * k-anonymity: only the first 5 hex digits of the password's SHA-1 leave the Worker (`GET <HIBP_URL><prefix>`, with
 * `Add-Padding: true` so the answer's size says nothing either); the match on the other 35 is made here. When the
 * service cannot be reached, answers an error, or takes longer than `HIBP_TIMEOUT_MS`, the password is accepted and
 * one log line says so: an outage of a third party must not stop sign-ups. Costs no database statement.
 * Call it for every password a person chooses: sign-up, a user created or updated by an admin, a change, a reset.
 */
export async function assertNotBreached(config: Config, password: string, path = 'password'): Promise<void> {
  if (!config.HIBP_ENABLED) return;
  const found = await timesBreached(config, password);
  if (found > 0) {
    throw validationFailed([{ path, message: 'This password appears in known data breaches; choose another one.' }]);
  }
}

/** How often the password appears in breaches, 0 when not at all or when the service could not answer. */
export async function timesBreached(config: Config, password: string): Promise<number> {
  // The same text the hash is made of (src/auth/password.ts normalises to NFC).
  const digest = createHash('sha1').update(password.normalize('NFC'), 'utf8').digest('hex').toUpperCase();
  const prefix = digest.slice(0, 5);
  const suffix = digest.slice(5);
  try {
    const res = await fetch(`${config.HIBP_URL}${prefix}`, {
      headers: { 'Add-Padding': 'true', 'User-Agent': 'dashboard-analytics-api' },
      signal: AbortSignal.timeout(config.HIBP_TIMEOUT_MS),
    });
    if (!res.ok) throw new Error(`answered ${res.status}`);
    const declared = Number(res.headers.get('content-length') ?? 0);
    if (declared > MAX_ANSWER_BYTES) throw new Error('answer too large');
    const text = await res.text();
    if (text.length > MAX_ANSWER_BYTES) throw new Error('answer too large');
    for (const line of text.split('\n')) {
      const at = line.indexOf(':');
      if (at === 35 && line.slice(0, 35).toUpperCase() === suffix) return Number.parseInt(line.slice(36), 10) || 0;
    }
    return 0;
  } catch (error) {
    const reason = (error as Error)?.name === 'TimeoutError' ? 'timeout' : String((error as Error)?.message ?? error).slice(0, 200);
    console.warn(JSON.stringify({ level: 'warn', msg: 'breached-password check unavailable; password accepted', reason }));
    return 0;
  }
}
