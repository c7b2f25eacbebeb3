/** SQLSTATE of the first PostgreSQL error in a cause chain (Drizzle wraps driver errors). */
export function sqlState(error: unknown): string | undefined {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/**
 * True when the database could not be reached or dropped the connection, as opposed to a statement that failed.
 * Class 08 = connection exception, 53 = insufficient resources, 57 = operator intervention (shutdown, timeouts).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const state = sqlState(error);
  if (state) return /^(08|53|57)/.test(state);
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const message = String((e as { message?: unknown }).message ?? '');
    const type = (e as { type?: unknown }).type;
    if (type === 'error' || type === 'close') return true; // a WebSocket ErrorEvent/CloseEvent from the driver
    if (/connect|connection|terminated|timeout|socket|websocket|ECONNREFUSED|ECONNRESET|network/i.test(message)) return true;
  }
  return false;
}
