import { Hono } from 'hono';
import type { Context } from 'hono';
import { proxy } from 'hono/proxy';
import { serveStatic } from '@hono/node-server/serve-static';
import { PROBLEM_BASE, PROBLEM_CONTENT_TYPE } from '@archbench/contracts/problems';
import { LIMITS } from '@archbench/contracts/schemas';
import type { ProblemCode } from '@archbench/contracts/problems';
import { mintToken } from '@archbench/contracts/tokens';
import { BackendId, DevTokenRequest, backendLabel } from '../src/api/config-schema';
import type { FrontendConfig } from '../src/api/config-schema';
import { backendsOf, devLoginEnabled } from './env';
import type { FrontendEnv } from './env';

/** Lifetime of a demo token: long enough for a session at the console, short enough to expire. */
const DEV_TOKEN_SECONDS = 8 * 3600;

/**
 * The request headers the public API reads, the only ones the proxy passes on: not the browser's
 * cookies for this host, its hop-by-hop or `Expect` headers, nor forwarding headers a client made up.
 */
const FORWARDED_HEADERS = [
  'accept',
  'authorization',
  'content-type',
  'content-length',
  'content-encoding',
  'idempotency-key',
  'prefer',
  'traceparent',
  'tracestate',
  'x-request-id',
] as const;

/** How long a backend may take to answer: the longest `Prefer: wait` the contract allows, and some. */
export const UPSTREAM_TIMEOUT_MS = (LIMITS.maxWaitSeconds + 15) * 1000;

export interface FrontendServerOptions {
  env: Pick<FrontendEnv, 'MONOLITH_URL' | 'MICROSERVICES_URL' | 'AUTH_SECRET' | 'DEV_LOGIN'> & { BACKENDS?: FrontendEnv['BACKENDS'] };
  /** Absolute path of the built app; omit to serve only the API routes (Vite dev mounts those). */
  distDir?: string;
  /** Replaces fetch towards the backends (tests use a real server instead where they can). */
  fetchUpstream?: (request: Request) => Promise<Response>;
  /** How long a backend may take to answer before the console answers 502 itself, ms; default UPSTREAM_TIMEOUT_MS. */
  upstreamTimeoutMs?: number;
}

function problem(
  c: Context,
  status: 400 | 403 | 404 | 415 | 422 | 502,
  code: ProblemCode,
  title: string,
  detail: string,
  errors?: { path: string; message: string }[],
) {
  return c.body(JSON.stringify({ type: `${PROBLEM_BASE}${code}`, title, status, detail, code, ...(errors ? { errors } : {}) }), status, {
    'content-type': PROBLEM_CONTENT_TYPE,
  });
}

/**
 * The frontend's small server: `GET /health` (liveness, for the image's HEALTHCHECK and the
 * cluster's probes; answered before the SPA fallback, which would answer any path), `GET /config.json`, `POST /dev/token` (demo sign-in without
 * giving the browser the AUTH_SECRET), `/api/<backend>/*` proxied to each reference app, and
 * the built single-page app. Serving is done by server.ts; tests call `app.request()`.
 * @example createFrontendServer({ env: loadEnv(), distDir: resolve('dist') }).fetch(request)
 */
export function createFrontendServer({ env, distDir, fetchUpstream, upstreamTimeoutMs = UPSTREAM_TIMEOUT_MS }: FrontendServerOptions) {
  const backends = backendsOf(env);
  const upstreams = new Map(backends.map((b) => [b.id, b.url]));
  const config: FrontendConfig = {
    backends: backends.map(({ id }) => ({ id, ...backendLabel(id) })),
    devLogin: devLoginEnabled(env),
  };

  const app = new Hono();

  // The same shape as the API servers' /health (@archbench/observability's healthRoutes).
  app.get('/health', (c) => c.json({ status: 'ok', service: 'frontend' }, 200, { 'cache-control': 'no-store' }));

  app.get('/config.json', (c) => c.json(config, 200, { 'cache-control': 'no-store' }));

  app.post('/dev/token', async (c) => {
    if (!config.devLogin) {
      return problem(
        c,
        403,
        'forbidden',
        'Demo sign-in is off',
        'This server has a real AUTH_SECRET; sign in with a token issued for it (or start the server with DEV_LOGIN=1).',
      );
    }
    if (!(c.req.header('content-type') ?? '').toLowerCase().startsWith('application/json')) {
      return problem(c, 415, 'unsupported-media-type', 'Unsupported media type', 'send the body as application/json');
    }
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return problem(c, 400, 'malformed-json', 'Malformed JSON', 'the request body is not valid JSON');
    }
    const parsed = DevTokenRequest.safeParse(body);
    if (!parsed.success) {
      const errors = parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message }));
      return problem(c, 422, 'validation-failed', 'Validation failed', errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors);
    }
    const now = Math.floor(Date.now() / 1000);
    const token = mintToken(env.AUTH_SECRET, { sub: parsed.data.customerId, role: 'customer', expiresInSeconds: DEV_TOKEN_SECONDS, now });
    return c.json({ token, customerId: parsed.data.customerId, expiresAt: new Date((now + DEV_TOKEN_SECONDS) * 1000).toISOString() }, 200, {
      'cache-control': 'no-store',
    });
  });

  app.all('/api/:backend/*', async (c) => {
    const id = BackendId.safeParse(c.req.param('backend'));
    const base = id.success ? upstreams.get(id.data) : undefined;
    if (!id.success || !base) {
      return problem(c, 404, 'not-found', 'Unknown backend', `no backend named ${JSON.stringify(c.req.param('backend'))} is configured; see /config.json`);
    }
    const url = new URL(c.req.url);
    const rest = url.pathname.slice(`/api/${id.data}`.length) || '/';
    const target = `${base}${rest}${url.search}`;
    const headers: Record<string, string> = {};
    for (const name of FORWARDED_HEADERS) {
      const value = c.req.header(name);
      if (value !== undefined) headers[name] = value;
    }
    const host = c.req.header('host');
    if (host !== undefined) headers['x-forwarded-host'] = host;
    const timeout = AbortSignal.timeout(upstreamTimeoutMs);
    try {
      return await proxy(target, {
        method: c.req.method,
        body: c.req.raw.body,
        headers,
        // Given up when the browser goes away, or when the backend takes longer than any answer may.
        signal: AbortSignal.any([c.req.raw.signal, timeout]),
        ...(fetchUpstream ? { customFetch: fetchUpstream } : {}),
        // Node's fetch needs this to stream a request body.
        ...({ duplex: 'half' } as object),
      });
    } catch (error) {
      const { label } = backendLabel(id.data);
      if (timeout.aborted) {
        return problem(
          c,
          502,
          'dependency-failed',
          `${label} did not answer in time`,
          `no answer from ${label} within ${upstreamTimeoutMs / 1000} s; is it overloaded or stuck?`,
        );
      }
      return problem(
        c,
        502,
        'dependency-failed',
        `${label} is unreachable`,
        `the console's server could not reach ${base} (${error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error)}); is it running?`,
      );
    }
  });

  if (distDir) {
    app.use('/*', serveStatic({ root: distDir }));
    // Views live in the URL hash, so every other GET that wants a page gets the app shell.
    app.get('*', serveStatic({ root: distDir, path: 'index.html' }));
  }

  app.notFound((c) => problem(c, 404, 'not-found', 'Not found', `nothing at ${new URL(c.req.url).pathname}`));
  return app;
}
