import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  customType,
  date,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  bigint,
  bigserial,
  serial,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  type AnyPgColumn,
} from 'drizzle-orm/pg-core';

const bit96 = customType<{ data: string; driverData: string }>({ dataType: () => 'bit(96)' });
const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({ dataType: () => 'bytea' });
const timestamps = { withTimezone: true, mode: 'string' } as const;

// 0007_lifecycle and 0008_mfa let PostgreSQL name these keys (`<table>_user_id_fkey`); declared with those names.
const userFk = (table: string, column: AnyPgColumn) =>
  foreignKey({ name: `${table}_user_id_fkey`, columns: [column], foreignColumns: [users.id] }).onDelete('cascade');
const factorFk = (table: string, column: AnyPgColumn) =>
  foreignKey({ name: `${table}_user_id_fkey`, columns: [column], foreignColumns: [mfaFactors.userId] }).onDelete('cascade');

export const users = pgTable(
  'users',
  {
    id: serial('id').primaryKey(),
    name: text('name').notNull(),
    email: text('email').notNull().unique(),
    // Null while the account is an invitation not yet accepted (0007_lifecycle).
    hashedPassword: text('hashed_password'),
    createdAt: timestamp('created_at', timestamps).notNull().defaultNow(),
    disabled: boolean('disabled').notNull().default(false),
    lastLoginAt: timestamp('last_login_at', timestamps),
    emailVerified: boolean('email_verified').notNull().default(false),
  },
  (t) => [
    // The API lower-cases emails; the database refuses anything that slipped past it.
    check('users_email_lower_case', sql`${t.email} = lower(${t.email})`),
    index('users_created_at_id_idx').on(t.createdAt, t.id),
    index('users_name_id_idx').on(t.name, t.id),
    index('users_last_login_at_idx').on(t.lastLoginAt),
    // Created by 0002_analytics (custom SQL, with its measurements); declared here so the snapshot knows it.
    index('users_disabled_id_idx').on(t.id).where(sql`${t.disabled}`),
    // Substring search (`q`) on 1M users needs trigram indexes; a b-tree cannot serve `%x%`.
    index('users_name_trgm_idx').using('gin', sql`${t.name} gin_trgm_ops`),
    index('users_email_trgm_idx').using('gin', sql`${t.email} gin_trgm_ops`),
    // Created by 0006_activity: 1- and 2-character substrings, which trigrams cannot serve.
    index('users_search_grams_idx').using('gin', sql`search_grams(${t.name}, ${t.email})`),
  ],
);

export const roles = pgTable('roles', {
  id: serial('id').primaryKey(),
  name: text('name').notNull().unique(),
  description: text('description'),
  createdAt: timestamp('created_at', timestamps).notNull().defaultNow(),
});

export const usersRoles = pgTable(
  'users_roles',
  {
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    roleId: integer('role_id')
      .notNull()
      .references(() => roles.id, { onDelete: 'cascade' }),
    assignedAt: timestamp('assigned_at', timestamps).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.roleId] }), index('users_roles_role_id_user_id_idx').on(t.roleId, t.userId)],
);

/** The fixed permission catalog (contract §8; src/auth/permissions.ts). */
export const permissions = pgTable('permissions', {
  name: text('name').primaryKey(),
  description: text('description').notNull(),
});

/** What each role grants. The primary key (role_id, permission) serves the request-time check. */
export const rolePermissions = pgTable(
  'role_permissions',
  {
    roleId: integer('role_id')
      .notNull()
      .references(() => roles.id, { onDelete: 'cascade' }),
    permission: text('permission')
      .notNull()
      .references(() => permissions.name),
  },
  (t) => [primaryKey({ columns: [t.roleId, t.permission] })],
);

