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

function compile(): PublicRoute[] {
  return Object.entries(openApiPaths()).map(([template, item]) => {
    const listed = new Set(Object.keys(item).map((key) => key.toUpperCase()));
    if (listed.has('GET')) listed.add('HEAD');
    const methods = METHOD_ORDER.filter((method) => listed.has(method));
    return { template, methods, allow: methods.join(', ') };
  });
}

// Read off the OpenAPI document's paths, once, when first asked.
let compiled: PublicRoute[] | undefined;

/**
 * Every path of the public API with its methods, in the OpenAPI document's order: what the
 * conformance suite holds every topology to (405 with this `Allow` for any other method). The
 * servers answer from their own mounted routes (`@archbench/server-kit/unrouted`), so admin and
 * internal routes outside the contract answer 405 too.
 */
export function publicRoutes(): readonly PublicRoute[] {
  return (compiled ??= compile());
}
