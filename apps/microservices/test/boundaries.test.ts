import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { depcruise } from '@archbench/server-kit/testing';

const appRoot = resolve(import.meta.dirname, '..');

const base = {
  'src/env.ts': 'export const PORT = 1;\n',
  'src/shared/service-app.ts': "export const CUSTOMER_HEADER = 'x-archbench-customer';\n",
  'src/orders/routes.ts': "import { CUSTOMER_HEADER } from '../shared/service-app';\nexport const header = CUSTOMER_HEADER;\n",
};

describe('service boundaries', () => {
  it('the services themselves respect them', async () => {
    const result = await depcruise(appRoot);
    expect(result.output).toContain('no dependency violations');
    expect(result.code).toBe(0);
  }, 60_000);

  it('allow a service to import shared/ and env.ts', async () => {
    const result = await depcruise(appRoot, {
      ...base,
      'src/gateway/routes.ts':
        "import { CUSTOMER_HEADER } from '../shared/service-app';\nimport { PORT } from '../env';\nexport const x = [CUSTOMER_HEADER, PORT];\n",
    });
    expect(result.code).toBe(0);
  }, 60_000);

  it('fail when one service imports another service’s code', async () => {
    const result = await depcruise(appRoot, {
      ...base,
      // The violation this rule was written for: the gateway reaching into the orders service.
      'src/gateway/routes.ts': "import { header } from '../orders/routes';\nexport const x = header;\n",
    });
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('service-imports-shared-only');
    expect(result.output).toContain('src/gateway/routes.ts');
  }, 60_000);

  it('fail when shared/ imports a service', async () => {
    const result = await depcruise(appRoot, { ...base, 'src/shared/run.ts': "import { header } from '../orders/routes';\nexport const x = header;\n" });
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('shared-does-not-import-services');
  }, 60_000);
});
