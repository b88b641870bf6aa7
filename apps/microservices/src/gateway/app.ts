import { authenticate, requireAdmin } from '@archbench/server-kit/auth';
import { openApiHandler, publicEdge } from '@archbench/server-kit/edge';
import { unroutedHandler } from '@archbench/server-kit/http';
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
 * sheds load past MAX_IN_FLIGHT (503 + Retry-After), refuses bodies over 64 KiB (413) through
 * the shared public edge, and routes to the services. Ready when every service is.
 */
export function createGatewayApp({ env, obs, client }: GatewayAppDeps) {
  const checks = Object.fromEntries(
    SERVICE_NAMES.map((service) => [
      service,
      async () => (await client.request(service, { method: 'GET', path: '/ready', attempts: 1, timeoutMs: 2000 })).status === 200,
    ]),
  );
  // The same public edge as the monolith's: security headers, CORS, body limit, overload guard.
  const middleware = [publicEdge({ corsOrigins: env.CORS_ORIGINS, maxInFlight: env.MAX_IN_FLIGHT })];
  const app = createServiceApp({ service: 'gateway', ...obs, checks, middleware });
  // A path some route serves, asked with a method none does: 405 with Allow (this app's routes), as every topology answers.
  app.notFound(unroutedHandler(app, obs));
  app.get('/openapi.json', openApiHandler('archbench order API (microservices)'));
  const auth = authenticate(env.AUTH_SECRET);
  app.use('/orders', auth);
  app.use('/orders/*', auth);
  app.use('/admin/*', auth, requireAdmin());
  app.route('/', gatewayRoutes({ client }));
  return { app };
}
