import { PORT_OFFSETS, defineTopology } from '../types';
import type { Capability, TopologyDefinition } from '../types';

const SERVICES: readonly { name: 'inventory' | 'orders' | 'payments' | 'shipping'; capabilities: Capability[] }[] = [
  { name: 'inventory', capabilities: ['catalog'] },
  { name: 'orders', capabilities: ['orders'] },
  { name: 'payments', capabilities: ['payments'] },
  { name: 'shipping', capabilities: ['shipping'] },
];

/**
 * The microservices app with one saga transport. Both microservices topologies share every process
 * and differ only in TRANSPORT, so they are built here and named in their own files.
 */
export function microservicesTopology(transport: 'http' | 'amqp'): TopologyDefinition {
  return defineTopology({
    name: `microservices-${transport}`,
    family: 'microservices',
    title: transport === 'http' ? 'Microservices (HTTP)' : 'Microservices (RabbitMQ)',
    description: `gateway + inventory, orders, payments and shipping services, a database each, an orchestrated saga over ${transport === 'http' ? 'HTTP' : 'RabbitMQ'}`,
    app: 'apps/microservices',
    defaultPort: 3100,
    publicProcess: 'gateway',
    processes: [
      ...SERVICES.map((service) => ({
        name: service.name,
        entry: `src/${service.name}/main.ts`,
        portOffset: PORT_OFFSETS[service.name],
        capabilities: service.capabilities,
        serverKit: true,
      })),
      // The gateway answers /ready only once it can reach the services, so it starts after them.
      {
        name: 'gateway',
        entry: 'src/gateway/main.ts',
        portOffset: PORT_OFFSETS.public,
        capabilities: ['gateway'],
        after: SERVICES.map((s) => s.name),
        serverKit: true,
      },
    ],
    storage: 'one SQLite file per service in DATA_DIR, or one PostgreSQL database per service derived from DATABASE_URL',
    transport,
    billing: 'provisioned',
    env: ({ urls }) => ({
      TRANSPORT: transport,
      INVENTORY_URL: urls.inventory!,
      ORDERS_URL: urls.orders!,
      PAYMENTS_URL: urls.payments!,
      SHIPPING_URL: urls.shipping!,
    }),
    unavailable: ({ env }) => (transport === 'amqp' && !env.AMQP_URL ? 'AMQP_URL is not set (e.g. AMQP_URL=amqp://guest:guest@127.0.0.1:5672)' : undefined),
  });
}
