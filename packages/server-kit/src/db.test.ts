import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { assertSqliteRuntime, openDatabase } from './db';

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

/** Runs `script` as an ES module under `node` (with tsx), `DB_MODULE` pointing at db.ts. */
function runProbe(node: string, script: string, env: Record<string, string> = {}) {
  return spawnSync(node, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...process.env, DB_MODULE: new URL('./db.ts', import.meta.url).href, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('openDatabase', () => {
  it('never loads the PostgreSQL driver for a SQLite database', () => {
    const result = runProbe(process.execPath, PROBE);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([]);
  });
});

/** Where a file descriptor points, or '' once it is closed. */
function readlinkSafe(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}

describe('SQLite locking mode', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  async function withRow(lockingMode?: 'exclusive' | 'normal') {
    const dataDir = mkdtempSync(join(tmpdir(), 'archbench-locking-'));
    dirs.push(dataDir);
    const database = openDatabase<{ t: { v: string } }>({ dataDir, fileName: 'server.db', lockingMode });
    await sql`create table t (v text not null)`.execute(database.db);
    await database.db.insertInto('t').values({ v: 'written' }).execute();
    return { database, file: join(dataDir, 'server.db') };
  }
  /** What another process (the sqlite3 shell, a backup) gets when it reads the file: its rows or the error code. */
  function readElsewhere(file: string): unknown {
    const script = `
      const Database = require('better-sqlite3');
      const other = new Database(process.env.DB_FILE, { readonly: true, timeout: 50 });
      try { process.stdout.write(JSON.stringify(other.prepare('select v from t').all())); }
      catch (error) { process.stdout.write(JSON.stringify(error.code)); }
      finally { other.close(); }`;
    const result = spawnSync(process.execPath, ['-e', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { ...process.env, DB_FILE: file },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.stderr).toBe('');
    return JSON.parse(result.stdout) as unknown;
  }

  it('holds the file alone by default: no shared-memory file, another reader is refused until it closes', async () => {
    const { database, file } = await withRow();
    expect(await database.db.selectFrom('t').select('v').execute()).toEqual([{ v: 'written' }]);
    expect(existsSync(`${file}-shm`)).toBe(false);
    expect(readElsewhere(file)).toBe('SQLITE_BUSY');
    await database.close();
    expect(readElsewhere(file)).toEqual([{ v: 'written' }]);
  });

  it('stops a second server on the same file with a message that names the file and the way out', async () => {
    const { database, file } = await withRow();
    const dataDir = join(file, '..');
    expect(() => openDatabase({ dataDir, fileName: 'server.db' })).toThrow(
      new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is held by another process.*SQLITE_LOCKING_MODE=exclusive.*SQLITE_LOCKING_MODE=normal`),
    );
    // The first server is unharmed.
    await database.db.insertInto('t').values({ v: 'again' }).execute();
    expect(await database.db.selectFrom('t').select('v').execute()).toHaveLength(2);
    await database.close();
  }, 15_000);

  it.skipIf(!existsSync('/proc/self/fd'))('keeps savepoint journals in memory: a big transaction leaves no temporary file open', async () => {
    const { database } = await withRow();
    const openTempFiles = () => readdirSync('/proc/self/fd').filter((fd) => /\(deleted\)$/.test(readlinkSafe(`/proc/self/fd/${fd}`))).length;
    const before = openTempFiles();
    await database.db
      .insertInto('t')
      .values(Array.from({ length: 300 }, (_, i) => ({ v: `${i}`.padEnd(1000, '.') })))
      .execute();
    // Each transaction is a savepoint (group commit); rewriting 300 kB of existing pages in one
    // journals them, past the 64 kB SQLite keeps in memory unless temp_store = MEMORY.
    await database.db.transaction().execute((trx) =>
      trx
        .updateTable('t')
        .set({ v: sql`v || '!'` })
        .execute(),
    );
    expect(openTempFiles()).toBe(before);
    await database.close();
  });

  it.skipIf(spawnSync('strace', ['-V']).status !== 0)(
    'reads of a reopened database ask the file system nothing (strace: no fstat per query)',
    async () => {
      const { database, file } = await withRow();
      await database.close();
      // A server restarted on its data: it opens the file, then only reads, 200 point queries.
      const script = `
      import { writeSync } from 'node:fs';
      import { sql } from 'kysely';
      const { openDatabase } = await import(process.env.DB_MODULE);
      const database = openDatabase({ dataDir: process.env.DATA_DIR, fileName: 'server.db' });
      await sql\`select v from t\`.execute(database.db);
      writeSync(1, 'reads-start\\n');
      for (let i = 0; i < 200; i++) await sql\`select v from t where rowid = 1\`.execute(database.db);
      writeSync(1, 'reads-end\\n');
      await database.close();`;
      const trace = join(file, '..', 'strace.txt');
      const result = spawnSync(
        'strace',
        ['-f', '-qq', '-e', 'trace=fstat,newfstatat,statx,write', '-o', trace, process.execPath, '--import', 'tsx', '--input-type=module', '-e', script],
        {
          cwd: fileURLToPath(new URL('..', import.meta.url)),
          env: { ...process.env, DB_MODULE: new URL('./db.ts', import.meta.url).href, DATA_DIR: join(file, '..') },
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
      expect(result.stderr).toBe('');
      expect(result.stdout).toBe('reads-start\nreads-end\n');
      const lines = readFileSync(trace, 'utf8').split('\n');
      const during = lines.slice(
        lines.findIndex((l) => l.includes('reads-start')),
        lines.findIndex((l) => l.includes('reads-end')),
      );
      // Before the fix: one fstat of the database file per query (200).
      expect(during.filter((l) => /\b(fstat|newfstatat|statx)\(/.test(l)).length).toBeLessThan(10);
    },
    60_000,
  );

  it('shares the file in normal mode: another process reads what the server committed', async () => {
    const { database, file } = await withRow('normal');
    expect(readElsewhere(file)).toEqual([{ v: 'written' }]);
    await database.close();
  });
});

describe('assertSqliteRuntime', () => {
  it('passes on Node-API 10 and later, and names the Node version and the fix below it', () => {
    expect(() => assertSqliteRuntime()).not.toThrow();
    expect(() => assertSqliteRuntime({ node: '24.22.3', napi: '10' })).not.toThrow();
    expect(() => assertSqliteRuntime({ node: '26.0.0', napi: '11' })).not.toThrow();
    expect(() => assertSqliteRuntime({ node: '22.13.1', napi: '9' })).toThrow(
      /needs Node\.js >= 22\.14 \(Node-API 10\); this is Node 22\.13\.1 \(Node-API 9\).*scripts\/node24\.sh/,
    );
    expect(() => assertSqliteRuntime({ node: '12.0.0' })).toThrow(/Node-API none/);
  });
});

/** An older Node on this machine (Debian's, on the machines CI runs on), if there is one. */
const OLD_NODE = ['/usr/bin/node', '/usr/local/bin/node'].find((path) => {
  if (!existsSync(path) || path === process.execPath) return false;
  const probe = spawnSync(path, ['-p', 'process.versions.napi'], { encoding: 'utf8' });
  return probe.status === 0 && Number(probe.stdout.trim()) < 10;
});

describe.skipIf(OLD_NODE === undefined)(`openDatabase on an older Node (${OLD_NODE ?? 'none here'})`, () => {
  it('stops with the message and exit code 1 instead of a segmentation fault', () => {
    const script = `
      const { openDatabase } = await import(process.env.DB_MODULE);
      try { openDatabase({ dataDir: process.env.DATA_DIR, fileName: 'old-node.db' }); }
      catch (error) { process.stderr.write(error.message); process.exit(1); }
      process.stdout.write('opened');`;
    const dataDir = mkdtempSync(join(tmpdir(), 'archbench-old-node-'));
    const result = runProbe(OLD_NODE!, script, { DATA_DIR: dataDir });
    rmSync(dataDir, { recursive: true, force: true });
    expect(result.signal).toBeNull();
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/needs Node\.js >= 22\.14/);
    expect(result.stdout).toBe('');
  });
});
