/**
 * `npm run soak [-- --minutes N] [--clients C] [--drop-share S]`: a mixed load against a local stack while the
 * database is restarted twice (a fast shutdown, then a crash) and a fault relay between the Worker's proxy and
 * PostgreSQL drops a share of the connections mid-statement (scripts/stand-ins/fault-relay.ts). Afterwards it checks what
 * the API promised against what the database holds, prints the figures and exits non-zero on any violation:
 * - no 500 at all; a 503 only while the database was down, or for a request whose connection the relay cut;
 * - every change answered 2xx is in the database with its audit row; every refused one (4xx) left nothing;
 *   a change whose answer was a 503 is all-or-nothing (the row and its audit row, or neither);
 * - no session or refresh token outlived a revocation (role change, sign-out everywhere);
 * - invitations (accepted through the link in the dev mailbox) are accepted at most once, also by two concurrent
 *   accepts, and a superseded, deleted or expired one never yields an account (scripts/soak/invitation-checks.ts);
 * - the time from each restart until the API answers again.
 * Everything runs on loopback; every loop is bounded by the deadline and by a request cap.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { handleSignals, onShutdown, shutdown } from '../dev/processes';
import { query, startWorker } from '../dev/live-stack';
import { ensureAdmin } from '../admin/ensure-admin';
import { startFaultRelay } from '../stand-ins/fault-relay';
import { KNOWN_BREACHED, startHibpStub } from '../stand-ins/hibp';
import { migrate, projectRoot } from '../dev/migrate';
import { freePort, startPostgres, type RunningPostgres } from '../dev/postgres';
import { checkSoak } from './checks';
import { isWranglerRestart503 } from '../dev/live-stack';
import type { InviteToken, Outage, Sample, SoakUser } from './types';
import { expiredAccept, invitationStory, type InvitationContext } from './invitations';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    clients: { type: 'string', default: '6' },
    'drop-share': { type: 'string', default: '0.03' },
    'down-seconds': { type: 'string', default: '3' },
  },
});
const MINUTES = Number(args.minutes);
const CLIENTS = Number(args.clients);
const DROP_SHARE = Number(args['drop-share']);
const DOWN_MS = Number(args['down-seconds']) * 1000;
if (!(MINUTES > 0 && MINUTES <= 24 * 60) || !(CLIENTS >= 1 && CLIENTS <= 64) || !(DROP_SHARE >= 0 && DROP_SHARE < 1)) {
  throw new Error('usage: npm run soak -- [--minutes 0<N≤1440] [--clients 1..64] [--drop-share 0..<1]');
}
const MAX_REQUESTS = 2_000_000;
const REQUEST_TIMEOUT_MS = 20_000;
const HASH_PARAMS = 'N=1024,r=8,p=1';
// Short, so that some invitation links are presented after they expired within even a one-minute run.
const INVITATION_TTL_S = 20;
const PASSWORD = 'soak password that is long';
const log = (line: string) => process.stdout.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main() {
  handleSignals();
  const root = mkdtempSync(join(tmpdir(), 'dashboard-soak-'));
  chmodSync(root, 0o755);
  onShutdown('remove temporary folder', () => rmSync(root, { recursive: true, force: true }));

  // --- The stack: PostgreSQL (durable settings: the restarts must lose nothing), relay, HIBP stand-in, Worker.
  const pgPort = await freePort();
  const pgPassword = randomBytes(12).toString('hex');
  const dataDir = join(root, 'pgdata');
  let postgres: RunningPostgres | undefined = await startPostgres({ dataDir, port: pgPort, password: pgPassword });
  onShutdown('stop PostgreSQL', () => postgres?.stop());
  const directUrl = postgres.url('postgres');
  migrate(directUrl);
  const relay = await startFaultRelay({ upstreamPort: pgPort, dropShare: 0 });
  onShutdown('stop the fault relay', () => relay.close());
  const hibp = await startHibpStub();
  onShutdown('stop the HIBP stand-in', () => hibp.close());
  const admin = { email: 'soak-admin@soak.test', name: 'Soak Admin', password: PASSWORD };
  await ensureAdmin(directUrl, admin, HASH_PARAMS);
  const worker = await startWorker(`postgres://postgres:${pgPassword}@127.0.0.1:${relay.port}/postgres`, {
    PASSWORD_HASH_PARAMS: HASH_PARAMS,
    // Simulated clients each have an address (wrangler dev simulates request.cf); the per-IP limit stays per client.
    TRUSTED_IP_HEADER: 'cf-connecting-ip',
    HIBP_ENABLED: 'true',
    HIBP_URL: hibp.url,
    SERVER_TIMING: 'false',
    INVITATION_TTL: String(INVITATION_TTL_S),
  });
  onShutdown('stop the Worker', () => worker.close());
  log(`stack up: Worker ${worker.url}, PostgreSQL 127.0.0.1:${pgPort} behind the fault relay 127.0.0.1:${relay.port}`);

  // --- Load.
  const samples: Sample[] = [];
  const users: SoakUser[] = [];
  const outages: Outage[] = [];
  const tokens: InviteToken[] = [];
  let seq = 0;
  let ipSeq = 0;
  const started = Date.now();
  const deadline = started + MINUTES * 60_000;
  const nextIp = () => `10.${(ipSeq >> 16) & 255}.${(ipSeq >> 8) & 255}.${ipSeq++ & 255}`;

  async function call(op: Sample['op'], method: string, path: string, o: { body?: unknown; token?: string; ip?: string; user?: SoakUser } = {}) {
    const requestId = `soak-${++seq}`;
    const headers: Record<string, string> = { 'x-request-id': requestId };
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    if (o.ip) headers['cf-connecting-ip'] = o.ip;
    const sample: Sample = { op, requestId, start: Date.now(), end: 0, status: 0, userId: o.user?.id };
    let body: any;
    try {
      const res = await fetch(`${worker.url}${path}`, {
        method,
        headers,
        body: o.body === undefined ? undefined : JSON.stringify(o.body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      sample.status = res.status;
      const text = await res.text();
      body = text && (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text;
      if (res.status === 503 && isWranglerRestart503(text)) sample.fromWrangler = true;
    } catch {
      sample.status = -1; // no answer at all (network error or timeout)
    }
    sample.end = Date.now();
    samples.push(sample);
    return { sample, body };
  }

  let adminToken = '';
  let adminTokenAt = 0;
  async function adminAccess(): Promise<string | undefined> {
    if (Date.now() - adminTokenAt < 10 * 60_000 && adminToken) return adminToken;
    const { sample, body } = await call('signin', 'POST', '/v1/auth/login', { body: { email: admin.email, password: admin.password }, ip: '10.255.255.1' });
    if (sample.status !== 200) return undefined;
    adminToken = body.accessToken;
    adminTokenAt = Date.now();
    return adminToken;
  }

  const pick = <T>(list: T[]): T | undefined => (list.length ? list[Math.floor(Math.random() * list.length)] : undefined);
  const idle = (u: SoakUser) => !u.busy;

  async function signup() {
    const r = Math.random();
    const kind = r < 0.05 ? 'breached' : r < 0.1 && users.length ? 'duplicate' : 'new';
    const email = kind === 'duplicate' ? pick(users)!.email : `u${seq}-${randomBytes(3).toString('hex')}@soak.test`;
    const password = kind === 'breached' ? KNOWN_BREACHED[0]! : PASSWORD;
    const ip = nextIp();
    const { sample, body } = await call('signup', 'POST', '/v1/auth/register', { body: { name: 'Soak User', email, password }, ip });
    sample.email = email;
    sample.kind = kind;
    if (sample.status === 201) {
      users.push({
        id: body.user.id,
        email,
        ip,
        role: 'none',
        busy: false,
        refresh: { token: body.refreshToken, issuedStart: sample.start, issuedEnd: sample.end },
        access: body.accessToken,
      });
      sample.userId = body.user.id;
    }
  }

  async function signin(u: SoakUser) {
    const { sample, body } = await call('signin', 'POST', '/v1/auth/login', { body: { email: u.email, password: PASSWORD }, ip: u.ip, user: u });
    if (sample.status === 200) {
      u.refresh = { token: body.refreshToken, issuedEnd: sample.end, issuedStart: sample.start };
      u.access = body.accessToken;
    }
  }

  async function refresh(u: SoakUser) {
    const held = u.refresh!;
    const { sample, body } = await call('refresh', 'POST', '/v1/auth/refresh', { body: { refreshToken: held.token }, ip: u.ip, user: u });
    sample.tokenIssuedStart = held.issuedStart;
    sample.tokenIssuedEnd = held.issuedEnd;
    if (sample.status === 200) {
      u.refresh = { token: body.refreshToken, issuedEnd: sample.end, issuedStart: sample.start };
      u.access = body.accessToken;
    } else if (sample.status !== 429) {
      // Used, revoked, or of unknown fate (a 503 may have rotated it): never presented again.
      u.refresh = undefined;
    }
  }

  async function read(u: SoakUser | undefined) {
    const r = Math.random();
    if (u?.access && r < 0.5) {
      await call('read', 'GET', '/v1/me', { token: u.access, user: u });
      return;
    }
    const token = await adminAccess();
    if (!token) return;
    const path = r < 0.7 ? '/v1/users?limit=20' : r < 0.85 ? '/v1/stats/overview?days=7' : '/v1/audit?limit=20';
    await call('read', 'GET', path, { token });
  }

  async function roleChange(u: SoakUser) {
    const token = await adminAccess();
    if (!token) return;
    const grant = u.role === 'none';
    const { sample } = await call('role', grant ? 'PUT' : 'DELETE', `/v1/users/${u.id}/roles/analyst`, { token, user: u });
    sample.kind = grant ? 'grant' : 'revoke';
    if (sample.status === 204) u.role = grant ? 'analyst' : 'none';
    else u.role = 'unknown';
  }

  async function logoutAll(u: SoakUser) {
    const { sample } = await call('logout-all', 'POST', '/v1/auth/logout-all', { token: u.access, user: u });
    if (sample.status === 204) u.access = undefined;
  }

  const invitations: InvitationContext = {
    call,
    adminAccess,
    nextIp,
    password: PASSWORD,
    ttlMs: INVITATION_TTL_S * 1000,
    users,
    tokens,
    held: [],
  };

  async function client() {
    while (Date.now() < deadline && samples.length < MAX_REQUESTS) {
      if (Math.random() < 0.08) {
        await invitationStory(invitations);
        continue;
      }
      if (await expiredAccept(invitations)) continue;
      const r = Math.random();
      const u = pick(users.filter(idle));
      if (!u || r < 0.15) {
        await signup();
        continue;
      }
      u.busy = true;
      try {
        if (r < 0.35) await signin(u);
        else if (r < 0.55 && u.refresh) await refresh(u);
        else if (r < 0.8) await read(u);
        else if (r < 0.92 && u.role !== 'unknown') await roleChange(u);
        else if (u.access) await logoutAll(u);
        else await signin(u);
      } finally {
        u.busy = false;
      }
    }
  }

  // --- Faults: the relay drops connections throughout; the database restarts at 1/3 and 2/3 of the run.
  async function faults() {
    relay.dropShare = DROP_SHARE;
    for (const [i, mode] of (['fast', 'immediate'] as const).entries()) {
      const at = started + ((i + 1) * (deadline - started)) / 3;
      while (Date.now() < at) await sleep(Math.min(500, Math.max(1, at - Date.now())));
      const outage: Outage = { mode, stopAt: Date.now(), readyAt: 0, answeredAt: 0 };
      outages.push(outage);
      log(`restart ${i + 1}: stopping PostgreSQL (${mode === 'fast' ? 'fast shutdown' : 'crash: immediate, recovery on start'})`);
      await postgres!.stop(mode);
      postgres = undefined;
      await sleep(DOWN_MS);
      postgres = await startPostgres({ dataDir, port: pgPort, password: pgPassword });
      outage.readyAt = Date.now();
      // Recovery: the first /health that reaches the database again, polled every 20 ms (bounded).
      for (let n = 0; n < 3000 && !outage.answeredAt; n++) {
        try {
          if ((await fetch(`${worker.url}/health`, { signal: AbortSignal.timeout(5000) })).status === 200) outage.answeredAt = Date.now();
        } catch {}
        if (!outage.answeredAt) await sleep(20);
      }
      log(`restart ${i + 1}: PostgreSQL ready; API answering ${outage.answeredAt - outage.readyAt} ms later`);
    }
  }

  log(`load: ${CLIENTS} clients for ${MINUTES} min, ${(DROP_SHARE * 100).toFixed(1)}% of database connections dropped mid-statement`);
  const progress = setInterval(() => log(`${samples.length} requests, ${users.length} users`), 30_000);
  await Promise.all([faults(), ...Array.from({ length: CLIENTS }, client)]);
  clearInterval(progress);
  relay.dropShare = 0;

  // --- Checks, against the database directly.
  const report = await checkSoak({
    samples,
    users,
    tokens,
    invitationTtlMs: INVITATION_TTL_S * 1000,
    outages,
    relay: relay.stats,
    db: (text, params) => query(directUrl, text, params) as Promise<any>,
    workerLog: worker.output(),
  });
  report.settings = { minutes: MINUTES, clients: CLIENTS, dropShare: DROP_SHARE, downSeconds: DOWN_MS / 1000 };
  const outDir = join(projectRoot, 'soak-results');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'latest.json'), JSON.stringify(report, null, 2));
  process.stdout.write(`\n${report.text}\n`);
  await shutdown();
  process.exit(report.ok ? 0 : 1);
}

main().catch(async (error) => {
  process.stderr.write(`soak failed: ${error instanceof Error ? error.stack : error}\n`);
  await shutdown();
  process.exit(2);
});
