import { fileURLToPath } from 'node:url';

/** Absolute path of the repository root (deploy/ sits directly under it). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Deployable {
  /** Image name (`archbench-<name>`), compose service and Kubernetes Deployment name. */
  name: string;
  /** Entry bundled into the image, relative to the repository root. */
  entry: string;
  /** Port the process listens on inside its container. */
  port: number;
  /** Path the container HEALTHCHECK and the liveness probe call. */
  health: string;
  /** Path the readiness probe calls. */
  ready: string;
  /** Which Dockerfile builds it. */
  dockerfile: 'server.Dockerfile' | 'frontend.Dockerfile';
  /** Uses SQLite files under DATA_DIR unless DATABASE_URL is set. */
  stateful: boolean;
}

/**
 * Every process archbench deploys as its own container. The serverless app is not here: it
 * deploys to Cloudflare with wrangler. Ports are those `pnpm start` uses, so URLs read the same
 * on a laptop, in compose and in a cluster.
 * @example DEPLOYABLES.find((d) => d.name === 'gateway')?.port // 3100
 */
export const DEPLOYABLES: readonly Deployable[] = [
  { name: 'monolith', entry: 'apps/monolith/src/main.ts', port: 3000, health: '/health', ready: '/ready', dockerfile: 'server.Dockerfile', stateful: true },
  // The gateway's /ready asks every service's /ready (what the local launcher waits for before a
  // run). As a readiness probe that would take every gateway replica out of its Service whenever
  // one service or the broker blips, reads included, instead of answering 502 for what is down:
  // the gateway keeps no state of its own, so in a cluster ready = alive.
  {
    name: 'gateway',
    entry: 'apps/microservices/src/gateway/main.ts',
    port: 3100,
    health: '/health',
    ready: '/health',
    dockerfile: 'server.Dockerfile',
    stateful: false,
  },
  {
    name: 'inventory',
    entry: 'apps/microservices/src/inventory/main.ts',
    port: 3101,
    health: '/health',
    ready: '/ready',
    dockerfile: 'server.Dockerfile',
    stateful: true,
  },
  {
    name: 'orders',
    entry: 'apps/microservices/src/orders/main.ts',
    port: 3102,
    health: '/health',
    ready: '/ready',
    dockerfile: 'server.Dockerfile',
    stateful: true,
  },
  {
    name: 'payments',
    entry: 'apps/microservices/src/payments/main.ts',
    port: 3103,
    health: '/health',
    ready: '/ready',
    dockerfile: 'server.Dockerfile',
    stateful: true,
  },
  {
    name: 'shipping',
    entry: 'apps/microservices/src/shipping/main.ts',
    port: 3104,
    health: '/health',
    ready: '/ready',
    dockerfile: 'server.Dockerfile',
    stateful: true,
  },
  { name: 'hybrid-core', entry: 'apps/hybrid/src/main.ts', port: 3200, health: '/health', ready: '/ready', dockerfile: 'server.Dockerfile', stateful: true },
  {
    name: 'hybrid-shipping',
    entry: 'apps/hybrid/src/shipping/main.ts',
    port: 3204,
    health: '/health',
    ready: '/ready',
    dockerfile: 'server.Dockerfile',
    stateful: true,
  },
  // The console's server answers /health itself (before its SPA fallback); it has no dependency
  // to wait for (a backend that is down is a 502 on that backend's requests), so ready = alive.
  {
    name: 'frontend',
    entry: 'apps/frontend/server.ts',
    port: 5173,
    health: '/health',
    ready: '/health',
    dockerfile: 'frontend.Dockerfile',
    stateful: false,
  },
];

/** Looks a deployable up by name; throws naming the known ones. */
export function deployable(name: string): Deployable {
  const found = DEPLOYABLES.find((d) => d.name === name);
  if (!found) throw new Error(`unknown deployable ${JSON.stringify(name)}; known: ${DEPLOYABLES.map((d) => d.name).join(', ')}`);
  return found;
}
