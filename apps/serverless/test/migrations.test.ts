import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { D1Database } from '@cloudflare/workers-types';
import { Log, LogLevel, Miniflare } from 'miniflare';
import { afterAll, describe, expect, it } from 'vitest';
import type { Order } from '@archbench/contracts/schemas';
import { APP_ROOT } from '../src/bundle';
import { MIGRATIONS_DIR, applyMigrations, startServerless } from '../src/runtime';
import { COMPATIBILITY_DATE, D1_DATABASE } from '../src/topology';
import { AUTH_SECRET, client, eventually } from './helpers';

/** The tables every order writes, keyed by text, that 0002 rebuilds WITHOUT ROWID (with their primary keys, to compare rows in order). */
const KEYED: Record<string, string> = {
  orders: 'id',
  order_items: 'order_id, sku',
  idempotency_keys: 'customer_id, key',
  payments: 'id',
  shipments: 'id',
};
/** The every-minute sweep's query, exactly as src/workers/payments/reconcile.ts runs it. */
const PENDING_SWEEP = "SELECT id FROM orders WHERE status = 'PENDING' AND created_at < ?1 ORDER BY created_at LIMIT ?2";

/** The same D1 database (binding, name, persistence) the launcher's workers use, with no workers of the app. */
function d1Only(persistDir: string): Miniflare {
  return new Miniflare({
    modules: true,
    script: 'export default { fetch() { return new Response(null, { status: 204 }); } }',
    compatibilityDate: COMPATIBILITY_DATE,
    defaultPersistRoot: persistDir,
    d1Databases: { [D1_DATABASE.binding]: D1_DATABASE.name },
    log: new Log(LogLevel.WARN),
  });
}

async function dump(db: D1Database): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const [table, key] of Object.entries(KEYED)) out[table] = (await db.prepare(`SELECT * FROM ${table} ORDER BY ${key}`).all()).results;
  return out;
}

/** The error a statement fails with (D1 gives its constraint errors as messages only). */
async function failure(db: D1Database, statement: string, ...params: unknown[]): Promise<string> {
  try {
    await db
      .prepare(statement)
      .bind(...params)
      .run();
  } catch (error) {
    return `${(error as Error).message} ${((error as Error).cause as Error | undefined)?.message ?? ''}`;
  }
  return 'no error';
}

/**
 * A database deployed at 0001 that has taken orders, upgraded by 0002 on the real D1 (workerd's
 * SQLite through miniflare, through the launcher's own migration runner: one batch, one
 * transaction, foreign keys enforced): every row kept, the keyed tables WITHOUT ROWID, their
 * constraints still there, the sweep reading the index of PENDING orders, and the app serving
 * the old orders and settling the PENDING one on top of it.
 */
