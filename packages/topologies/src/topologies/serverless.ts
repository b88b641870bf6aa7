import { defineTopology } from '../types';

/**
 * The serverless app: an HTTP API worker, the payment step and shipping as queue consumers, one
 * D1 database, on workerd (Cloudflare's Workers runtime) through miniflare. One Node launcher
 * bundles the workers and starts one workerd process that runs all three isolates; compare
 * measures CPU and memory of the workerd process tree from /proc (workerd has no process metrics
 * inside), not of the launcher.
 */
export default defineTopology({
  name: 'serverless',
  title: 'Serverless',
  description: 'Cloudflare Workers on workerd: API worker + payment and shipping queue consumers, D1, Queues with a dead-letter queue',
  app: 'apps/serverless',
  defaultPort: 3300,
  publicProcess: 'api',
  // The Node launcher (esbuild, miniflare's host: ≈280 MB) is local scaffolding Cloudflare does
  // not run, so only workerd, its child, is measured. It is no server-kit server (no drain):
  // stop() gives it its grace only.
  processes: [
    { name: 'api', entry: 'src/launch.ts', portOffset: 0, capabilities: ['gateway', 'catalog', 'orders', 'payments', 'shipping'], measure: 'children' },
  ],
  storage: 'D1 (SQLite files under DATA_DIR/workerd); on Cloudflare, a D1 database',
  transport: 'Cloudflare Queues (miniflare runs them in workerd)',
  // Workers bill requests and CPU time; nothing runs (or is paid for) at rest.
  billing: 'per-request',
});
