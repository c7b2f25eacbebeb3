import type { Hono } from 'hono';

type Matcher = { method: string; pattern: RegExp };

const MAX_CACHED_PATHS = 1000;

function compile(path: string): RegExp {
  const source = path
    .split('/')
    .map((part) => (part.startsWith(':') ? '[^/]+' : part === '*' ? '.*' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  // Exact, like the router (strict): `/health/` is no route at all (404), not `/health` under another method.
  return new RegExp(`^${source}$`);
}

/**
 * Hono answers 404 when a path exists under another method; the contract wants 405 with `Allow`.
 * The matchers come from the app's own route table, so they cannot drift from the routes.
 */
export function allowedMethods(app: Hono<any, any, any>): (path: string) => string[] {
  let matchers: Matcher[] | undefined;
  // Answers per path, kept per isolate (bounded: paths carry ids, so the oldest entry makes room for a new one).
  const answers = new Map<string, string[]>();
  return (path) => {
    const known = answers.get(path);
    if (known) return known;
    matchers ??= app.routes
      .filter((r) => r.method !== 'ALL')
      .map((r) => ({ method: r.method, pattern: compile(r.path) }));
    const methods = new Set(matchers.filter((m) => m.pattern.test(path)).map((m) => m.method));
    if (methods.has('GET')) methods.add('HEAD');
    const answer = [...methods].sort();
    if (answers.size >= MAX_CACHED_PATHS) answers.delete(answers.keys().next().value!);
    answers.set(path, answer);
    return answer;
  };
}
