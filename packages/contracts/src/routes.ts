import { openApiPaths } from './openapi';

/** HTTP methods in the order an `Allow` header lists them. */
const METHOD_ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE'] as const;

/** One path of the public API and the methods every topology serves on it. */
export interface PublicRoute {
  /** The OpenAPI path template, e.g. `/orders/{id}/cancel`. */
  readonly template: string;
  /** Upper case, in METHOD_ORDER; HEAD wherever GET (Hono answers HEAD with the GET route, body dropped). */
  readonly methods: readonly string[];
  /** The `Allow` header value: the methods joined with ", ". */
  readonly allow: string;
}

interface CompiledRoute extends PublicRoute {
  readonly pattern: RegExp;
}

/** A template as a whole-path pattern: each `{param}` one non-empty segment, as a Hono `:param` matches. */
function patternOf(template: string): RegExp {
  const escaped = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped.replace(/\{[^/}]+\}/g, '[^/]+')}$`);
}

function compile(): CompiledRoute[] {
  return Object.entries(openApiPaths()).map(([template, item]) => {
    const listed = new Set(Object.keys(item).map((key) => key.toUpperCase()));
    if (listed.has('GET')) listed.add('HEAD');
    const methods = METHOD_ORDER.filter((method) => listed.has(method));
    return { template, methods, allow: methods.join(', '), pattern: patternOf(template) };
  });
}

// Read off the OpenAPI document's paths, once, on the first request no route took: a routed
// request (and a cold start) never pays for it.
let compiled: CompiledRoute[] | undefined;

/** Every path of the public API with its methods, in the OpenAPI document's order. */
export function publicRoutes(): readonly PublicRoute[] {
  return (compiled ??= compile());
}

/**
 * The public API's route whose template matches a request path, or undefined for a path the API
 * does not have. For the not-found path only: it decides between 405 (a known path, a method it
 * does not serve) and 404.
 * @example publicRouteOf('/orders/ord_1/cancel')?.allow // 'POST'
 */
export function publicRouteOf(path: string): PublicRoute | undefined {
  return (compiled ??= compile()).find((route) => route.pattern.test(path));
}
