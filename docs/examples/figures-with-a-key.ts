/**
 * A script that reads the dashboard's figures with a personal API key (contract §16), typed end to end by the
 * Worker's own route definitions through `hono/client`: a wrong path, query or body is a compile error, and the
 * answers have the API's types. test/client.test.ts runs these functions against the Worker, so this page stays true.
 *
 *   DA_URL=http://127.0.0.1:8787 DA_KEY=dak_… npx tsx docs/examples/figures-with-a-key.ts
 */
import { hc } from 'hono/client';
import type { AppType } from '../../src/app';

export type Client = ReturnType<typeof hc<AppType>>;

/** The key rides in the Authorization header, like a person's access token; nothing else changes for the caller. */
export const client = (baseUrl: string, key: string, fetch: typeof globalThis.fetch = globalThis.fetch): Client =>
  hc<AppType>(baseUrl, { headers: { authorization: `Bearer ${key}` }, fetch });

/** Errors are problem+json (§2): say the API's own sentence, not just a status code. */
async function ok<T>(res: { ok: boolean; status: number; json(): Promise<T>; text(): Promise<string> }): Promise<T> {
  if (!res.ok) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  return res.json();
}

/** Sign-ups and active users of the last `days` days (needs `stats:read` on the key and its owner). */
export const overview = async (api: Client, days: number) => ok(await api.v1.stats.overview.$get({ query: { days: String(days) } }));

/** Daily unique people who sent `event` over the last two weeks (needs `events:read`). */
export const dailyUniques = async (api: Client, event: string) =>
  ok(
    await api.v1.events.query.$post({
      json: { kind: 'trends', series: [{ event, math: 'uniques' }], interval: 'day', last: { count: 14, unit: 'day' } },
    }),
  );

if (typeof process !== 'undefined' && process.argv[1]?.endsWith('figures-with-a-key.ts')) {
  const { DA_URL = 'http://127.0.0.1:8787', DA_KEY = '' } = process.env;
  const api = client(DA_URL, DA_KEY);
  console.log(JSON.stringify({ overview: await overview(api, 30), pageViews: await dailyUniques(api, 'page.viewed') }, null, 2));
}
