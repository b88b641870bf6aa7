import { PORT_OFFSETS, defineTopology } from '../types';

/**
 * The hybrid: the monolith's catalog, orders and payments modules in one core process over one
 * database, shipping extracted as its own service (the microservices app's), fed through an
 * outbox in the core database over HTTP, or RabbitMQ when AMQP_URL is set. See
 * docs/adr/0005-hybrid-boundary.md.
 */
export default defineTopology({
  name: 'hybrid',
  title: 'Hybrid',
  description: 'core (catalog, orders, payments) in one process over one database + shipping as a service, fed through an outbox',
  app: 'apps/hybrid',
  defaultPort: 3200,
  publicProcess: 'core',
  processes: [
    { name: 'shipping', entry: 'src/shipping/main.ts', portOffset: PORT_OFFSETS.shipping, capabilities: ['shipping'], serverKit: true },
    // The core does not need shipping to serve (the outbox holds events), but starting it second
    // makes "core ready" mean "the whole topology is up".
    {
      name: 'core',
      entry: 'src/main.ts',
      portOffset: PORT_OFFSETS.public,
      capabilities: ['catalog', 'orders', 'payments'],
      after: ['shipping'],
      serverKit: true,
    },
  ],
  storage: 'SQLite files core.db and shipping.db in DATA_DIR, or the PostgreSQL database DATABASE_URL names (core) and <its name>_shipping',
  transport: 'http, or RabbitMQ when AMQP_URL is set (core → shipping events only)',
  billing: 'provisioned',
  env: ({ urls, env }) => ({ SHIPPING_URL: urls.shipping!, TRANSPORT: env.TRANSPORT ?? (env.AMQP_URL ? 'amqp' : 'http') }),
  unavailable: ({ env }) =>
    env.TRANSPORT === 'amqp' && !env.AMQP_URL ? 'TRANSPORT=amqp needs AMQP_URL (e.g. AMQP_URL=amqp://guest:guest@127.0.0.1:5672)' : undefined,
});