/** One login: the family of refresh tokens rotated from it. */
export const sessions = pgTable(
  'sessions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: timestamp('created_at', timestamps).notNull().defaultNow(),
    lastUsedAt: timestamp('last_used_at', timestamps).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', timestamps).notNull(),
    revokedAt: timestamp('revoked_at', timestamps),
    userAgent: text('user_agent'),
    /** RFC 8176 methods the session was authenticated with (`{pwd}`, `{pwd,otp}`): refreshed tokens keep them. */
    amr: text('amr').array().notNull().default(sql`'{pwd}'`),
    ip: text('ip'),
  },
  (t) => [
    index('sessions_user_id_idx').on(t.userId).where(sql`${t.revokedAt} is null`),
    index('sessions_expires_at_idx').on(t.expiresAt),
    index('sessions_revoked_at_idx').on(t.revokedAt).where(sql`${t.revokedAt} is not null`),
    index('sessions_live_expires_at_idx').on(t.expiresAt).where(sql`${t.revokedAt} is null`),
  ],
);

/** Refresh tokens are stored only as SHA-256 hashes; `used_at` marks a rotated token so reuse is detectable. */
export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    tokenHash: bytea('token_hash').primaryKey(),
    sessionId: uuid('session_id')
      .notNull()
      .references(() => sessions.id, { onDelete: 'cascade' }),
    createdAt: timestamp('created_at', timestamps).notNull().defaultNow(),
    usedAt: timestamp('used_at', timestamps),
  },
  (t) => [index('refresh_tokens_session_id_idx').on(t.sessionId)],
);

/**
 * Recent sign-in attempts per email (keyed by a hash so unknown emails are not stored in clear).
 * One row per email, updated with ON CONFLICT so concurrent attempts serialise on it.
 */
export const loginThrottle = pgTable('login_throttle', {
  emailHash: bytea('email_hash').primaryKey(),
  attempts: timestamp('attempts', timestamps).array().notNull(),
});

export const auditEvents = pgTable(
  'audit_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: timestamp('at', timestamps).notNull().defaultNow(),
    actorId: integer('actor_id'),
    action: text('action').notNull(),
    targetType: text('target_type').notNull(),
    targetId: text('target_id'),
    ip: text('ip'),
    requestId: text('request_id'),
    details: jsonb('details').notNull().default({}),
  },
  (t) => [
    index('audit_events_actor_id_id_idx').on(t.actorId, t.id),
    index('audit_events_action_id_idx').on(t.action, t.id),
    index('audit_events_action_at_idx').on(t.action, t.at),
    // Created by 0002_analytics; see there.
    index('audit_events_actor_id_action_id_idx').on(t.actorId, t.action, t.id),
    // Created by 0006_activity: the audit export's time order.
    index('audit_events_at_id_idx').on(t.at, t.id),
  ],
);

/** Fallback per-IP request counters (fixed windows) where Cloudflare's Rate Limiting binding is not available. */
export const rateLimits = pgTable(
  'rate_limits',
  {
    key: text('key').notNull(),
    windowStart: timestamp('window_start', timestamps).notNull(),
    hits: integer('hits').notNull(),
  },
  (t) => [primaryKey({ columns: [t.key, t.windowStart] }), index('rate_limits_window_start_idx').on(t.windowStart)],
);

/**
 * Links sent by email (0007_lifecycle): only the SHA-256 of the token is stored; single-use, bound to a purpose, an
 * account and the address it was sent to; a newer token of the same purpose revokes the earlier ones.
 */
export const accountTokens = pgTable(
  'account_tokens',
  {
    tokenHash: bytea('token_hash').primaryKey(),
    userId: integer('user_id').notNull(),
    purpose: text('purpose').notNull(),
    email: text('email').notNull(),
    createdAt: timestamp('created_at', timestamps).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', timestamps).notNull(),
    usedAt: timestamp('used_at', timestamps),
    revokedAt: timestamp('revoked_at', timestamps),
  },
  (t) => [
    userFk('account_tokens', t.userId),
    check('account_tokens_purpose_check', sql`${t.purpose} in ('invitation', 'password_reset', 'email_verification', 'email_change')`),
    index('account_tokens_user_id_purpose_idx').on(t.userId, t.purpose, t.createdAt),
    index('account_tokens_expires_at_idx').on(t.expiresAt),
  ],
);

