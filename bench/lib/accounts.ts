/**
 * The accounts, tokens and cursors the endpoints are driven with (BenchContext): the seeded users split into sign-in
 * and refresh pools, the bench admin's token re-issued before every round, a deep page's cursor found once.
 */
import pg from 'pg';
import { BENCH_ADMIN_EMAIL, DEMO_PASSWORD, type SeedResult } from '../../scripts/seed/seed';
import type { BenchContext } from './endpoints';

export interface Accounts {
  ctx: BenchContext;
  /** Before each round: the admin's token, and one unused refresh token per connection. */
  prepareRound(first: boolean): Promise<void>;
}

export async function prepareAccounts(input: {
  appUrl: string;
  dbUrl: string;
  seeded: SeedResult;
  connections: number;
  note(problem: string): void;
}): Promise<Accounts> {
  const { appUrl, connections, note } = input;
  const db = new pg.Client({ connectionString: input.dbUrl });
  await db.connect();
  const enabled = (
    await db.query<{ id: number; email: string }>(
      `select id, email from users where email ~ '^user[0-9]+@demo[.]test$' and not disabled order by id`,
    )
  ).rows;
  await db.end();
  const refreshUsers = enabled.slice(0, Math.min(200, Math.floor(enabled.length / 4)));
  const loginUsers = enabled.slice(refreshUsers.length, -1);
  let loginIndex = 0;
  let refreshIndex = 0;
  let clientIndex = 0;
  const ctx: BenchContext = {
    password: DEMO_PASSWORD,
    nextLoginEmail: () => loginUsers[loginIndex++ % loginUsers.length]!.email,
    refreshTokens: [],
    sampleUserId: enabled[Math.floor(enabled.length / 2)]!.id,
    roleTargetId: enabled[enabled.length - 1]!.id,
    deepOffset: 0,
    nextClientIp: () => {
      clientIndex = (clientIndex % 131_070) + 1;
      return `198.${18 + (clientIndex >> 16)}.${(clientIndex >> 8) & 255}.${clientIndex & 255}`;
    },
  };

  const post = async (path: string, body: unknown) => {
    try {
      const res = await fetch(`${appUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'cf-connecting-ip': ctx.nextClientIp() },
        body: JSON.stringify(body),
      });
      const json = (await res.json().catch(() => ({}))) as { accessToken?: string; refreshToken?: string };
      return { status: res.status, ...json };
    } catch {
      return { status: 0 } as { status: number; accessToken?: string; refreshToken?: string };
    }
  };
  const login = (email: string) => post('/v1/auth/login', { email, password: DEMO_PASSWORD });

  // The seeded tokens are stored the way the Worker stores them today; if that changes, sign in for tokens instead.
  const seededTokens = input.seeded.refreshTokens;
  const probe = seededTokens[0] ? await post('/v1/auth/refresh', { refreshToken: seededTokens[0] }) : undefined;
  if (probe?.refreshToken) ctx.refreshTokens.push(probe.refreshToken, ...seededTokens.slice(1));
  else note(`a seeded refresh token was refused (${probe?.status}): the refresh chain starts from sign-ins instead`);

  async function prepareRound(first: boolean) {
    const admin = await login(BENCH_ADMIN_EMAIL);
    ctx.adminToken = admin.accessToken;
    if (!ctx.adminToken) note(`admin sign-in (POST /v1/auth/login) answered ${admin.status}: authenticated endpoints run without a token`);
    // The refresh chain needs one unused token per connection, plus spares for answers that break it
    // (each sign-in costs a password hash).
    const wanted = connections + 2;
    while (ctx.refreshTokens.length < wanted && refreshUsers.length > 0) {
      const pair = await login(refreshUsers[refreshIndex++ % refreshUsers.length]!.email);
      if (!pair.refreshToken) {
        note(`sign-in for refresh tokens answered ${pair.status}: POST /v1/auth/refresh will fail`);
        break;
      }
      ctx.refreshTokens.push(pair.refreshToken);
    }
    if (first && ctx.adminToken) {
      // A deep page: walk ~20 pages of 100 and keep the last cursor.
      let cursor: string | undefined;
      let offset = 0;
      for (let page = 0; page < 20; page++) {
        const res = await fetch(`${appUrl}/v1/users?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, {
          headers: { authorization: `Bearer ${ctx.adminToken}` },
        }).catch(() => undefined);
        if (!res?.ok) {
          note(`walking GET /v1/users?limit=100 answered ${res?.status ?? 'no response'} on page ${page + 1}`);
          break;
        }
        const body = (await res.json()) as { data?: unknown[]; nextCursor?: string | null };
        offset += body.data?.length ?? 0;
        if (!body.nextCursor) break;
        cursor = body.nextCursor;
      }
      ctx.deepCursor = cursor;
      ctx.deepOffset = offset;
      if (!cursor) note('no cursor for the deep users page: that endpoint will answer errors');
    }
  }
  return { ctx, prepareRound };
}
