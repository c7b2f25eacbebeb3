/**
 * Issue 20, item 5: a stats request in a zone that is not tracked reads the per-user masks. It is bounded
 * (STATS_UNTRACKED_MAX_DAYS, 422 naming the tracked zones) and counts against the caller's concurrent heavy-query
 * slots (HEAVY_QUERIES_PER_CALLER, 429 with Retry-After), src/lib/heavy-queries.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectInvalid, expectProblem } from './expect';
import { createHarness, userWithToken, type Harness } from './harness';
import { openTransaction } from './lock-wait';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
  await h.query(`select activity_track_zone('Europe/Paris')`);
});
afterAll(() => h.drop());

describe('the span read from the masks is bounded', () => {
  it('over STATS_UNTRACKED_MAX_DAYS in an untracked zone → 422 at tz naming the tracked zones; within it, or tracked, 200', async () => {
    const a = await userWithToken(h, ['analyst']);
    for (const path of ['/v1/stats/active-users?days=93&tz=Asia/Tokyo', '/v1/stats/retention?weeks=14&tz=Asia/Tokyo']) {
      const res = await h.call('GET', path, { token: a.token });
      expectInvalid(res, 'tz');
      expect(res.body.errors[0].message).toContain('Europe/Paris');
    }
    for (const path of [
      '/v1/stats/active-users?days=92&tz=Asia/Tokyo',
      '/v1/stats/retention?weeks=13&tz=Asia/Tokyo',
      '/v1/stats/active-users?days=365&tz=Europe/Paris',
      '/v1/stats/active-users?days=365',
      '/v1/stats/retention?weeks=52&tz=Europe/Paris',
    ]) {
      expect((await h.call('GET', path, { token: a.token })).status, path).toBe(200);
    }
  });

  it('the caller check still comes first', async () => {
    const viewer = await userWithToken(h, ['viewer']);
    expectProblem(await h.call('GET', '/v1/stats/active-users?days=200&tz=Asia/Tokyo', { token: viewer.token }), 403);
  });
});

describe('concurrent heavy queries per caller', () => {
  /** Holds `slots` of the caller's heavy-query slots (what a running heavy statement holds) in a transaction of our own. */
  async function busy(userId: number, slots: number) {
    const tx = await openTransaction(h);
    for (let s = 1; s <= slots; s++) await tx.query(`select pg_advisory_xact_lock(hashtext('heavy-query:user:' || $1), $2)`, [String(userId), s]);
    return tx;
  }

  it('with every slot taken, a heavy request is a 429 with Retry-After; the rollups, other callers and a freed slot are not held up', async () => {
    const a = await userWithToken(h, ['analyst']);
    const b = await userWithToken(h, ['analyst']);
    const tx = await busy(a.id, 2);
    try {
      for (const path of ['/v1/stats/active-users?days=30&tz=Asia/Tokyo', '/v1/stats/retention?weeks=4&tz=Asia/Tokyo']) {
        const res = await h.call('GET', path, { token: a.token });
        expectProblem(res, 429);
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      }
      expect((await h.call('GET', '/v1/stats/active-users?days=30', { token: a.token })).status).toBe(200);
      expect((await h.call('GET', '/v1/stats/active-users?days=30&tz=Europe/Paris', { token: a.token })).status).toBe(200);
      expect((await h.call('GET', '/v1/stats/active-users?days=30&tz=Asia/Tokyo', { token: b.token })).status).toBe(200);
    } finally {
      await tx.query('rollback');
      await tx.end();
    }
    expect((await h.call('GET', '/v1/stats/active-users?days=30&tz=Asia/Tokyo', { token: a.token })).status).toBe(200);
  });

  it('one slot taken leaves the other', async () => {
    const a = await userWithToken(h, ['analyst']);
    const tx = await busy(a.id, 1);
    try {
      expect((await h.call('GET', '/v1/stats/active-users?days=30&tz=Asia/Tokyo', { token: a.token })).status).toBe(200);
    } finally {
      await tx.query('rollback');
      await tx.end();
    }
  });

  it('HEAVY_QUERIES_PER_CALLER=1: many at once from one caller, each either answered or refused with 429, never anything else', async () => {
    const one = h.with({ HEAVY_QUERIES_PER_CALLER: '1' });
    const a = await userWithToken(one, ['analyst']);
    const results = await Promise.all(
      Array.from({ length: 6 }, () => one.call('GET', '/v1/stats/active-users?days=92&tz=Asia/Tokyo', { token: a.token })),
    );
    for (const r of results) expect([200, 429]).toContain(r.status);
    expect(results.some((r) => r.status === 200)).toBe(true);
  });
});
