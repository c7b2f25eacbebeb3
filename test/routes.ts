import type { Permission } from '../src/auth/permissions';

/**
 * Every authenticated route, the permission it needs (contract §8; null: a live session), and a body that would be
 * valid. test/authz.test.ts compares it with the router.
 */
export const GUARDED: Record<string, { permission: Permission | null; body?: unknown }> = {
  'POST /v1/auth/logout-all': { permission: null },
  'GET /v1/me': { permission: null },
  'PATCH /v1/me': { permission: null, body: { name: 'Me' } },
  'POST /v1/me/password': { permission: null, body: { currentPassword: 'x', newPassword: 'y'.repeat(12) } },
  'GET /v1/me/sessions': { permission: null },
  'DELETE /v1/me/sessions/:id': { permission: null },
  'GET /v1/permissions': { permission: null },
  'POST /v1/me/mfa/totp': { permission: null, body: { currentPassword: 'x' } },
  'POST /v1/me/mfa/totp/confirm': { permission: null, body: { code: '123456' } },
  'POST /v1/me/mfa/recovery-codes': { permission: null, body: { code: '123456' } },
  'POST /v1/me/mfa/disable': { permission: null, body: { currentPassword: 'x', code: '123456' } },
  'DELETE /v1/users/:id/mfa': { permission: 'users:write' },
  'GET /v1/users': { permission: 'users:read' },
  'POST /v1/users': { permission: 'users:write', body: { name: 'N', email: 'n@example.com', password: 'p'.repeat(12) } },
  'GET /v1/users/:id': { permission: 'users:read' },
  'PATCH /v1/users/:id': { permission: 'users:write', body: { name: 'N' } },
  'DELETE /v1/users/:id': { permission: 'users:write' },
  'PUT /v1/users/:id/roles': { permission: 'roles:write', body: { roles: ['viewer'] } },
  'PUT /v1/users/:id/roles/:role': { permission: 'roles:write' },
  'DELETE /v1/users/:id/roles/:role': { permission: 'roles:write' },
  'DELETE /v1/users/:id/sessions': { permission: 'users:write' },
  'GET /v1/roles': { permission: 'roles:read' },
  'POST /v1/roles': { permission: 'roles:write', body: { name: 'new-role' } },
  'GET /v1/roles/:role': { permission: 'roles:read' },
  'PATCH /v1/roles/:role': { permission: 'roles:write', body: { description: 'd' } },
  'DELETE /v1/roles/:role': { permission: 'roles:write' },
  'GET /v1/roles/:role/users': { permission: 'roles:read' },
  'GET /v1/stats/overview': { permission: 'stats:read' },
  'GET /v1/stats/active-users': { permission: 'stats:read' },
  'GET /v1/stats/retention': { permission: 'stats:read' },
  'GET /v1/users/export': { permission: 'users:read' },
  'GET /v1/audit/export': { permission: 'audit:read' },
  'GET /v1/audit': { permission: 'audit:read' },
  'POST /v1/me/email': { permission: null, body: { newEmail: 'n@example.com', currentPassword: 'x' } },
  'POST /v1/me/email/verification': { permission: null },
  'POST /v1/users/:id/invitation': { permission: 'users:write' },
  'POST /v1/users/:id/unlock': { permission: 'users:write' },
  // Passkeys (§17): the caller's own; exempt from MFA_REQUIRED_ROLES.
  'POST /v1/me/passkeys/options': { permission: null },
  'POST /v1/me/passkeys': { permission: null, body: { name: 'Key', response: { id: 'AA', rawId: 'AA', type: 'public-key', response: { clientDataJSON: 'AA', attestationObject: 'AA' } } } },
  'GET /v1/me/passkeys': { permission: null },
  'DELETE /v1/me/passkeys/:id': { permission: null },
};

