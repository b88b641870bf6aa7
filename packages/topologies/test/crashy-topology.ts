import { defineTopology } from '../src/index';

/** A one-process topology of the crashing fixture (`fixtures/crashy.ts`), shared by the supervisor and port tests. */
export const crashy = defineTopology({
  name: 'crashy',
  title: 'Crashy',
  description: 'a test server that crashes on a schedule',
  app: 'test/fixtures',
  defaultPort: 0,
  publicProcess: 'worker',
  processes: [{ name: 'worker', entry: 'crashy.ts', portOffset: 0, capabilities: ['payments'] }],
  storage: 'none',
  transport: 'none',
  billing: 'provisioned',
});
