import type { Context } from 'hono';
import type { AppEnv } from '../env';

// The longest textual IP address: an IPv6 address with an embedded IPv4 one (45 characters).
const MAX_IP_LENGTH = 45;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** `text` as a canonical IP address (IPv6 compressed and lower-case), or null when it is not one. */
export function parseIp(text: string): string | null {
  if (text.length === 0 || text.length > MAX_IP_LENGTH) return null;
  if (IPV4.test(text)) return text;
  if (!/^[0-9A-Fa-f:.]+$/.test(text) || !text.includes(':')) return null;
  try {
    // The URL parser implements the IPv6 grammar and serialises to the canonical form.
    const host = new URL(`http://[${text}]/`).hostname.slice(1, -1);
    // An IPv4 address written IPv6-style is that IPv4 address (one client, one key).
    const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
    if (!mapped) return host;
    const [hi, lo] = [Number.parseInt(mapped[1]!, 16), Number.parseInt(mapped[2]!, 16)];
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  } catch {
    return null;
  }
}

/**
 * The caller's address, from a header only a trusted party can set, or null when none vouches for it.
 *
 * `TRUSTED_IP_HEADER` names that header. On Cloudflare it is `cf-connecting-ip`: the edge sets it on every request
 * and overwrites one a client sent, and the request carries `request.cf`; a request without `cf` did not come
 * through Cloudflare, so its `cf-connecting-ip` is the client's own word and is ignored. `wrangler dev` simulates
 * `cf` and only fills in `cf-connecting-ip` when the client left it out, so `npm run dev` sets no trusted header
 * (the address is unknown there). Behind another proxy that overwrites a header of its own, name that header.
 * The value must be one well-formed address of at most 45 characters; anything else counts as no address.
 */
export function clientIp(c: Context<AppEnv>): string | null {
  const name = c.var.config.TRUSTED_IP_HEADER;
  if (!name) return null;
  if (name === 'cf-connecting-ip' && !(c.req.raw as { cf?: unknown }).cf) return null;
  const value = c.req.header(name);
  return value === undefined ? null : parseIp(value.trim());
}

/**
 * The key per-IP limits count under: the address, or for IPv6 its /64 network (one subscriber's allocation, which a
 * client can walk through at will). Callers without a trusted address share one key.
 */
export function rateLimitKey(ip: string | null): string {
  if (!ip) return 'unknown';
  if (!ip.includes(':')) return ip;
  return `${expandIpv6(ip).slice(0, 4).join(':')}::/64`;
}

function expandIpv6(ip: string): string[] {
  const [head = '', tail] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  // Canonical input (from parseIp): hex groups only, at most one '::'.
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return groups.map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''));
}
