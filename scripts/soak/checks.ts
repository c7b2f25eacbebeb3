/**
 * What the soak (scripts/soak/run.ts) checks once the load has stopped: the answers it recorded against the rows the
 * database holds. Every check is a count of violations; the run passes when all are zero.
 */
import { checkInvitations } from './invitation-checks';
import type { Db, InviteToken, Outage, Sample, SoakReport, SoakUser } from './types';

const CHANGE_ACTION: Record<string, (s: Sample) => string | undefined> = {
  signup: () => 'user.register',
  signin: () => 'auth.login',
  role: (s) => (s.kind === 'grant' ? 'role.assign' : 'role.unassign'),
  'logout-all': () => 'auth.logout',
  invite: () => 'user.invite',
  accept: () => 'user.invitation_accept',
  resend: () => 'user.invite',
  revoke: () => 'user.delete',
};
/** Requests that change nothing. */
export const READS = new Set<Sample['op']>(['read', 'mailbox']);
// Refusals that are audited by design (a failed sign-in, a refresh token presented again).
const AUDITED_REFUSALS: Record<string, string[]> = { signin: ['auth.login_failed'], refresh: ['auth.refresh_reuse'] };
// Margin between the client's clock readings and PostgreSQL's now() (same machine, different moments).
const SKEW_MS = 250;