/** The transactional email outbox (0007_lifecycle); `id` is the provider's idempotency key. */
export const emailOutbox = pgTable(
  'email_outbox',
  {
    id: uuid('id').primaryKey(),
    createdAt: timestamp('created_at', timestamps).notNull().defaultNow(),
    kind: text('kind').notNull(),
    toAddress: text('to_address').notNull(),
    subject: text('subject').notNull(),
    textBody: text('text_body'),
    htmlBody: text('html_body'),
    status: text('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', timestamps).notNull().defaultNow(),
    lastError: text('last_error'),
    sentAt: timestamp('sent_at', timestamps),
    transport: text('transport'),
    providerId: text('provider_id'),
  },
  (t) => [
    check('email_outbox_status_check', sql`${t.status} in ('pending', 'sent', 'failed')`),
    index('email_outbox_due_idx').on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
    index('email_outbox_to_address_idx').on(t.toAddress, t.createdAt),
    index('email_outbox_sent_at_idx').on(t.sentAt).where(sql`${t.status} <> 'pending'`),
  ],
);

/** Emails sent per account and purpose in the last hour (0007_lifecycle): the password-reset cap, race-safe by upsert. */
export const emailQuota = pgTable(
  'email_quota',
  {
    userId: integer('user_id').notNull(),
    purpose: text('purpose').notNull(),
    sent: timestamp('sent', timestamps).array().notNull(),
  },
  (t) => [primaryKey({ name: 'email_quota_pk', columns: [t.userId, t.purpose] }), userFk('email_quota', t.userId)],
);

/**
 * Activity (contract §11), written by src/lib/activity.ts: one row per account per UTC day, `quarters` the UTC
 * quarter-hours it was active in (bit 0 = 00:00-00:15). 0006_activity makes the primary key `INCLUDE (quarters)`,
 * which Drizzle cannot declare.
 */
