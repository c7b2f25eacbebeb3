/**
 * The permission catalog (contract §8): fixed, named `resource:verb`. Roles grant them (table `role_permissions`,
 * drizzle/0004_permissions.sql); routes name the one they need with `requirePermission` (src/auth/authorize.ts).
 * The same rows (0004, 0012 for v3's three) live in the table `permissions`, which the grants reference; test/permissions.test.ts keeps both
 * in step.
 */
export const PERMISSIONS = {
  'audit:read': 'Read the audit log and export it',
  'dashboards:write': 'Create, edit, share and delete dashboards',
  'events:read': 'Query events, list events and event names, read sources',
  'roles:read': 'List and read roles and their holders',
  'roles:write': 'Create, update and delete roles; assign and unassign them',
  'sources:write': 'Create, rename, rotate and delete event sources',
  'stats:read': 'Read the dashboard figures and analytics',
  'users:read': 'List and read users',
  'users:write':
    'Create, update, disable and delete users, revoke their sessions, reset their second factor, resend invitations, unlock',
} as const;

export type Permission = keyof typeof PERMISSIONS;

/** Every permission, ordered by name. */
export const PERMISSION_NAMES = Object.keys(PERMISSIONS).sort() as Permission[];

export const isPermission = (name: string): name is Permission => Object.hasOwn(PERMISSIONS, name);
