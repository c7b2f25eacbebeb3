/**
 * What the soak checks about invitations (scripts/soak/invitations.ts tells the stories) once the load has
 * stopped, beyond the audit-row checks every change gets in checks.ts: each invitation answered 201 left its
 * account and its email, an invitation is accepted at most once (also by two concurrent accepts), a superseded,
 * deleted or expired link never yields an account, and a refused accept left the account as it was.
 */
import type { Db, InviteToken, Sample } from './types';

interface Invitee {
  id: number;
  email: string;
  has_password: boolean;
  email_verified: boolean;
}

const ok2xx = (s: Sample) => s.status >= 200 && s.status < 300;
const unknownFate = (s: Sample) => s.status === 503 || s.status === -1;

export async function checkInvitations(input: {
  samples: Sample[];
  tokens: InviteToken[];
  ttlMs: number;
  db: Db;
  audit: Map<string, string[]>;
  skewMs: number;
}) {
  const { samples, tokens, ttlMs, db, audit, skewMs } = input;
  const checks: { name: string; violations: number; detail?: string }[] = [];
  const examples: string[] = [];
  const fail = (what: string, s: Sample) => examples.length < 10 && examples.push(`${what}: ${s.op} ${s.kind ?? ''} ${s.requestId} → ${s.status}`);
  const invites = samples.filter((s) => s.op === 'invite' && s.status === 201);
  const accepts = samples.filter((s) => s.op === 'accept');
  const deletes = samples.filter((s) => s.op === 'revoke');
  const ids = [...new Set(invites.map((s) => s.userId!))];
  const rows = new Map((await db<Invitee>(
    `select id, email, hashed_password is not null as has_password, email_verified from users where id = any($1::int[])`,
    [ids],
  )).map((r) => [r.id, r]));
  const mail = new Map((await db<{ to_address: string; n: number }>(
    `select to_address, count(*)::int as n from email_outbox where to_address = any($1::text[]) group by 1`,
    [invites.map((s) => s.email!.toLowerCase())],
  )).map((r) => [r.to_address, r.n]));
  const spent = await db<{ user_id: number; n: number }>(
    `select user_id, count(*)::int as n from account_tokens where purpose = 'invitation' and used_at is not null and user_id = any($1::int[]) group by 1`,
    [ids],
  );

  // Each 201: the account (unless deleted since), both audit rows, the email in the outbox.
  let missing = 0;
  for (const s of invites) {
    const actions = audit.get(s.requestId) ?? [];
    const deleted = deletes.some((d) => d.userId === s.userId && (ok2xx(d) || unknownFate(d)));
    const row = rows.get(s.userId!);
    const good = actions.includes('user.create') && actions.includes('user.invite') && (mail.get(s.email!.toLowerCase()) ?? 0) >= 1 &&
      (deleted || (row !== undefined && row.email === s.email!.toLowerCase()));
    if (!good) missing++, fail('invitation without its account, audit rows or email', s);
  }
  checks.push({ name: 'every invitation answered 201 has its account, its audit rows and its email', violations: missing, detail: `${invites.length} invitations` });

  // Accepted: the password is set and the address verified.
  const accepted = accepts.filter((s) => s.status === 200);
  let unset = 0;
  for (const s of accepted) {
    const row = rows.get(s.userId!);
    if (!row?.has_password || !row.email_verified) unset++, fail('accepted but no password', s);
  }
  checks.push({ name: 'every accepted invitation (200) set the password and verified the address', violations: unset });

  // At most once: per account, per link, and in the database (spent invitation tokens).
  const count = <K>(list: Sample[], key: (s: Sample) => K) => list.reduce((m, s) => m.set(key(s), (m.get(key(s)) ?? 0) + 1), new Map<K, number>());
  const excess = (m: Map<unknown, number>) => [...m.values()].reduce((sum, n) => sum + Math.max(0, n - 1), 0);
  const twice = excess(count(accepted, (s) => s.userId)) + excess(count(accepted, (s) => s.tokenId)) + spent.reduce((sum, r) => sum + Math.max(0, r.n - 1), 0);
  const reuse = accepts.filter((s) => s.kind === 'reuse');
  const races = count(accepts.filter((s) => s.kind === 'race'), (s) => s.tokenId);
  const raceWon = [...races.keys()].filter((t) => accepted.some((s) => s.tokenId === t)).length;
  checks.push({
    name: 'an invitation is accepted at most once (again later, or twice at once)',
    violations: twice,
    detail: `${reuse.length} presented again after acceptance: ${reuse.filter((s) => s.status === 401).length} refused; ${races.size} concurrent pairs: ${raceWon} with one winner`,
  });

  // Revoked (superseded by a new invitation, or the account deleted) or expired: never an account.
  const token = new Map(tokens.map((t) => [t.id, t]));
  const revoked = accepts.filter((s) => s.kind === 'superseded' || s.kind === 'deleted');
  const late = accepts.filter((s) => s.start > token.get(s.tokenId!)!.issuedEnd + ttlMs + skewMs);
  const deletedEmails = deletes.filter(ok2xx).map((d) => d.email!.toLowerCase());
  const resurrected = await db<{ n: number }>(`select count(*)::int as n from users where email = any($1::text[])`, [deletedEmails]);
  const yielded = revoked.filter((s) => s.status === 200).length + late.filter((s) => s.status === 200).length + resurrected[0]!.n;
  for (const s of [...revoked, ...late].filter((x) => x.status === 200)) fail('revoked or expired link accepted', s);
  checks.push({
    name: 'a superseded, deleted or expired invitation never yields an account',
    violations: yielded,
    detail: `${revoked.filter((s) => s.kind === 'superseded').length} superseded, ${revoked.filter((s) => s.kind === 'deleted').length} deleted, ${late.length} expired links presented`,
  });

  // Refused accepts left the account as it was: no password unless an accept of it was 200 (or of unknown fate, in
  // which case its audit row and its password come together).
  let dirty = 0;
  for (const id of ids) {
    const row = rows.get(id);
    if (!row) continue;
    const mine = accepts.filter((s) => s.userId === id);
    if (mine.some((s) => s.status === 200)) continue;
    const ambiguous = mine.filter(unknownFate);
    const audited = ambiguous.some((s) => (audit.get(s.requestId) ?? []).includes('user.invitation_accept'));
    if (row.has_password !== audited) dirty++, examples.length < 10 && examples.push(`invitee ${id}: password ${row.has_password}, accept audited ${audited}`);
  }
  checks.push({ name: 'a refused accept left the invited account unchanged (503: all or nothing)', violations: dirty });

  const byKind = (kind: string) => accepts.filter((s) => s.kind === kind);
  const figures =
    `Invitations: ${invites.length} invited, ${tokens.length} links read from the mailbox, ${accepted.length} accepted (each once); ` +
    `refused as they must be: ${reuse.filter((s) => s.status === 401).length}/${reuse.length} presented again, ` +
    `${byKind('superseded').filter((s) => s.status === 401).length}/${byKind('superseded').length} superseded, ` +
    `${byKind('deleted').filter((s) => s.status === 401).length}/${byKind('deleted').length} of deleted accounts, ` +
    `${late.filter((s) => s.status === 401).length}/${late.length} expired; ${races.size} concurrent pairs, ${raceWon} with one winner`;
  return { checks, examples, figures };
}