export const userActivity = pgTable(
  'user_activity',
  {
    day: date('day', { mode: 'string' }).notNull(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    quarters: bit96('quarters').notNull(),
    /** The account's previous active UTC day (null: its first): what the rollups below are keyed by. */
    prevDay: date('prev_day', { mode: 'string' }),
  },
  (t) => [primaryKey({ name: 'user_activity_pkey', columns: [t.day, t.userId] }), index('user_activity_user_id_day_idx').on(t.userId, t.day)],
);

/** Latest activity per account: the overview's rolling windows. */
export const userLastActivity = pgTable(
  'user_last_activity',
  {
    userId: integer('user_id')
      .primaryKey()
      .references(() => users.id, { onDelete: 'cascade' }),
    at: timestamp('at', timestamps).notNull(),
  },
  (t) => [index('user_last_activity_at_idx').on(t.at)],
);

/**
 * UTC rollups of user_activity (0006_activity), kept by src/lib/activity.ts, 16 shards by user id: per day the
 * accounts by gap (days since their previous active day, 0 = first ever, capped at 31), and per sign-up week the
 * accounts active in each week.
 */
export const activityDaily = pgTable(
  'activity_daily',
  { day: date('day', { mode: 'string' }).notNull(), gap: smallint('gap').notNull(), shard: smallint('shard').notNull(), users: integer('users').notNull() },
  (t) => [primaryKey({ name: 'activity_daily_pkey', columns: [t.day, t.gap, t.shard] })],
);

export const activityWeekly = pgTable(
  'activity_weekly',
  {
    cohort: date('cohort', { mode: 'string' }).notNull(),
    week: date('week', { mode: 'string' }).notNull(),
    shard: smallint('shard').notNull(),
    users: integer('users').notNull(),
  },
  (t) => [primaryKey({ name: 'activity_weekly_pkey', columns: [t.cohort, t.week, t.shard] })],
);

/** Zones with rollups of their own (0010_activity_zones; `npm run db:track-zone`). */
export const activityZones = pgTable('activity_zones', {
  zone: text('zone').primaryKey(),
  trackedSince: timestamp('tracked_since', timestamps).notNull().defaultNow(),
});

/** Per tracked zone and account: the latest local active day and the one before it. */
export const activityZoneLast = pgTable(
  'activity_zone_last',
  {
    zone: text('zone').notNull(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    day: date('day', { mode: 'string' }).notNull(),
    prevDay: date('prev_day', { mode: 'string' }),
  },
  (t) => [primaryKey({ name: 'activity_zone_last_pkey', columns: [t.zone, t.userId] })],
);

/** activity_daily and activity_weekly per tracked zone, in its calendar days and Monday-based weeks. */
export const activityZoneDaily = pgTable(
  'activity_zone_daily',
  {
    zone: text('zone').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    gap: smallint('gap').notNull(),
    shard: smallint('shard').notNull(),
    users: integer('users').notNull(),
  },
  (t) => [primaryKey({ name: 'activity_zone_daily_pkey', columns: [t.zone, t.day, t.gap, t.shard] })],
);

export const activityZoneWeekly = pgTable(
  'activity_zone_weekly',
  {
    zone: text('zone').notNull(),
    cohort: date('cohort', { mode: 'string' }).notNull(),
    week: date('week', { mode: 'string' }).notNull(),
    shard: smallint('shard').notNull(),
    users: integer('users').notNull(),
  },
  (t) => [primaryKey({ name: 'activity_zone_weekly_pkey', columns: [t.zone, t.cohort, t.week, t.shard] })],
);

/** Holders per role, 16 shards each, kept by statement-level triggers on users_roles (0006_activity). */
export const roleUserCounts = pgTable(
  'role_user_counts',
  {
    roleId: integer('role_id')
      .notNull()
      .references(() => roles.id, { onDelete: 'cascade' }),
    shard: smallint('shard').notNull(),
    users: integer('users').notNull(),
  },
  (t) => [primaryKey({ name: 'role_user_counts_pkey', columns: [t.roleId, t.shard] })],
);

/**
 * The overview's counters (0011_stats_counters), kept by statement-level triggers on users, audit_events and
 * user_last_activity and sessions; 4 shards each. kind: 0 sign-ups, 1 sign-ins, 2 failed sign-ins. The primary keys also
 * INCLUDE (n), which Drizzle cannot express.
 */
const eventCounter = (name: string) =>
  pgTable(
    name,
    {
      kind: smallint('kind').notNull(),
      at: timestamp('at', { withTimezone: true }).notNull(),
      shard: smallint('shard').notNull(),
      n: integer('n').notNull(),
    },
    (t) => [primaryKey({ name: `${name}_pkey`, columns: [t.kind, t.at, t.shard] })],
  );
export const statsQuarterly = eventCounter('stats_quarterly');
export const statsHourly = eventCounter('stats_hourly');

export const userTotals = pgTable('user_totals', {
  shard: smallint('shard').primaryKey(),
  users: integer('users').notNull(),
  disabled: integer('disabled').notNull(),
});

/** kind 0: accounts by the quarter-hour of their latest activity; 1: sessions not revoked, by expiry quarter-hour. */
export const quarterHistograms = eventCounter('quarter_histograms');

/**
 * One TOTP factor per account (0008_mfa). `secret` is sealed with AES-256-GCM under the key named by `key_id`;
 * `enabled_at` is null while enrolment waits for its first code; `last_step` is the highest time step accepted.
 */
export const mfaFactors = pgTable(
  'mfa_factors',
  {
    userId: integer('user_id').primaryKey(),
    secret: bytea('secret').notNull(),
    keyId: text('key_id').notNull(),
    createdAt: timestamp('created_at', timestamps).notNull().defaultNow(),
    enabledAt: timestamp('enabled_at', timestamps),
    lastStep: bigint('last_step', { mode: 'number' }),
  },
  (t) => [userFk('mfa_factors', t.userId), index('mfa_factors_enabled_idx').on(t.userId).where(sql`${t.enabledAt} is not null`)],
);

/** Single-use recovery codes, SHA-256 only; they go with their factor. */
export const mfaRecoveryCodes = pgTable(
  'mfa_recovery_codes',
  {
    userId: integer('user_id').notNull(),
    codeHash: bytea('code_hash').notNull(),
    usedAt: timestamp('used_at', timestamps),
  },
  (t) => [primaryKey({ name: 'mfa_recovery_codes_pk', columns: [t.userId, t.codeHash] }), factorFk('mfa_recovery_codes', t.userId)],
);

/** A sign-in between its password step and its code step; `token_hash` is the SHA-256 of the `mfaToken`. */
export const mfaChallenges = pgTable(
  'mfa_challenges',
  {
    tokenHash: bytea('token_hash').primaryKey(),
    userId: integer('user_id').notNull(),
    emailHash: bytea('email_hash').notNull(),
    createdAt: timestamp('created_at', timestamps).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', timestamps).notNull(),
    failures: integer('failures').notNull().default(0),
    usedAt: timestamp('used_at', timestamps),
  },
  (t) => [
    factorFk('mfa_challenges', t.userId),
    index('mfa_challenges_user_id_idx').on(t.userId),
    index('mfa_challenges_expires_at_idx').on(t.expiresAt),
  ],
);

// Version 3 (0012_v3_base): sources, their write keys, and the event store (partitioned by month in SQL).
export const sources = pgTable('sources', {
  id: serial('id').primaryKey(),
  name: text('name').notNull(),
  createdAt: timestamp('created_at', timestamps).notNull().defaultNow(),
  lastEventAt: timestamp('last_event_at', timestamps),
  deletedAt: timestamp('deleted_at', timestamps),
});

export const sourceKeys = pgTable(
  'source_keys',
  {
    id: serial('id').primaryKey(),
    sourceId: integer('source_id')
      .notNull()
      .references(() => sources.id, { onDelete: 'cascade' }),
    keyHash: bytea('key_hash').notNull().unique(),
    prefix: text('prefix').notNull(),
    createdAt: timestamp('created_at', timestamps).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', timestamps),
  },
  (t) => [
    index('source_keys_source_id_idx').on(t.sourceId),
    uniqueIndex('source_keys_current_idx').on(t.sourceId).where(sql`${t.expiresAt} is null`),
  ],
);

export const events = pgTable(
  'events',
  {
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity().notNull(),
    sourceId: integer('source_id').notNull(),
    event: text('event').notNull(),
    distinctId: text('distinct_id').notNull(),
    timestamp: timestamp('timestamp', timestamps).notNull(),
    receivedAt: timestamp('received_at', timestamps).notNull(),
    country: text('country'),
    properties: jsonb('properties').notNull().default({}),
    messageId: text('message_id'),
  },
  (t) => [
    primaryKey({ columns: [t.id, t.timestamp] }),
    index('events_event_timestamp_idx').on(t.event, t.timestamp),
    index('events_timestamp_id_idx').on(t.timestamp, t.id),
    index('events_distinct_id_timestamp_idx').on(t.distinctId, t.timestamp),
  ],
);

export const eventKeys = pgTable(
  'event_keys',
  {
    sourceId: integer('source_id').notNull(),
    key: text('key').notNull(),
    createdAt: timestamp('created_at', timestamps).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.sourceId, t.key] }), index('event_keys_created_at_idx').using('brin', t.createdAt)],
);