describe('D1 migrations 0002_tables_keyed_by_id and 0003_refund_claims on a database at 0001', () => {
  const persistDir = mkdtempSync(join(tmpdir(), 'archbench-serverless-migrate-'));
  afterAll(() => rmSync(persistDir, { recursive: true, force: true }));
  const api = client('http://unused');
  const customer = api.customer('migrate');
  const ids = { pending: `o-${randomUUID()}`, confirmed: `o-${randomUUID()}`, rejected: `o-${randomUUID()}` };

  it('keeps every row and constraint, rebuilds the keyed tables WITHOUT ROWID, and the sweep reads orders_pending', async () => {
    const onlyFirst = join(persistDir, 'migrations-0001');
    const upTo0002 = join(persistDir, 'migrations-0002');
    mkdirSync(onlyFirst);
    mkdirSync(upTo0002);
    copyFileSync(join(MIGRATIONS_DIR, '0001_initial.sql'), join(onlyFirst, '0001_initial.sql'));
    for (const file of ['0001_initial.sql', '0002_tables_keyed_by_id.sql']) copyFileSync(join(MIGRATIONS_DIR, file), join(upTo0002, file));
    const mf = d1Only(persistDir);
    try {
      const db = (await mf.getD1Database(D1_DATABASE.binding)) as unknown as D1Database;
      expect(await applyMigrations(db, onlyFirst)).toEqual(['0001_initial.sql']);
      const minuteAgo = new Date(Date.now() - 60_000).toISOString();
      const order = (id: string, status: string, paymentStatus: string, reason: string | null, total: number) =>
        db
          .prepare('INSERT INTO orders VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)')
          .bind(id, customer.id, status, total, 'EUR', 'tok_ok', paymentStatus, reason, minuteAgo);
      await db.batch([
        db.prepare("INSERT INTO products VALUES ('SKU-0001', 'Seeded before', 1200, 'EUR', 7)"),
        order(ids.pending, 'PENDING', 'PENDING', null, 1200),
        order(ids.confirmed, 'CONFIRMED', 'CAPTURED', null, 3600),
        order(ids.rejected, 'REJECTED', 'DECLINED', 'payment_declined', 1200),
        db.prepare('INSERT INTO order_items VALUES (?1, ?2, ?3, ?4)').bind(ids.pending, 'SKU-0001', 1, 1200),
        db.prepare('INSERT INTO order_items VALUES (?1, ?2, ?3, ?4)').bind(ids.confirmed, 'SKU-0001', 1, 1200),
        db.prepare('INSERT INTO order_items VALUES (?1, ?2, ?3, ?4)').bind(ids.confirmed, 'SKU-0002', 2, 1200),
        db.prepare('INSERT INTO order_items VALUES (?1, ?2, ?3, ?4)').bind(ids.rejected, 'SKU-0001', 1, 1200),
        db.prepare('INSERT INTO idempotency_keys VALUES (?1, ?2, ?3, ?4, ?5)').bind(customer.id, 'key-1', 'hash-1', ids.confirmed, minuteAgo),
        db.prepare("INSERT INTO payments VALUES ('p-1', ?1, 'charge', 'SUCCEEDED', 3600, 'prov-1', ?2)").bind(ids.confirmed, minuteAgo),
        db.prepare("INSERT INTO payments VALUES ('p-2', ?1, 'charge', 'FAILED', 1200, NULL, ?2)").bind(ids.rejected, minuteAgo),
        db.prepare("INSERT INTO shipments VALUES ('s-1', ?1, 'PREPARING', ?2)").bind(ids.confirmed, minuteAgo),
      ]);
      const before = await dump(db);
      expect(before.order_items).toHaveLength(4);

      expect(await applyMigrations(db, upTo0002)).toEqual(['0002_tables_keyed_by_id.sql']);
      expect(await applyMigrations(db, upTo0002)).toEqual([]);
      const applied = await db.prepare('SELECT name FROM d1_migrations ORDER BY id').all<{ name: string }>();
      expect(applied.results.map((r) => r.name)).toEqual(['0001_initial.sql', '0002_tables_keyed_by_id.sql']);

      expect(await dump(db)).toEqual(before);
      expect(await db.prepare('SELECT sku, stock FROM products').all()).toMatchObject({ results: [{ sku: 'SKU-0001', stock: 7 }] });

      const schema = (
        await db
          .prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE '_cf_%' ORDER BY name")
          .all<{ type: string; name: string; sql: string | null }>()
      ).results;
      const tableSql = (name: string) => schema.find((row) => row.type === 'table' && row.name === name)?.sql ?? '';
      for (const table of Object.keys(KEYED)) expect(tableSql(table), table).toMatch(/\)\s*WITHOUT ROWID$/);
      expect(tableSql('products')).not.toMatch(/WITHOUT ROWID/);
      expect(tableSql('order_items')).toContain('order_id TEXT NOT NULL REFERENCES orders (id)');
      // No copy left behind; the indexes of 0001 there, orders_status replaced by the PENDING-only one.
      expect(schema.filter((row) => row.name.endsWith('_0002'))).toEqual([]);
      const indexes = schema.filter((row) => row.type === 'index' && row.sql !== null).map((row) => row.sql);
      expect(indexes.sort()).toEqual([
        'CREATE INDEX orders_customer_id ON orders (customer_id, id)',
        "CREATE INDEX orders_pending ON orders (created_at) WHERE status = 'PENDING'",
      ]);

      // Constraints hold on the rebuilt tables (D1 enforces foreign keys).
      expect(await failure(db, 'INSERT INTO order_items VALUES (?1, ?2, 1, 1)', `o-${randomUUID()}`, 'SKU-0001')).toContain('FOREIGN KEY constraint failed');
      expect(await failure(db, 'DELETE FROM orders WHERE id = ?1', ids.confirmed)).toContain('FOREIGN KEY constraint failed');
      expect(await failure(db, 'INSERT INTO order_items VALUES (?1, ?2, 5, 1)', ids.confirmed, 'SKU-0002')).toContain('UNIQUE constraint failed: order_items');
      expect(await failure(db, "INSERT INTO payments VALUES ('p-3', ?1, 'charge', 'PENDING', 1, NULL, 'x')", ids.confirmed)).toContain(
        'UNIQUE constraint failed: payments.order_id, payments.kind',
      );
      expect(await failure(db, "INSERT INTO shipments VALUES ('s-2', ?1, 'PREPARING', 'x')", ids.confirmed)).toContain(
        'UNIQUE constraint failed: shipments.order_id',
      );
      expect(await failure(db, "INSERT INTO idempotency_keys VALUES (?1, 'key-1', 'h', 'o', 'x')", customer.id)).toContain(
        'UNIQUE constraint failed: idempotency_keys',
      );
      expect(await failure(db, "INSERT INTO orders (id, status) VALUES ('o-x', 'PENDING')")).toContain('NOT NULL constraint failed: orders.customer_id');
      expect(await dump(db)).toEqual(before);

      // The sweep's query reads the PENDING orders' index, in created_at order (no sort), on D1 itself.
      const plan = await db.prepare(`EXPLAIN QUERY PLAN ${PENDING_SWEEP}`).bind(new Date().toISOString(), 100).all<{ detail: string }>();
      expect(plan.results.map((r) => r.detail)).toEqual(['SEARCH orders USING COVERING INDEX orders_pending (created_at<?)']);
      expect((await db.prepare(PENDING_SWEEP).bind(new Date().toISOString(), 100).all()).results).toEqual([{ id: ids.pending }]);

      // 0003: every payment row kept, none of them being attempted, and the index of PENDING refunds.
      expect(await applyMigrations(db)).toEqual(['0003_refund_claims.sql']);
      expect(await dump(db)).toEqual({ ...before, payments: before.payments!.map((row) => ({ ...(row as object), claimed_until: null })) });
      const refundsIndex = await db.prepare("SELECT sql FROM sqlite_master WHERE name = 'payments_pending_refunds'").first<{ sql: string }>();
      expect(refundsIndex?.sql).toBe("CREATE INDEX payments_pending_refunds ON payments (created_at) WHERE kind = 'refund' AND status = 'PENDING'");
    } finally {
      await mf.dispose();
    }
  });

  it('the app runs on the upgraded database: old orders served, the PENDING one settled by the start sweep, new orders placed', async () => {
    const app = await startServerless({ port: 0, authSecret: AUTH_SECRET, logLevel: 'silent', retryDelaySeconds: 0, persistDir });
    try {
      const http = client(app.url);
      const confirmed = await http.order(customer.token, ids.confirmed);
      expect(confirmed).toMatchObject({ id: ids.confirmed, status: 'CONFIRMED', totalCents: 3600 });
      expect(confirmed.items.map((i) => [i.sku, i.quantity])).toEqual([
        ['SKU-0001', 1],
        ['SKU-0002', 2],
      ]);
      await eventually(async () => {
        expect((await http.order(customer.token, ids.pending)).status).toBe('CONFIRMED');
        expect((await http.request('GET', `/orders/${ids.pending}/shipment`, { token: customer.token })).status).toBe(200);
      });
      const placed = await http.place(customer.token, [{ sku: 'SKU-0003', quantity: 1 }], { wait: 10, key: 'key-2' });
      expect(placed.status).toBe(201);
      expect((placed.body as Order).status).toBe('CONFIRMED');
      const replay = await http.place(customer.token, [{ sku: 'SKU-0003', quantity: 1 }], { key: 'key-2' });
      expect((replay.body as Order).id).toBe((placed.body as Order).id);
    } finally {
      await app.stop();
    }
  }, 120_000);
});

