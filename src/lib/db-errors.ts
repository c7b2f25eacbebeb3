/** SQLSTATE of the first PostgreSQL error in a cause chain (Drizzle wraps driver errors). */
export function sqlState(error: unknown): string | undefined {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/** DETAIL of the first PostgreSQL error in a cause chain that has one (for errors our own functions raise). */
export function sqlDetail(error: unknown): string | undefined {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const detail = (e as { detail?: unknown }).detail;
    if (typeof detail === 'string') return detail;
  }
  return undefined;
}

/**
 * True when the database could not be reached or dropped the connection, as opposed to a statement that failed.
 * Class 08 = connection exception, 53 = insufficient resources, 57 = operator intervention (shutdown, timeouts).
 * Over HTTP a PostgreSQL error arrives as a NeonDbError carrying the same `code` (the proxy answers 400 with the
 * error's fields), so the SQLSTATE mapping is the same for both transports.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const state = sqlState(error);
  if (state) return /^(08|53|57)/.test(state);
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const message = String((e as { message?: unknown }).message ?? '');
    const type = (e as { type?: unknown }).type;
    if (type === 'error' || type === 'close') return true; // a WebSocket ErrorEvent/CloseEvent from the driver
    if (/connect|connection|terminated|timeout|socket|websocket|ECONNREFUSED|ECONNRESET|network/i.test(message)) return true;
    // Over HTTP the driver reports a proxy that cannot reach PostgreSQL as `Server error (HTTP status 5xx): …`.
    if (/^Server error \(HTTP status 5\d\d\)/.test(message)) return true;
  }
  return false;
}

/**
 * What an error log line may say about a failure: name, SQLSTATE and message, never the statement's parameters
 * (Drizzle's message carries them, and they can hold emails, hashes or token hashes).
 */
export function describeError(error: unknown): Record<string, unknown> {
  const root = error as { name?: string; message?: string; cause?: unknown; stack?: string };
  const cause = root?.cause as { name?: string; message?: string; code?: string } | undefined;
  const fromDrizzle = typeof root?.message === 'string' && root.message.startsWith('Failed query:');
  const message = fromDrizzle ? root.message!.split('\nparams:')[0]!.slice(0, 500) : String(root?.message ?? error).slice(0, 500);
  return {
    name: root?.name ?? typeof error,
    message,
    sqlState: sqlState(error),
    ...(cause ? { cause: { name: cause.name, message: String(cause.message ?? '').slice(0, 300), code: cause.code } } : {}),
    ...(!fromDrizzle && root?.stack ? { stack: root.stack.split('\n').slice(0, 8).join('\n') } : {}),
  };
}
