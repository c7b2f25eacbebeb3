import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  bigserial,
  serial,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';

const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({ dataType: () => 'bytea' });
const timestamps = { withTimezone: true, mode: 'string' } as const;

export const users = pgTable(
  'users',
  {
    id: serial('id').primaryKey(),
    name: text('name').notNull(),
    email: text('email').notNull().unique(),
    hashedPassword: text('hashed_password').notNull(),
    createdAt: timestamp('created_at', timestamps).notNull().defaultNow(),
    disabled: boolean('disabled').notNull().default(false),
    lastLoginAt: timestamp('last_login_at', timestamps),
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
  (t) => [index('sessions_user_id_idx').on(t.userId).where(sql`${t.revokedAt} is null`)],
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
  (t) => [primaryKey({ columns: [t.key, t.windowStart] })],
);
