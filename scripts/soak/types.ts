/** What the soak records while it runs (scripts/soak/run.ts) and what its checks read afterwards. */

export interface Sample {
  op: 'signup' | 'signin' | 'refresh' | 'read' | 'role' | 'logout-all' | 'invite' | 'mailbox' | 'accept' | 'resend' | 'revoke';
  requestId: string;
  start: number;
  end: number;
  /** HTTP status, or -1 when no answer came (network error, timeout). */
  status: number;
  /** A 503 whose body is wrangler's ProxyWorker's plain text ("Your worker restarted mid-request"): not the API's. */
  fromWrangler?: boolean;
  userId?: number;
  email?: string;
  /** signup, invite: new | duplicate (| breached); role: grant | revoke; accept: see invitations.ts. */
  kind?: string;
  /** accept: the InviteToken presented. */
  tokenId?: number;
  /** refresh: when the request that issued the presented token started and ended. */
  tokenIssuedStart?: number;
  tokenIssuedEnd?: number;
}

export interface SoakUser {
  id: number;
  email: string;
  ip: string;
  role: 'none' | 'analyst' | 'unknown';
  busy: boolean;
  refresh?: { token: string; issuedStart: number; issuedEnd: number };
  access?: string;
}

/** An invitation link as the invitee found it in the mailbox, and when the request that issued it ran. */
export interface InviteToken {
  id: number;
  token: string;
  userId: number;
  email: string;
  issuedStart: number;
  issuedEnd: number;
}

export interface Outage {
  mode: 'fast' | 'immediate';
  stopAt: number;
  readyAt: number;
  /** First /health 200 after the restart. */
  answeredAt: number;
}

export interface SoakReport {
  ok: boolean;
  text: string;
  settings?: Record<string, unknown>;
  requests: number;
  outcomes: Record<string, Record<string, number>>;
  invitations: string;
  checks: { name: string; violations: number; detail?: string }[];
  recoveries: { mode: string; downMs: number; recoveryMs: number; firstChangeMs: number | null }[];
  relay: { connections: number; statements: number; dropped: number; droppedAfterSync: number; upstreamRefused: number };
}

export type Db = <T = any>(text: string, params?: unknown[]) => Promise<T[]>;
