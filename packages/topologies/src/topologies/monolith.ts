import { defineTopology } from '../types';

/** The modular monolith: every module in one process over one database, one transaction per step. */
export default defineTopology({
  name: 'monolith',
  title: 'Monolith',
  description: 'one process, modules in-process, one database, one transaction per order step',
  app: 'apps/monolith',
  defaultPort: 3000,
  publicProcess: 'monolith',
  processes: [{ name: 'monolith', entry: 'src/main.ts', portOffset: 0, capabilities: ['catalog', 'orders', 'payments', 'shipping'], serverKit: true }],
  storage: 'one SQLite file in DATA_DIR, or the PostgreSQL database DATABASE_URL names',
  transport: 'in-process',
  billing: 'provisioned',
});
