import { z } from '@hono/zod-openapi';
import type { Config } from '../env';
import { badRequest } from './errors';

/**
 * Opaque keyset cursors: `base64url(JSON {kind, sort, values, id}) "." base64url(HMAC-SHA256 tag)`.
 *
 * The tag makes a cursor unforgeable, so its values can go into SQL without a second thought; `kind` names the list
 * (and, for a nested list, its parent) and `sort` the order it was made for, so a cursor handed to another list or
 * another sort is refused. Any failure is a 400 problem. The key is derived from CURSOR_SECRET alone, a secret of
 * its own: rotating the JWT signing key leaves cursors valid, and rotating CURSOR_SECRET leaves tokens valid (it
 * only sends clients holding a cursor back to the first page).
 */
export type CursorValue = string | number | boolean | null;

export interface Cursor {
  values: CursorValue[];
  id: number;
}

const LABEL = 'dashboard-analytics-api/keyset-cursor/v1';
const MAX_LENGTH = 2048;
const encoder = new TextEncoder();
const keys = new WeakMap<Config, Promise<CryptoKey>>();

function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

// ArrayBuffer-backed (not SharedArrayBuffer): the browser typings the console checks this file with insist on it.
function fromBase64url(text: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error('not base64url');
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4));
  return Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
}

/** HKDF(SHA-256) from CURSOR_SECRET with a fixed label: a key used for nothing else. */
function cursorKey(config: Config): Promise<CryptoKey> {
  let key = keys.get(config);
  if (!key) {
    key = (async () => {
      const secret = await crypto.subtle.importKey('raw', fromBase64url(config.CURSOR_SECRET), 'HKDF', false, ['deriveKey']);
      return crypto.subtle.deriveKey(
        { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: encoder.encode(LABEL) },
        secret,
        { name: 'HMAC', hash: 'SHA-256', length: 256 },
        false,
        ['sign', 'verify'],
      );
    })();
    keys.set(config, key);
  }
  return key;
}

export async function encodeCursor(config: Config, kind: string, sort: string, values: CursorValue[], id: number): Promise<string> {
  const payload = encoder.encode(JSON.stringify({ kind, sort, values, id }));
  const tag = await crypto.subtle.sign('HMAC', await cursorKey(config), payload);
  return `${base64url(payload)}.${base64url(new Uint8Array(tag))}`;
}

export const invalidCursor = () => badRequest('The cursor is not one this list issued for this sort order; start again without it.', 'invalid-cursor');

/** The position a cursor encodes, or a 400 when it is malformed, tampered with, or made for another list or sort. */
export async function decodeCursor(config: Config, kind: string, sort: string, text: string): Promise<Cursor> {
  if (text.length > MAX_LENGTH) throw invalidCursor();
  const [body, tag, extra] = text.split('.');
  if (!body || !tag || extra !== undefined) throw invalidCursor();
  let payload: Uint8Array<ArrayBuffer>;
  let parsed: unknown;
  try {
    payload = fromBase64url(body);
    const ok = await crypto.subtle.verify('HMAC', await cursorKey(config), fromBase64url(tag), payload);
    if (!ok) throw invalidCursor();
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(payload));
  } catch {
    throw invalidCursor();
  }
  const p = parsed as { kind?: unknown; sort?: unknown; values?: unknown; id?: unknown };
  const scalar = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);
  if (
    p.kind !== kind ||
    p.sort !== sort ||
    !Array.isArray(p.values) ||
    !p.values.every(scalar) ||
    typeof p.id !== 'number' ||
    !Number.isSafeInteger(p.id)
  ) {
    throw invalidCursor();
  }
  return { values: p.values as CursorValue[], id: p.id };
}

/** `?limit=&cursor=` as every list takes them (contract §0). */
export const PageQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(20)
    .openapi({ param: { name: 'limit', in: 'query' }, example: 20, description: 'Page size, 1..100 (default 20).' }),
  cursor: z
    .string()
    .min(1)
    .optional()
    .openapi({ param: { name: 'cursor', in: 'query' }, description: 'The `nextCursor` of the previous page, as given.' }),
});

/** `{ data, nextCursor }`: a page of `item`; `nextCursor` is null on the last page. */
export const pageOf = <T extends z.ZodType>(item: T, name: string) =>
  z.object({ data: z.array(item), nextCursor: z.string().nullable() }).openapi(name);

/**
 * Turns `limit + 1` fetched rows into a page: the extra row only says there is a next page; the cursor points at the
 * last row shown. `position` gives that row's sort values and id.
 */
export async function pageFrom<R, T>(
  config: Config,
  kind: string,
  sort: string,
  rows: R[],
  limit: number,
  item: (row: R) => T,
  position: (row: R) => Cursor,
): Promise<{ data: T[]; nextCursor: string | null }> {
  const shown = rows.slice(0, limit);
  const last = shown[shown.length - 1];
  const nextCursor =
    rows.length > limit && last ? await encodeCursor(config, kind, sort, position(last).values, position(last).id) : null;
  return { data: shown.map(item), nextCursor };
}
