import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const appRoot = resolve(import.meta.dirname, '..');
const depcruise = join(appRoot, 'node_modules', '.bin', 'depcruise');
const config = join(appRoot, '.dependency-cruiser.cjs');

async function cruise(cwd: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(depcruise, ['src', '--config', config, '--output-type', 'err'], { cwd });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

function writeTree(root: string, files: Record<string, string>) {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

describe('module boundaries', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('the monolith itself respects them', async () => {
    const result = await cruise(appRoot);
    expect(result.output).toContain('no dependency violations');
    expect(result.code).toBe(0);
  }, 60_000);

  it('fail when a module reaches into another module past its index', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'depcruise-'));
    dirs.push(dir);
    writeTree(dir, {
      'tsconfig.json': '{"compilerOptions":{"module":"Preserve","moduleResolution":"Bundler"}}',
      'src/modules/catalog/index.ts': "export { reserve } from './service';\n",
      'src/modules/catalog/service.ts': 'export const reserve = () => 1;\n',
      'src/modules/orders/index.ts': "export { place } from './service';\n",
      // The violation: orders imports catalog's internals instead of its entry.
      'src/modules/orders/service.ts': "import { reserve } from '../catalog/service';\nexport const place = () => reserve();\n",
    });
    const result = await cruise(dir);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('module-entry-only');
    expect(result.output).toContain('src/modules/orders/service.ts');
  }, 60_000);

  it('fail when a module depends on a module the matrix does not allow, even through its entry', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'depcruise-'));
    dirs.push(dir);
    writeTree(dir, {
      'tsconfig.json': '{"compilerOptions":{"module":"Preserve","moduleResolution":"Bundler"}}',
      'src/modules/orders/index.ts': "export { place } from './service';\n",
      'src/modules/orders/service.ts': 'export const place = () => 1;\n',
      'src/modules/catalog/index.ts': "export { reserve } from './service';\n",
      // The violation: catalog (allowed: no other module) depends on orders.
      'src/modules/catalog/service.ts': "import { place } from '../orders';\nexport const reserve = () => place();\n",
    });
    const result = await cruise(dir);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('module-matrix');
    expect(result.output).toContain('src/modules/catalog/service.ts');
    expect(result.output).not.toContain('module-entry-only');
  }, 60_000);

  it('fail when a module reaches for the whole schema instead of its own tables', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'depcruise-'));
    dirs.push(dir);
    writeTree(dir, {
      'tsconfig.json': '{"compilerOptions":{"module":"Preserve","moduleResolution":"Bundler"}}',
      'src/db/schema.ts': 'export const tables = ["products", "shipments"];\n',
      'src/modules/catalog/index.ts': "export { reserve } from './service';\n",
      'src/modules/catalog/service.ts': "import { tables } from '../../db/schema';\nexport const reserve = () => tables.length;\n",
    });
    const result = await cruise(dir);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('module-own-tables-only');
  }, 60_000);

  it('allow imports through the entry', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'depcruise-'));
    dirs.push(dir);
    writeTree(dir, {
      'tsconfig.json': '{"compilerOptions":{"module":"Preserve","moduleResolution":"Bundler"}}',
      'src/modules/catalog/index.ts': "export { reserve } from './service';\n",
      'src/modules/catalog/service.ts': 'export const reserve = () => 1;\n',
      'src/modules/orders/service.ts': "import { reserve } from '../catalog';\nexport const place = () => reserve();\n",
    });
    const result = await cruise(dir);
    expect(result.code).toBe(0);
  }, 60_000);
});
