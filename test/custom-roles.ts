/** Custom roles and the callers who hold them, for the permission tests (escalation, stronger, races). */
import { createUser, signIn, type Harness } from './harness';

let n = 0;
/** A role name no other test uses. */
export const roleName = (tag = 'r') => `${tag}-${Date.now().toString(36)}-${(n++).toString(36)}`;

/** Inserts a custom role granting exactly `permissions`; returns its name. */
export async function customRole(h: Harness, permissions: string[], tag = 'grants'): Promise<string> {
  const name = roleName(tag);
  await h.query(
    `with r as (insert into roles (name) values ($1) returning id)
     insert into role_permissions (role_id, permission) select r.id, unnest($2::text[]) from r`,
    [name, permissions],
  );
  return name;
}

/** A signed-in user holding a custom role with exactly `permissions` (plus any `extra` roles). */
export async function callerWith(h: Harness, permissions: string[], extra: string[] = []) {
  const role = await customRole(h, permissions);
  const user = await createUser(h, { roles: [role, ...extra] });
  return { ...user, role, token: (await signIn(h, user)).accessToken };
}
