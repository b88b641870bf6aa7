import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dependencyViolations } from '@archbench/server-kit/testing';
import type { DependencyViolation } from '@archbench/server-kit/testing';

const appRoot = resolve(import.meta.dirname, '..');

/** Two modules with an entry each; a case adds or replaces the files that make its point. */
const modules = {
  'src/modules/catalog/index.ts': "export { reserve } from './service';\n",
  'src/modules/catalog/service.ts': 'export const reserve = () => 1;\n',
  'src/modules/orders/index.ts': "export { place } from './service';\n",
  'src/modules/orders/service.ts': 'export const place = () => 1;\n',
};

/** Each case: a tree (undefined: the monolith itself) and the violations the rules must report in it. */
const cases: Array<{ name: string; tree?: Record<string, string>; violations: DependencyViolation[] }> = [
  { name: 'the monolith itself respects them', violations: [] },
  {
    // The violation: orders imports catalog's internals instead of its entry.
    name: 'fail when a module reaches into another module past its index',
    tree: { ...modules, 'src/modules/orders/service.ts': "import { reserve } from '../catalog/service';\nexport const place = () => reserve();\n" },
    violations: [{ rule: 'module-entry-only', from: 'src/modules/orders/service.ts', to: 'src/modules/catalog/service.ts' }],
  },
  {
    // The violation: catalog (allowed: no other module) depends on orders.
    name: 'fail when a module depends on a module the matrix does not allow, even through its entry',
    tree: { ...modules, 'src/modules/catalog/service.ts': "import { place } from '../orders';\nexport const reserve = () => place();\n" },
    violations: [{ rule: 'module-matrix', from: 'src/modules/catalog/service.ts', to: 'src/modules/orders/index.ts' }],
  },
  {
    name: 'fail when a module reaches for the whole schema instead of its own tables',
    tree: {
      ...modules,
      'src/db/schema.ts': 'export const tables = ["products", "shipments"];\n',
      'src/modules/catalog/service.ts': "import { tables } from '../../db/schema';\nexport const reserve = () => tables.length;\n",
    },
    violations: [{ rule: 'module-own-tables-only', from: 'src/modules/catalog/service.ts', to: 'src/db/schema.ts' }],
  },
  {
    name: 'allow imports through the entry',
    tree: { ...modules, 'src/modules/orders/service.ts': "import { reserve } from '../catalog';\nexport const place = () => reserve();\n" },
    violations: [],
  },
];

describe('module boundaries', () => {
  for (const { name, tree, violations } of cases) {
    it(name, async () => expect(await dependencyViolations(appRoot, tree)).toEqual(violations), 60_000);
  }
});
