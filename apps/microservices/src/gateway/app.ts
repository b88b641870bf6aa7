import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { buildOpenApiDocument } from '@archbench/contracts/openapi';
import { LIMITS } from '@archbench/contracts/schemas';
import { authenticate, requireAdmin } from '@archbench/server-kit/auth';
import { apiSecurityHeaders, limitBody, overloadGuard } from '@archbench/server-kit/http';
import { SERVICE_NAMES } from '../env';
import type { Env } from '../env';
import type { InternalHttpClient } from '../shared/http-client';
import { createServiceApp } from '../shared/service-app';
import type { Observability } from '../shared/service-app';
import { gatewayRoutes } from './routes';

export interface GatewayAppDeps {
  env: Env;
  obs: Observability;
  client: InternalHttpClient;
}

/**
 * The gateway: the public API of the microservices topology. Verifies tokens, validates bodies,
 * sheds load past MAX_IN_FLIGHT (503 + Retry-After), refuses bodies over 64 KiB (413), and routes
 * to the services. Ready when every service is.
 */
export function createGatewayApp({ env, obs, client }: GatewayAppDeps) {
  const openapi = JSON.stringify(buildOpenApiDocument({ title: 'archbench order API (microservices)' }));
  const checks = Object.fromEntries(
    SERVICE_NAMES.map((service) => [
      service,
      async () => (await client.request(service, { method: 'GET', path: '/ready', attempts: 1, timeoutMs: 2000 })).status === 200,
    ]),
  );
  const middleware: MiddlewareHandler[] = [apiSecurityHeaders()];
  if (env.CORS_ORIGINS.length > 0) middleware.push(cors({ origin: env.CORS_ORIGINS, credentials: false, exposeHeaders: ['Location', 'Retry-After', 'Preference-Applied'] }));
  middleware.push(
    overloadGuard({ maxInFlight: env.MAX_IN_FLIGHT }),
    // As in the monolith: a declared length is checked up front, a chunked body while it streams.
    limitBody(LIMITS.maxBodyBytes),
  );
  const app = createServiceApp({ service: 'gateway', ...obs, checks, middleware });
  app.get('/openapi.json', (c) => c.body(openapi, 200, { 'content-type': 'application/json' }));
  const auth = authenticate(env.AUTH_SECRET);
  app.use('/orders', auth);
  app.use('/orders/*', auth);
  app.use('/admin/*', auth, requireAdmin());
  app.route('/', gatewayRoutes({ client }));
  return { app };
}
