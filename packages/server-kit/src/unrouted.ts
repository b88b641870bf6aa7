// Runtime-neutral and small (Hono and the shared error model only): every server's not-found
// handler and its authentication middleware, the workerd ones included (imported directly, so a
// worker that needs nothing else of ./portable does not bundle it).
import type { Context, Hono } from 'hono';
import { matchedRoutes } from 'hono/route';
import { AppError } from '@archbench/domain/errors';

/** HTTP methods in the order an `Allow` header lists them. */
const METHOD_ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE'] as const;

/** Hono's method of middleware (`app.use`) and of `app.all`: it serves no method of its own. */
const ANY_METHOD = 'ALL';

// Any app: only its router and route list are read, whatever its bindings.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Hono's Env, Schema and base path are irrelevant here
type AnyHono = Hono<any, any, any>;

/**
 * The methods `app` serves on `path`, in Allow order (HEAD wherever GET: Hono answers HEAD with
 * the GET route), read off the app's own router: a route (not middleware) of that method matches
 * the path; and the template of that route, `{param}` for `:param`. No methods for a path no
 * route serves.
 */
function servedOn(app: AnyHono, path: string): { methods: string[]; template: string } {
  const served = new Set<string>();
  let template = path;
  for (const method of new Set(app.routes.map((route) => route.method))) {
    if (method === ANY_METHOD || served.has(method)) continue;
    const [matches] = app.router.match(method, path);
    const route = matches.find(([[, candidate]]) => candidate.method === method)?.[0][1];
    if (route === undefined) continue;
    if (served.size === 0) template = route.path.replace(/:(\w+)(\{[^}]*\})?/g, '{$1}');
    served.add(method);
  }
  if (served.has('GET')) served.add('HEAD');
  return { methods: METHOD_ORDER.filter((method) => served.has(method)), template };
}

/**
 * True when a route (not only middleware) took this request; false when it will end in the
 * not-found handler (404, or 405 with Allow), which answers the same whoever asks. Middleware
 * that refuses callers (authentication, roles) lets such a request through, so a method a path
 * does not serve is 405 with or without a token, and an unknown path 404.
 * @example if (!routed(c)) return next()
 */
export function routed(c: Context): boolean {
  return matchedRoutes(c).some((route) => route.method !== ANY_METHOD);
}

/**
 * The error for a request no route of `app` took: 405 `method-not-allowed` with an `Allow` header
 * when some route of the app serves its path with other methods, else 404 `not-found`. Public
 * paths, admin and internal routes alike; a route the app did not mount (`/metrics` with metrics
 * off) is 404 for every method, as if it did not exist. For the not-found handler only: a routed
 * request runs none of it.
 * @example app.notFound((c) => respond(c, unroutedError(app, c)))
 */
export function unroutedError(app: AnyHono, c: Context): AppError {
  const { method, path } = c.req;
  const served = servedOn(app, path);
  // A method the path serves that still found no route (a HEAD that is its GET): a 404.
  if (served.methods.length === 0 || served.methods.includes(method)) return new AppError('not-found', `no route for ${method} ${path.slice(0, 200)}`);
  const allow = served.methods.join(', ');
  return new AppError('method-not-allowed', `${method.slice(0, 20)} is not allowed on ${served.template}; it serves ${allow}`, {
    headers: { allow },
  });
}
