import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { depcruise } from '@archbench/server-kit/testing';

const appRoot = resolve(import.meta.dirname, '..');

/** Two modules with an entry each; a case adds or replaces the files that make its point. */
const modules = {
  'src/modules/catalog/index.ts': "export { reserve } from './service';\n",
  'src/modules/catalog/service.ts': 'export const reserve = () => 1;\n',
  'src/modules/orders/index.ts': "export { place } from './service';\n",
  'src/modules/orders/service.ts': 'export const place = () => 1;\n',
};

describe('module boundaries', () => {
  it('the monolith itself respects them', async () => {
    const result = await depcruise(appRoot);
    expect(result.output).toContain('no dependency violations');
    expect(result.code).toBe(0);
  }, 60_000);

  it('fail when a module reaches into another module past its index', async () => {
    const result = await depcruise(appRoot, {
      ...modules,
      // The violation: orders imports catalog's internals instead of its entry.
      'src/modules/orders/service.ts': "import { reserve } from '../catalog/service';\nexport const place = () => reserve();\n",
    });
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('module-entry-only');
    expect(result.output).toContain('src/modules/orders/service.ts');
  }, 60_000);

  it('fail when a module depends on a module the matrix does not allow, even through its entry', async () => {
    const result = await depcruise(appRoot, {
      ...modules,
      // The violation: catalog (allowed: no other module) depends on orders.
      'src/modules/catalog/service.ts': "import { place } from '../orders';\nexport const reserve = () => place();\n",
    });
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('module-matrix');
    expect(result.output).toContain('src/modules/catalog/service.ts');
    expect(result.output).not.toContain('module-entry-only');
  }, 60_000);

  it('fail when a module reaches for the whole schema instead of its own tables', async () => {
    const result = await depcruise(appRoot, {
      'src/db/schema.ts': 'export const tables = ["products", "shipments"];\n',
      'src/modules/catalog/index.ts': modules['src/modules/catalog/index.ts'],
      'src/modules/catalog/service.ts': "import { tables } from '../../db/schema';\nexport const reserve = () => tables.length;\n",
    });
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('module-own-tables-only');
  }, 60_000);

  it('allow imports through the entry', async () => {
    const result = await depcruise(appRoot, {
      ...modules,
      'src/modules/orders/service.ts': "import { reserve } from '../catalog';\nexport const place = () => reserve();\n",
    });
    expect(result.code).toBe(0);
  }, 60_000);
});