export async function checkSoak(input: {
  samples: Sample[];
  users: SoakUser[];
  tokens: InviteToken[];
  /** INVITATION_TTL of the Worker, in ms. */
  invitationTtlMs: number;
  outages: Outage[];
  relay: SoakReport['relay'];
  db: Db;
  workerLog: string;
}): Promise<SoakReport> {
  const { samples, outages, db, relay } = input;
  const checks: SoakReport['checks'] = [];
  const check = (name: string, violations: number, detail?: string) => checks.push({ name, violations, detail });

  // --- Outcomes.
  const inOutage = (s: Sample) => outages.some((o) => s.start < (o.answeredAt || o.readyAt || Infinity) && s.end > o.stopAt);
  const outcomes: SoakReport['outcomes'] = {};
  let outage503 = 0;
  let other503 = 0;
  for (const s of samples) {
    const label = s.status === -1 ? 'no answer' : s.status === 503 ? (inOutage(s) ? '503 (database down)' : '503 (connection dropped)') : String(s.status);
    if (s.status === 503) inOutage(s) ? outage503++ : other503++;
    outcomes[s.op] ??= {};
    outcomes[s.op]![label] = (outcomes[s.op]![label] ?? 0) + 1;
  }
  check('no 500', samples.filter((s) => s.status >= 500 && s.status !== 503).length);
  check('every request answered (no network error or timeout)', samples.filter((s) => s.status === -1).length);
  check('no unhandled error in the Worker log', (input.workerLog.match(/"msg":"unhandled error"/g) ?? []).length);
  // Each 503 by its request id: the API's own 503 leaves a "database unavailable" line with that id in the Worker's
  // log; a 503 without one (wrangler's ProxyWorker answering for a lost connection, above all) is not explained.
  const explained = new Set<string>();
  for (const line of input.workerLog.split('\n')) {
    if (!line.includes('"msg":"database unavailable"')) continue;
    const id = /"requestId":"([^"]+)"/.exec(line)?.[1];
    if (id) explained.add(id);
  }
  const unexplained503 = samples.filter((s) => s.status === 503 && !explained.has(s.requestId));
  const wrangler = unexplained503.filter((s) => s.fromWrangler).length;
  check(
    'every 503 is the API\'s, explained by its request id in the Worker log (database unavailable)',
    unexplained503.length,
    `${unexplained503.length} unexplained (${wrangler} wrangler's ProxyWorker "restarted mid-request")` +
      (unexplained503.length ? `: ${unexplained503.slice(0, 5).map((s) => `${s.op} ${s.requestId}`).join(', ')}` : ''),
  );
  check(
    '503 outside an outage only for a connection the relay cut',
    Math.max(0, other503 - relay.dropped),
    `${other503} such 503s, ${relay.dropped} connections cut`,
  );

  // --- Changes against the audit trail.
  const ids = samples.filter((s) => !READS.has(s.op)).map((s) => s.requestId);
  const audit = new Map<string, string[]>();
  for (let i = 0; i < ids.length; i += 5000) {
    const rows = await db<{ request_id: string; action: string }>(`select request_id, action from audit_events where request_id = any($1::text[])`, [ids.slice(i, i + 5000)]);
    for (const r of rows) audit.set(r.request_id, [...(audit.get(r.request_id) ?? []), r.action]);
  }
  const emails = [...new Set(samples.filter((s) => s.op === 'signup' || s.op === 'invite').map((s) => s.email!))];
  const userRows = new Map<string, number>();
  for (let i = 0; i < emails.length; i += 5000) {
    for (const r of await db<{ email: string; id: number }>(`select email, id from users where email = any($1::text[])`, [emails.slice(i, i + 5000)])) {
      userRows.set(r.email, r.id);
    }
  }
  const analysts = new Set(
    (await db<{ user_id: number }>(`select ur.user_id from users_roles ur join roles r on r.id = ur.role_id where r.name = 'analyst'`)).map((r) => r.user_id),
  );

  let missing = 0;
  let leftovers = 0;
  let halfDone = 0;
  let ambiguousMade = 0;
  let ambiguousNot = 0;
  const examples: string[] = [];
  const note = (what: string, s: Sample) => examples.length < 10 && examples.push(`${what}: ${s.op} ${s.kind ?? ''} ${s.requestId} → ${s.status}`);
  for (const s of samples) {
    const expected = CHANGE_ACTION[s.op]?.(s);
    const actions = audit.get(s.requestId) ?? [];
    if (s.status >= 200 && s.status < 300 && expected) {
      const ok = actions.filter((a) => a === expected).length === 1 && (s.op !== 'signup' || userRows.get(s.email!) === s.userId);
      if (!ok) missing++, note('2xx without its row', s);
    } else if (s.status >= 400 && s.status < 500 && !READS.has(s.op)) {
      const allowed = AUDITED_REFUSALS[s.op] ?? [];
      let dirty = actions.some((a) => !allowed.includes(a));
      if ((s.op === 'signup' || s.op === 'invite') && s.kind !== 'duplicate' && userRows.has(s.email!)) dirty = true;
      if (dirty) leftovers++, note('refused but left rows', s);
    } else if ((s.status === 503 || s.status === -1) && expected && (s.op === 'signup' || s.op === 'invite' || s.op === 'role')) {
      const audited = actions.includes(expected);
      const changed =
        s.op !== 'role' ? userRows.has(s.email!) : s.kind === 'grant' ? analysts.has(s.userId!) : !analysts.has(s.userId!);
      if (s.op !== 'role' && s.kind !== 'new') continue;
      if (audited !== changed) halfDone++, note('half a change', s);
      else if (audited) ambiguousMade++;
      else ambiguousNot++;
    }
  }
  check('every 2xx change is in the database with its audit row', missing);
  check('every refused change (4xx) left nothing', leftovers);
  check('every change answered 503 is all or nothing', halfDone, `${ambiguousMade} were made, ${ambiguousNot} were not`);

  // --- Invitations: single use, revocation, expiry (invitation-checks.ts).
  const invitations = await checkInvitations({ samples, tokens: input.tokens, ttlMs: input.invitationTtlMs, db, audit, skewMs: SKEW_MS });
  for (const c of invitations.checks) check(c.name, c.violations, c.detail);
  examples.push(...invitations.examples.slice(0, Math.max(0, 10 - examples.length)));

  // --- Revocations: role changes and sign-out everywhere end every earlier session of the user.
  const revocations = samples.filter((s) => (s.op === 'role' || s.op === 'logout-all') && s.status === 204);
  let outlived = 0;
  for (let i = 0; i < revocations.length; i += 500) {
    const batch = revocations.slice(i, i + 500);
    const rows = await db<{ n: number }>(
      `select count(*)::int as n from unnest($1::int[], $2::float8[], $3::float8[]) as r(user_id, started, ended)
       join sessions s on s.user_id = r.user_id
       where s.created_at < to_timestamp(r.started / 1000.0) - make_interval(secs => ${SKEW_MS / 1000})
         and (s.revoked_at is null or s.revoked_at > to_timestamp(r.ended / 1000.0) + make_interval(secs => ${SKEW_MS / 1000}))`,
      [batch.map((s) => s.userId), batch.map((s) => s.start), batch.map((s) => s.end)],
    );
    outlived += rows[0]!.n;
  }
  const byUser = new Map<number, Sample[]>();
  for (const r of revocations) byUser.set(r.userId!, [...(byUser.get(r.userId!) ?? []), r]);
  const acceptedAfter = samples.filter(
    (s) =>
      s.op === 'refresh' &&
      s.status === 200 &&
      (byUser.get(s.userId!) ?? []).some((r) => s.tokenIssuedEnd! < r.start && r.end < s.start),
  ).length;
  check('no session outlived a revocation (database)', outlived, `${revocations.length} revocations`);
  // A refused refresh must have a reason: a revocation (made, or of unknown outcome) after its token was issued.
  const mayRevoke = samples.filter((s) => (s.op === 'role' || s.op === 'logout-all') && (s.status === 204 || s.status === 503 || s.status === -1));
  const refused = samples.filter((s) => s.op === 'refresh' && s.status === 401);
  const unexplained = refused.filter(
    (s) => !mayRevoke.some((r) => r.userId === s.userId && r.end > s.tokenIssuedStart! && r.start < s.end),
  ).length;
  check('every refused refresh follows a revocation', unexplained, `${refused.length} refused`);
  check('no refresh token issued before a revocation was accepted after it', acceptedAfter);

  // --- Recovery after each restart.
  const recoveries = outages.map((o) => {
    const firstChange = samples
      .filter((s) => s.start >= o.readyAt && s.status >= 200 && s.status < 300 && CHANGE_ACTION[s.op])
      .reduce((min, s) => Math.min(min, s.end), Infinity);
    return {
      mode: o.mode,
      downMs: o.readyAt - o.stopAt,
      recoveryMs: o.answeredAt ? o.answeredAt - o.readyAt : -1,
      firstChangeMs: Number.isFinite(firstChange) ? firstChange - o.readyAt : null,
    };
  });
  check('the API answered again after every restart', recoveries.filter((r) => r.recoveryMs < 0).length);

  const ok = checks.every((c) => c.violations === 0);
  const text = render(samples.length, outcomes, checks, recoveries, relay, examples, ok, outage503, invitations.figures);
  return { ok, text, requests: samples.length, outcomes, invitations: invitations.figures, checks, recoveries, relay };
}

