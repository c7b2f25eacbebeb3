import type { SQL } from 'drizzle-orm';
import type { Context } from 'hono';
import { guardedRows } from '../auth/authorize';
import { createDb } from '../db/client';
import type { AppEnv } from '../env';
import { csvStream, type Cell } from './csv';

/** Rows per page of an export: one statement each, a few milliseconds at any table size (keyset reads). */
export const EXPORT_PAGE = 2000;

/**
 * Answers a CSV export streamed page by page. The first page runs before the answer starts, through the request's
 * handle and the caller check, so its errors are ordinary problem answers and it is counted. The request's pool is ended as soon as the
 * handler returns, so the following pages run on a handle of their own, opened only when there is a second page and
 * closed when the stream ends, fails or is cancelled. Each page is its own short statement (keyset from the last row),
 * so none is held open past the statement timeout, and memory holds one page whatever the row count.
 */
export async function streamCsv<R extends Record<string, unknown>>(
  c: Context<AppEnv>,
  opts: { filename: string; header: string[]; page: (after: R | undefined) => SQL; cells: (row: R) => Cell[] },
): Promise<Response> {
  // The caller is checked (authorize.ts) in every page's statement: a session revoked, an account disabled or a
  // permission taken away mid-export stops it at the next page (the stream errors) instead of streaming on.
  const first = await guardedRows<R>(c, () => opts.page(undefined));
  let rest: ReturnType<typeof createDb> | undefined;
  const body = csvStream<R>({
    header: opts.header,
    first,
    pageSize: EXPORT_PAGE,
    next: async (last) => {
      rest ??= createDb(c.var.config);
      return guardedRows<R>(c, () => opts.page(last), { db: rest.db });
    },
    cells: opts.cells,
    done: () => void rest?.close().catch(() => {}),
  });
  return new Response(body, {
    status: 200,
    headers: {
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="${opts.filename}"`,
    },
  });
}
