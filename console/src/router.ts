import { useEffect, useState } from 'preact/hooks';

/** Every page lives under /console/; the Worker answers index.html for any path there. */
export const BASE = '/console';

const listeners = new Set<() => void>();
const notify = () => listeners.forEach((l) => l());
window.addEventListener('popstate', notify);

export function navigate(path: string, { replace = false } = {}) {
  const url = path.startsWith(BASE) ? path : BASE + path;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  notify();
  if (!replace) window.scrollTo(0, 0);
}

/** The path below /console (e.g. `/users/5`) and the query string; re-renders on every navigation. */
export function useLocation(): { path: string; query: URLSearchParams } {
  const [, setTick] = useState(0);
  useEffect(() => {
    const listener = () => setTick((n) => n + 1);
    listeners.add(listener);
    return () => void listeners.delete(listener);
  }, []);
  const path = location.pathname.slice(BASE.length) || '/';
  return { path: path.length > 1 ? path.replace(/\/$/, '') : path, query: new URLSearchParams(location.search) };
}

/** Changes some query parameters in place (filters, period, time zone): the URL stays shareable, history stays short. */
export function setQuery(changes: Record<string, string | null | undefined>) {
  const query = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(changes)) {
    if (v === null || v === undefined || v === '') query.delete(k);
    else query.set(k, v);
  }
  const search = query.toString();
  navigate(location.pathname + (search ? `?${search}` : ''), { replace: true });
}

/** A click on an in-app link navigates without reloading; modified clicks keep the browser's behaviour. */
export function onLinkClick(event: MouseEvent) {
  const a = (event.target as Element | null)?.closest('a');
  if (!a || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  if (a.origin !== location.origin || !a.pathname.startsWith(BASE) || a.hasAttribute('download')) return;
  event.preventDefault();
  navigate(a.pathname + a.search);
}
