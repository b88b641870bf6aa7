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

function writeTree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'depcruise-ms-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

const base = {
  'tsconfig.json': '{"compilerOptions":{"module":"Preserve","moduleResolution":"Bundler"}}',
  'src/env.ts': 'export const PORT = 1;\n',
  'src/shared/service-app.ts': "export const CUSTOMER_HEADER = 'x-archbench-customer';\n",
  'src/orders/routes.ts': "import { CUSTOMER_HEADER } from '../shared/service-app';\nexport const header = CUSTOMER_HEADER;\n",
};

describe('service boundaries', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('the services themselves respect them', async () => {
    const result = await cruise(appRoot);
    expect(result.output).toContain('no dependency violations');
    expect(result.code).toBe(0);
  }, 60_000);

  it('allow a service to import shared/ and env.ts', async () => {
    const dir = writeTree({
      ...base,
      'src/gateway/routes.ts':
        "import { CUSTOMER_HEADER } from '../shared/service-app';\nimport { PORT } from '../env';\nexport const x = [CUSTOMER_HEADER, PORT];\n",
    });
    dirs.push(dir);
    const result = await cruise(dir);
    expect(result.code).toBe(0);
  }, 60_000);

  it('fail when one service imports another service’s code', async () => {
    const dir = writeTree({
      ...base,
      // The violation this rule was written for: the gateway reaching into the orders service.
      'src/gateway/routes.ts': "import { header } from '../orders/routes';\nexport const x = header;\n",
    });
    dirs.push(dir);
    const result = await cruise(dir);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('service-imports-shared-only');
    expect(result.output).toContain('src/gateway/routes.ts');
  }, 60_000);

  it('fail when shared/ imports a service', async () => {
    const dir = writeTree({ ...base, 'src/shared/run.ts': "import { header } from '../orders/routes';\nexport const x = header;\n" });
    dirs.push(dir);
    const result = await cruise(dir);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('shared-does-not-import-services');
  }, 60_000);
});
