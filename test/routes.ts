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
  'GET /v1/audit': { permission: 'audit:read' },
};