function render(
  total: number,
  outcomes: SoakReport['outcomes'],
  checks: SoakReport['checks'],
  recoveries: SoakReport['recoveries'],
  relay: SoakReport['relay'],
  examples: string[],
  ok: boolean,
  outage503: number,
  invitations: string,
): string {
  const lines: string[] = [];
  lines.push(`Requests: ${total} (${outage503} answered 503 while the database was down)`);
  for (const [op, counts] of Object.entries(outcomes)) {
    const parts = Object.entries(counts)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}: ${v}`);
    lines.push(`  ${op.padEnd(11)} ${parts.join(', ')}`);
  }
  lines.push(invitations);
  lines.push(
    `Fault relay: ${relay.connections} database connections, ${relay.statements} statements, ${relay.dropped} cut mid-statement (${relay.droppedAfterSync} after the statement's Sync: committed, answer lost), ${relay.upstreamRefused} refused while down`,
  );
  for (const [i, r] of recoveries.entries()) {
    lines.push(
      `Restart ${i + 1} (${r.mode === 'fast' ? 'fast shutdown' : 'crash + recovery'}): down ${r.downMs} ms; API answering ${r.recoveryMs} ms after PostgreSQL was ready; first change committed ${r.firstChangeMs ?? '—'} ms after`,
    );
  }
  lines.push('Checks:');
  for (const c of checks) lines.push(`  ${c.violations === 0 ? 'ok  ' : 'FAIL'} ${c.name}${c.violations ? ` (${c.violations} violations)` : ''}${c.detail ? ` — ${c.detail}` : ''}`);
  if (examples.length) lines.push('Examples:', ...examples.map((e) => `  ${e}`));
  lines.push(ok ? 'SOAK PASSED' : 'SOAK FAILED');
  return lines.join('\n');
}