const wranglerBin = join(createRequire(join(APP_ROOT, 'package.json')).resolve('wrangler/package.json'), '..', 'bin', 'wrangler.js');

/** Runs wrangler offline (no account) in `cwd`; resolves with its output, rejects when it fails. */
function wrangler(cwd: string, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [wranglerBin, ...args],
      { cwd, env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_API_TOKEN: '', CLOUDFLARE_ACCOUNT_ID: '', CI: 'true' } },
      (error, stdout, stderr) => (error ? reject(new Error(`wrangler ${args.join(' ')}: ${stdout}${stderr}`)) : resolve(stdout)),
    );
  });
}

/**
 * What a deploy runs: `wrangler d1 migrations apply` (here on its local D1) takes 0002 from the
 * migrations folder after 0001 on a database with orders, with its own statement splitting and
 * bookkeeping, and leaves the same tables the launcher's runner does.
 */
describe('wrangler d1 migrations apply', () => {
  const dir = mkdtempSync(join(tmpdir(), 'archbench-wrangler-d1-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('applies 0002 after 0001 on a database with orders: rows kept, keyed tables WITHOUT ROWID', async () => {
    mkdirSync(join(dir, 'migrations'));
    copyFileSync(join(MIGRATIONS_DIR, '0001_initial.sql'), join(dir, 'migrations', '0001_initial.sql'));
    // The D1 database of wrangler.jsonc, with the migrations folder of this test.
    const database = {
      binding: D1_DATABASE.binding,
      database_name: D1_DATABASE.name,
      database_id: '00000000-0000-0000-0000-000000000000',
      migrations_dir: 'migrations',
    };
    writeFileSync(join(dir, 'wrangler.json'), JSON.stringify({ name: 'archbench-migrate', compatibility_date: COMPATIBILITY_DATE, d1_databases: [database] }));
    const d1 = (...args: string[]) => wrangler(dir, 'd1', ...args, D1_DATABASE.name, '--local', '--persist-to', join(dir, 'state'));
    const query = async <T>(sql: string): Promise<T[]> => (JSON.parse(await d1('execute', '--json', '--command', sql)) as Array<{ results: T[] }>)[0]!.results;
    expect(await d1('migrations', 'apply')).toContain('0001_initial.sql');
    await d1(
      'execute',
      '--command',
      "INSERT INTO orders VALUES ('o-1', 'c-1', 'CONFIRMED', 2400, 'EUR', 'tok_ok', 'CAPTURED', NULL, 't', 't'); " +
        "INSERT INTO order_items VALUES ('o-1', 'SKU-0001', 1, 1200), ('o-1', 'SKU-0002', 1, 1200); " +
        "INSERT INTO idempotency_keys VALUES ('c-1', 'k-1', 'h', 'o-1', 't'); " +
        "INSERT INTO payments VALUES ('p-1', 'o-1', 'charge', 'SUCCEEDED', 2400, 'ref', 't'); " +
        "INSERT INTO shipments VALUES ('s-1', 'o-1', 'PREPARING', 't')",
    );
    const counts = `SELECT ${Object.keys(KEYED)
      .map((table) => `(SELECT count(*) FROM ${table}) AS ${table}`)
      .join(', ')}`;
    expect(await query(counts)).toEqual([{ orders: 1, order_items: 2, idempotency_keys: 1, payments: 1, shipments: 1 }]);

    copyFileSync(join(MIGRATIONS_DIR, '0002_tables_keyed_by_id.sql'), join(dir, 'migrations', '0002_tables_keyed_by_id.sql'));
    expect(await d1('migrations', 'apply')).toContain('0002_tables_keyed_by_id.sql');
    expect(await query(counts)).toEqual([{ orders: 1, order_items: 2, idempotency_keys: 1, payments: 1, shipments: 1 }]);
    const tables = await query<{ name: string; sql: string }>(
      `SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name IN (${Object.keys(KEYED)
        .map((t) => `'${t}'`)
        .join(', ')})`,
    );
    expect(tables.map((t) => t.name).sort()).toEqual(Object.keys(KEYED).sort());
    for (const table of tables) expect(table.sql, table.name).toMatch(/\)\s*WITHOUT ROWID$/);
    expect(await query<{ name: string }>('SELECT name FROM d1_migrations ORDER BY id')).toEqual([
      { name: '0001_initial.sql' },
      { name: '0002_tables_keyed_by_id.sql' },
    ]);
  }, 120_000);
});
