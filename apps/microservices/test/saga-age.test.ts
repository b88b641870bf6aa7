import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@archbench/observability/logging';
import { createMetrics } from '@archbench/observability/metrics';
import { migrate, openDatabase } from '@archbench/server-kit/db';
import { captureQueries, createTestDatabase, queryPlan, skipUnlessReachable } from '@archbench/server-kit/testing';
import { IDLE_TRANSPORT as idle } from './in-process-wiring';
import { createOrdersApp } from '../src/orders/app';
import { SAGA_AGE_METRIC, registerSagaAge } from '../src/orders/saga-age';
import { createOrdersRepository } from '../src/orders/repository';
import { migrations } from '../src/orders/schema';
import type { OrdersTables } from '../src/orders/schema';

/**
 * `archbench_saga_oldest_open_seconds{state}` is read from the orders database at each scrape: an
 * orders process that did not drive the saga (another replica, the one after a restart) reports
 * its age, and the scrape reads the `sagas_state` index, the sagas in flight only, however many
 * finished sagas the table holds. The poison-command tests show it growing on a real refusal.
 */
const silent = createLogger({ service: 'saga-age-test', level: 'silent' });
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** 20,000 finished sagas, one RELEASING for 10 minutes and one CANCELLING for 2 (each created an hour ago). */
const FINISHED = 20_000;
const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

for (const dialect of ['sqlite', 'postgres'] as const) {
  const skip = await skipUnlessReachable({ database: dialect });

  describe.skipIf(skip)(`the age of the oldest saga in each open state (${dialect})`, () => {
    async function ordersDb() {
      const dir = mkdtempSync(join(tmpdir(), 'archbench-saga-age-'));
      const pg = dialect === 'postgres' ? await createTestDatabase('archbench_saga_age') : undefined;
      const database = openDatabase<OrdersTables>({ databaseUrl: pg?.url, dataDir: dir, fileName: 'orders.db', poolSize: 2 });
      let closed = false;
      const close = async () => {
        if (!closed) await database.close();
        closed = true;
      };
      cleanups.push(async () => {
        await close();
        await pg?.drop();
        rmSync(dir, { recursive: true, force: true });
      });
      const db = database.db;
      await migrate(db, migrations);
      const saga = (id: number, state: string, since: string) => ({
        order_id: `ord_${String(id).padStart(6, '0')}`,
        customer_id: 'alice',
        state,
        items: '[]',
        payment_token: 'tok_ok',
        total_cents: 100,
        charge_outcome: null,
        created_at: ago(60),
        updated_at: since,
        late_refund_at: null,
      });
      const final = ['CONFIRMED', 'REJECTED', 'CANCELLED', 'EXPIRED', 'REFUSED', 'ABORTED'];
      for (let i = 0; i < FINISHED; i += 1000)
        await db
          .insertInto('sagas')
          .values(Array.from({ length: 1000 }, (_, j) => saga(i + j, final[(i + j) % final.length]!, ago(60))))
          .execute();
      await db
        .insertInto('sagas')
        .values([saga(FINISHED, 'RELEASING', ago(10)), saga(FINISHED + 1, 'CANCELLING', ago(2))])
        .execute();
      if (dialect === 'postgres') await sql`analyze sagas`.execute(db);
      return { db, close };
    }

    it('an orders process that never drove the sagas reports each open state by the age of its oldest saga, 0 for the others, none for CONFIRMED; nothing while the database is gone', async () => {
      const { db, close } = await ordersDb();
      const orders = createOrdersApp({
        db,
        obs: { logger: silent, metrics: createMetrics({ service: 'orders', defaultMetrics: false }) },
        dialect,
        transport: idle,
        internalToken: 'saga-age-test',
        sweepMs: 60_000,
      });
      cleanups.push(() => orders.stop());
      const ages = async () => {
        const response = await orders.app.request('/metrics');
        expect(response.status).toBe(200);
        const text = await response.text();
        return Object.fromEntries(
          [...text.matchAll(/^archbench_saga_oldest_open_seconds\{state="(\w+)",service="orders"\} (\S+)$/gm)].map(([, state, value]) => [
            state,
            Number(value),
          ]),
        );
      };
      // Ages from the rows' updated_at (10 and 2 minutes before the insert), plus however long the
      // setup took on a busy machine: whole seconds after 600 and 120, not exactly.
      const measured = await ages();
      expect(Object.keys(measured).sort()).toEqual(['ABORTING', 'CANCELLING', 'EXPIRING', 'PAYING', 'RELEASING', 'RESERVING']);
      expect(measured).toMatchObject({ RESERVING: 0, ABORTING: 0, PAYING: 0, EXPIRING: 0 });
      expect(measured.RELEASING).toBeGreaterThanOrEqual(600);
      expect(measured.RELEASING).toBeLessThan(630);
      expect(measured.CANCELLING! - measured.RELEASING!).toBeCloseTo(-480, 0);
      // The database gone: /metrics still answers, without this series (an alert on it does not fire on a guess).
      await close();
      expect(await ages()).toEqual({});
    });

    it("the scrape's query reads the sagas_state index, not every saga", async () => {
      const { db } = await ordersDb();
      const capture = captureQueries(db);
      const repo = createOrdersRepository(capture.db);
      capture.take(); // not the statements the repository prepares when it is made
      await repo.oldestActiveSagas();
      const compiled = capture.take();
      expect(compiled).toHaveLength(1);
      const plan = await queryPlan(db, compiled[0]!, dialect);
      if (dialect === 'sqlite') expect(plan).toBe('SEARCH sagas USING INDEX sagas_state (state=?)');
      else {
        expect(plan).toMatch(/Index (Only )?Scan on sagas_state|Index (Only )?Scan using sagas_state/);
        expect(plan).not.toMatch(/Seq Scan on sagas/);
      }
    });
  });
}

describe('a database that hangs', () => {
  it('holds up /metrics for at most about a second, leaves the series out, and is asked once however many scrapes wait', async () => {
    // A PostgreSQL "server" that accepts connections and never answers: a hung database, a full pool.
    const sockets: Socket[] = [];
    const server = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const database = openDatabase<OrdersTables>({
      databaseUrl: `postgres://archbench@127.0.0.1:${port}/hung`,
      dataDir: tmpdir(),
      fileName: 'unused.db',
      poolSize: 2,
    });
    cleanups.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
      await database.close().catch(() => undefined);
    });
    const metrics = createMetrics({ service: 'orders', defaultMetrics: false });
    metrics.ordersTotal.inc({ outcome: 'confirmed' });
    registerSagaAge(metrics, createOrdersRepository(database.db), silent);
    const started = performance.now();
    const [first, second] = await Promise.all([metrics.render(), metrics.render()]);
    const third = await metrics.render();
    const elapsed = performance.now() - started;
    for (const text of [first, second, third]) {
      expect(text).toContain('archbench_orders_total{outcome="confirmed",service="orders"} 1');
      expect(text).not.toMatch(new RegExp(`^${SAGA_AGE_METRIC}\\{`, 'm'));
    }
    // Two scrapes of about a second each (the first two wait together), not the pg driver's wait.
    expect(elapsed).toBeLessThan(4000);
    // The scrapes waited for one query: the pool opened one connection, not one per scrape.
    expect(sockets).toHaveLength(1);
  });
});