// Ingestion (0014_ingest): the per-source limit's windows and the parked dead letters of the queue path.
export const ingestWindows = pgTable(
  'ingest_windows',
  {
    sourceId: integer('source_id').notNull(),
    windowStart: timestamp('window_start', timestamps).notNull(),
    events: integer('events').notNull(),
  },
  (t) => [primaryKey({ columns: [t.sourceId, t.windowStart] })],
);

export const ingestDeadLetters = pgTable('ingest_dead_letters', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  messageId: text('message_id').notNull().unique(),
  body: jsonb('body').notNull(),
  attempts: integer('attempts').notNull(),
  deadAt: timestamp('dead_at', timestamps).notNull().defaultNow(),
});
// Dashboards (0016_dashboards, contract §15): widgets live in the row as one JSON array; shares by role id.
export const dashboards = pgTable(
  'dashboards',
  {
    id: serial('id').primaryKey(),
    name: text('name').notNull(),
    description: text('description'),
    ownerId: integer('owner_id').references(() => users.id, { onDelete: 'set null' }),
    widgets: jsonb('widgets').notNull().default([]),
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', timestamps).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', timestamps).notNull().defaultNow(),
  },
  (t) => [
    index('dashboards_owner_id_idx').on(t.ownerId, t.id),
    check('dashboards_widgets_array', sql`jsonb_typeof(${t.widgets}) = 'array' AND jsonb_array_length(${t.widgets}) <= 24`),
  ],
);

