import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Opens a SQLite database and queries it in a fresh Node process, recording every module specifier
 * resolved along the way (module.registerHooks), and prints the ones naming `pg`.
 */
const PROBE = `
import { registerHooks } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const resolved = [];
registerHooks({ resolve(specifier, context, next) { resolved.push(specifier); return next(specifier, context); } });
const { openDatabase, ping } = await import(process.env.DB_MODULE);
const dataDir = mkdtempSync(join(tmpdir(), 'archbench-lazy-pg-'));
const database = openDatabase({ dataDir, fileName: 'probe.db' });
if (!(await ping(database.db))) throw new Error('SQLite did not answer');
await database.close();
rmSync(dataDir, { recursive: true, force: true });
process.stdout.write(JSON.stringify(resolved.filter((s) => /(^|\\/)pg(\\/|$)/.test(s))));
`;

describe('openDatabase', () => {
  it('never loads the PostgreSQL driver for a SQLite database', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', PROBE], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { ...process.env, DB_MODULE: new URL('./db.ts', import.meta.url).href },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([]);
  });
});
