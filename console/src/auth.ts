import type { InferResponseType } from 'hono/client';
import { useEffect, useState } from 'preact/hooks';
import { api, data, renew } from './api';
import { session } from './session';

export type Me = InferResponseType<typeof api.v1.me.$get, 200>;
export type Permission = 'users:read' | 'users:write' | 'roles:read' | 'roles:write' | 'stats:read' | 'audit:read' | 'events:read' | 'sources:write' | 'dashboards:write';

export interface Auth {
  me: Me;
  can(permission: Permission): boolean;
}

let current: Auth | null = null;
const listeners = new Set<() => void>();
const notify = () => listeners.forEach((l) => l());

function authOf(me: Me): Auth {
  // The caller's effective permissions now (contract §8), as GET /v1/me answers them.
  const granted = new Set<string>(me.permissions);
  return { me, can: (p) => granted.has(p) };
}

/** Reads the caller (and what they may do now) after sign-in, and after a change to the caller's own account. */
export async function loadMe(): Promise<Auth> {
  current = authOf(await data(api.v1.me.$get()));
  notify();
  return current;
}

/** At start-up: a refresh token left by this tab signs it in again; otherwise there is nobody. */
export async function restore(): Promise<Auth | null> {
  if (!session.refresh() || !(await renew())) return null;
  try {
    return await loadMe();
  } catch {
    return null;
  }
}

export async function signOut() {
  const refreshToken = session.refresh();
  session.clear();
  current = null;
  notify();
  if (refreshToken) await api.v1.auth.logout.$post({ json: { refreshToken } }).catch(() => {});
}

export function forget() {
  session.clear();
  current = null;
  notify();
}

export function useAuth(): Auth | null {
  const [, setTick] = useState(0);
  useEffect(() => {
    const listener = () => setTick((n) => n + 1);
    listeners.add(listener);
    return () => void listeners.delete(listener);
  }, []);
  return current;
}
