/**
 * The soak's invitation stories (scripts/soak/run.ts), told as an admin and an invitee would: the admin invites
 * (POST /v1/users without a password), the invitee finds the link in the dev mailbox and accepts it; some links are
 * presented twice (one after the other, or two at once), some are revoked first (a new invitation supersedes them,
 * or the account is deleted), some are held until they have expired. Every attempt is a Sample; what the database
 * must then show is checked in invitation-checks.ts.
 */
import { randomBytes } from 'node:crypto';
import type { InviteToken, Sample, SoakUser } from './types';

type Call = (op: Sample['op'], method: string, path: string, o?: { body?: unknown; token?: string; ip?: string; user?: SoakUser }) => Promise<{ sample: Sample; body: any }>;

export interface InvitationContext {
  call: Call;
  adminAccess(): Promise<string | undefined>;
  nextIp(): string;
  password: string;
  /** INVITATION_TTL of the Worker, in ms. */
  ttlMs: number;
  users: SoakUser[];
  tokens: InviteToken[];
  /** Links held back to be presented after they expired, oldest first. */
  held: InviteToken[];
}

const LINK = /\/console\/accept-invitation\?token=([^\s"'<&]+)/;

/** The newest invitation link the dev mailbox holds for `email`, as an invitee would click it. */
async function linkFor(ctx: InvitationContext, email: string): Promise<string | undefined> {
  const { sample, body } = await ctx.call('mailbox', 'GET', `/v1/dev/mailbox?to=${encodeURIComponent(email)}`);
  if (sample.status !== 200) return undefined;
  for (const m of body.data as { text: string }[]) {
    const found = LINK.exec(m.text);
    if (found) return decodeURIComponent(found[1]!);
  }
  return undefined;
}

async function accept(ctx: InvitationContext, t: InviteToken, kind: string) {
  const { sample, body } = await ctx.call('accept', 'POST', '/v1/auth/invitation/accept', {
    body: { token: t.token, password: ctx.password },
    ip: ctx.nextIp(),
  });
  sample.kind = kind;
  sample.userId = t.userId;
  sample.email = t.email;
  sample.tokenId = t.id;
  if (sample.status === 200) {
    // The invitee is now an ordinary user of the mix (sign-ins, refreshes, role changes).
    ctx.users.push({
      id: t.userId,
      email: t.email,
      ip: ctx.nextIp(),
      role: 'none',
      busy: false,
      refresh: { token: body.refreshToken, issuedStart: sample.start, issuedEnd: sample.end },
      access: body.accessToken,
    });
  }
  return sample;
}

/** Reads the link sent by the request `issued` and registers it as a token of the invitee. */
async function receive(ctx: InvitationContext, userId: number, email: string, issued: Sample): Promise<InviteToken | undefined> {
  const token = await linkFor(ctx, email);
  if (!token) return undefined;
  const t: InviteToken = { id: ctx.tokens.length + 1, token, userId, email, issuedStart: issued.start, issuedEnd: issued.end };
  ctx.tokens.push(t);
  return t;
}

/** One invitation from creation to its fate. */
export async function invitationStory(ctx: InvitationContext) {
  const admin = await ctx.adminAccess();
  if (!admin) return;
  const taken = Math.random() < 0.05 ? ctx.users[Math.floor(Math.random() * ctx.users.length)] : undefined;
  const email = taken?.email ?? `i${ctx.tokens.length}-${randomBytes(3).toString('hex')}@soak.test`;
  const { sample, body } = await ctx.call('invite', 'POST', '/v1/users', { body: { name: 'Soak Invitee', email }, token: admin });
  sample.kind = taken ? 'duplicate' : 'new';
  sample.email = email;
  if (sample.status !== 201) return;
  const userId: number = body.id;
  sample.userId = userId;
  const first = await receive(ctx, userId, email, sample);
  if (!first) return;

  const fate = Math.random();
  if (fate < 0.4) {
    // Accepted, then the same link presented again: it must not work twice.
    const a = await accept(ctx, first, 'accept');
    if (a.status === 200) {
      await accept(ctx, first, 'reuse');
      if (Math.random() < 0.3) await resend(ctx, userId, email, 'accepted');
    }
  } else if (fate < 0.6) {
    // Two accepts of one link at once: one wins.
    await Promise.all([accept(ctx, first, 'race'), accept(ctx, first, 'race')]);
  } else if (fate < 0.75) {
    // Revoked by a new invitation: the old link no longer works, the new one does.
    const r = await resend(ctx, userId, email, 'pending');
    if (r.status !== 202) return;
    await accept(ctx, first, 'superseded');
    const second = await receive(ctx, userId, email, r);
    if (second && second.token !== first.token) await accept(ctx, second, 'accept');
  } else if (fate < 0.87) {
    // Revoked by deleting the invited account: the link never yields an account.
    const { sample: d } = await ctx.call('revoke', 'DELETE', `/v1/users/${userId}`, { token: admin });
    d.kind = 'delete';
    d.userId = userId;
    d.email = email;
    if (d.status === 204) await accept(ctx, first, 'deleted');
  } else {
    ctx.held.push(first);
  }
}

async function resend(ctx: InvitationContext, userId: number, email: string, state: 'pending' | 'accepted') {
  const admin = (await ctx.adminAccess())!;
  const { sample } = await ctx.call('resend', 'POST', `/v1/users/${userId}/invitation`, { token: admin });
  sample.kind = state;
  sample.userId = userId;
  sample.email = email;
  return sample;
}

/** Presents one held link whose lifetime is over (with a margin), if there is one. */
export async function expiredAccept(ctx: InvitationContext): Promise<boolean> {
  const t = ctx.held[0];
  if (!t || Date.now() < t.issuedEnd + ctx.ttlMs + 2000) return false;
  ctx.held.shift();
  await accept(ctx, t, 'expired');
  return true;
}