export const dashboardShares = pgTable(
  'dashboard_shares',
  {
    dashboardId: integer('dashboard_id')
      .notNull()
      .references(() => dashboards.id, { onDelete: 'cascade' }),
    roleId: integer('role_id')
      .notNull()
      .references(() => roles.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.dashboardId, t.roleId] }), index('dashboard_shares_role_id_idx').on(t.roleId, t.dashboardId)],
);

/** Passkeys (0018_passkeys, contract §17): WebAuthn credentials; `credential_id` is unique across all accounts. */
export const passkeys = pgTable(
  'passkeys',
  {
    id: serial('id').primaryKey(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    credentialId: bytea('credential_id').notNull().unique('passkeys_credential_id_key'),
    publicKey: bytea('public_key').notNull(),
    counter: bigint('counter', { mode: 'number' }).notNull().default(0),
    transports: text('transports').array().notNull().default(sql`'{}'`),
    name: text('name').notNull(),
    deviceType: text('device_type').notNull(),
    backedUp: boolean('backed_up').notNull(),
    createdAt: timestamp('created_at', timestamps).notNull().defaultNow(),
    lastUsedAt: timestamp('last_used_at', timestamps),
  },
  (t) => [index('passkeys_user_id_idx').on(t.userId), check('passkeys_counter_range', sql`${t.counter} >= 0 and ${t.counter} <= 4294967295`)],
);

/** Single-use ceremony challenges, SHA-256 only; registration ones belong to an account, sign-in ones to none. */
export const passkeyChallenges = pgTable(
  'passkey_challenges',
  {
    challengeHash: bytea('challenge_hash').primaryKey(),
    purpose: text('purpose').notNull(),
    userId: integer('user_id').references(() => users.id, { onDelete: 'cascade' }),
    expiresAt: timestamp('expires_at', timestamps).notNull(),
  },
  (t) => [
    index('passkey_challenges_expires_at_idx').on(t.expiresAt),
    index('passkey_challenges_user_id_idx').on(t.userId).where(sql`${t.userId} is not null`),
  ],
);

/** Personal API keys (contract §16, drizzle/0017_api_keys.sql): the key's SHA-256 only; checked by src/auth/api-key-check.ts. */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: serial('id').primaryKey(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    prefix: text('prefix').notNull(),
    keyHash: bytea('key_hash').notNull().unique(),
    permissions: text('permissions').array().notNull(),
    createdAt: timestamp('created_at', timestamps).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', timestamps),
    lastUsedAt: timestamp('last_used_at', timestamps),
    revokedAt: timestamp('revoked_at', timestamps),
  },
  (t) => [
    index('api_keys_user_id_created_at_idx')
      .on(t.userId, t.createdAt.desc(), t.id.desc())
      .where(sql`${t.revokedAt} is null`),
  ],
);
