import { createMiddleware } from 'hono/factory';
import { collectDerivations } from '../auth/hash-work';
import { createDb } from '../db/client';
import type { AppEnv } from '../env';

/** Gives each request its own database handle and closes it after the response has been sent. */
export const database = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const started = Date.now();
    const handle = createDb(c.var.config);
    c.set('db', handle.db);
    const derivations: string[] = [];
    try {
      await (c.var.config.SERVER_TIMING ? collectDerivations(derivations, next) : next());
    } finally {
      c.executionCtx.waitUntil(handle.close().catch(() => {}));
    }
    // Password derivations (src/auth/hash-work.ts): equal work for unknown and real accounts is tested on them.
    for (const d of derivations) c.res.headers.append('Server-Timing', `password;desc="${d}"`);
    if (c.var.config.SERVER_TIMING && handle.statements() > 0) {
      c.res.headers.append('Server-Timing', `db;dur=${Date.now() - started};desc="${handle.statements()} statements"`);
      // Statements that carried the caller check (src/auth/authorize.ts): the test of every route compares the two.
      const authz = c.get('authz');
      if (authz) c.res.headers.append('Server-Timing', `authz;desc="${authz.guarded} guarded"`);
    }
  });
