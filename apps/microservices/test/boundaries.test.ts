import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dependencyViolations } from '@archbench/server-kit/testing';
import type { DependencyViolation } from '@archbench/server-kit/testing';

const appRoot = resolve(import.meta.dirname, '..');

const base = {
  'src/env.ts': 'export const PORT = 1;\n',
  'src/shared/service-app.ts': "export const CUSTOMER_HEADER = 'x-archbench-customer';\n",
  'src/orders/routes.ts': "import { CUSTOMER_HEADER } from '../shared/service-app';\nexport const header = CUSTOMER_HEADER;\n",
};
const importsOrders = "import { header } from '../orders/routes';\nexport const x = header;\n";

/** Each case: a tree (undefined: the app itself) and the violations the rules must report in it. */
const cases: Array<{ name: string; tree?: Record<string, string>; violations: DependencyViolation[] }> = [
  { name: 'the services themselves respect them', violations: [] },
  {
    name: 'allow a service to import shared/ and env.ts',
    tree: {
      ...base,
      'src/gateway/routes.ts':
        "import { CUSTOMER_HEADER } from '../shared/service-app';\nimport { PORT } from '../env';\nexport const x = [CUSTOMER_HEADER, PORT];\n",
    },
    violations: [],
  },
  {
    // The violation this rule was written for: the gateway reaching into the orders service.
    name: 'fail when one service imports another service’s code',
    tree: { ...base, 'src/gateway/routes.ts': importsOrders },
    violations: [{ rule: 'service-imports-shared-only', from: 'src/gateway/routes.ts', to: 'src/orders/routes.ts' }],
  },
  {
    name: 'fail when shared/ imports a service',
    tree: { ...base, 'src/shared/run.ts': importsOrders },
    violations: [{ rule: 'shared-does-not-import-services', from: 'src/shared/run.ts', to: 'src/orders/routes.ts' }],
  },
];

describe('service boundaries', () => {
  for (const { name, tree, violations } of cases) {
    it(name, async () => expect(await dependencyViolations(appRoot, tree)).toEqual(violations), 60_000);
  }
});
