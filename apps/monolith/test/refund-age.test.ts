import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import type { Order } from '@archbench/contracts/schemas';
import { mintToken } from '@archbench/contracts/tokens';
import { createLogger } from '@archbench/observability/logging';
import { createMetrics } from '@archbench/observability/metrics';
import { captureQueries, createTestDatabase, queryPlan, skipUnlessReachable } from '@archbench/server-kit/testing';
import type { TestDatabase } from '@archbench/server-kit/testing';
import { createApp } from '../src/app';
import { forModule, openMonolithDatabase } from '../src/db';
import type { Tables } from '../src/db';
import { loadEnv } from '../src/env';
import { createPayments } from '../src/modules/payments';
import type { PaymentsTables } from '../src/modules/payments';

/**
 * `archbench_refund_oldest_pending_seconds`: a refund the provider fails stays PENDING and is tried
 * again every REFUND_RETRY_MS, forever. An operator sees it on /metrics as the age of the oldest
 * refund still to be made, read from the database at each scrape (so a process that did not send
 * it, or the one after a restart, reports it too), through the pending-refunds index, however many
 * finished payments the table holds. On SQLite and PostgreSQL.
 */
const secret = 'refund-age-test-secret-0123456789';
const customer = mintToken(secret, { sub: 'refund-age-customer' });
const admin = mintToken(secret, { sub: 'ops', role: 'admin' });
const silent = createLogger({ service: 'refund-age-test', level: 'silent' });
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** 20,000 finished payments (and a charge in flight for an hour), beside one refund pending for 10 minutes. */
const FINISHED = 20_000;
const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

/** archbench_refund_oldest_pending_seconds on a /metrics text; undefined when the series is not there. */
function refundAge(text: string): number | undefined {
  const match = /^archbench_refund_oldest_pending_seconds\{service="monolith"\} (\S+)$/m.exec(text);
  return match ? Number(match[1]) : undefined;
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  const skip = await skipUnlessReachable({ database: dialect });

  describe.skipIf(skip)(`the age of the oldest pending refund on /metrics (${dialect})`, () => {
    /** A fresh database (a PostgreSQL one of its own, or a SQLite file), migrated; `monolith()` starts a process on it. */
    async function system() {
      const dataDir = mkdtempSync(join(tmpdir(), 'archbench-refund-age-'));
      const pg: TestDatabase | undefined = dialect === 'postgres' ? await createTestDatabase('archbench_refund_age') : undefined;
      const env = loadEnv({
        NODE_ENV: 'test',
        DATA_DIR: dataDir,
        AUTH_SECRET: secret,
        LOG_LEVEL: 'silent',
        SAGA_SWEEP_MS: '100',
        ...(pg ? { DATABASE_URL: pg.url } : {}),
      });
      const database = await openMonolithDatabase(env);
      let closed = false;
      const close = async () => {
        if (!closed) await database.close();
        closed = true;
      };
      cleanups.push(async () => {
        await close();
        await pg?.drop();
        rmSync(dataDir, { recursive: true, force: true });
      });
      /** One monolith process on the database; `sweep` starts its deadline sweeper (which retries refunds). */
      const monolith = (sweep: boolean, logger = silent) => {
        const app = createApp({ env, db: database.db, logger, metrics: createMetrics({ service: 'monolith', defaultMetrics: false }) });
        if (sweep) app.orders.startDeadlineSweeper(env.SAGA_SWEEP_MS);
        cleanups.push(() => app.orders.drain());
        const call = async <T>(path: string, init: RequestInit = {}, bearer = customer) => {
          const res = await app.app.request(path, {
            ...init,
            headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', prefer: 'wait=10', ...init.headers },
          });
          return { status: res.status, body: (await res.json()) as T };
        };
        /** What Prometheus scrapes: /metrics answers 200, with or without the series. */
        const scrape = async () => {
          const res = await app.app.request('/metrics');
          expect(res.status).toBe(200);
          return res.text();
        };
        return { ...app, call, scrape, age: async () => refundAge(await scrape()) };
      };
      return { db: database.db, close, monolith };
    }

    it('a refund the provider keeps failing: the age grows past 1 s on /metrics (a restarted process reports it too), and is 0 once the refund is made', async () => {
      const s = await system();
      // The warning an operator follows from RefundStuck to the order.
      const lines: Array<{ level: number; msg: string; orderId?: string }> = [];
      const logged = createLogger({ service: 'monolith', level: 'warn', destination: { write: (line: string) => void lines.push(JSON.parse(line)) } });
      const mono = s.monolith(true, logged);
      await mono.catalog.seed();
      expect(await mono.age()).toBe(0);
      const placed = await mono.call<Order>('/orders', {
        method: 'POST',
        body: JSON.stringify({ items: [{ sku: 'SKU-0071', quantity: 1 }], payment: { token: 'tok_ok' } }),
      });
      expect(placed.body.status).toBe('CONFIRMED');
      const provider = async (failureRate: number) =>
        expect((await mono.call('/admin/payments/provider', { method: 'PUT', body: JSON.stringify({ failureRate }) }, admin)).status).toBe(200);
      await provider(1); // the provider fails every call
      expect((await mono.call<Order>(`/orders/${placed.body.id}/cancel`, { method: 'POST' })).status).toBe(200);
      const payments = async () =>
        (await mono.call<{ items: Array<{ kind: string; status: string }> }>(`/admin/orders/${placed.body.id}/payments`, {}, admin)).body.items
          .map((p) => `${p.kind}:${p.status}`)
          .sort();
      expect(await payments()).toEqual(['charge:SUCCEEDED', 'refund:PENDING']);

      // What an operator sees: the refund's age, growing while the provider fails it.
      await sleep(1200);
      const scraped = await mono.scrape();
      expect(scraped).toMatch(/^archbench_payments_total\{result="refund_failed",service="monolith"\} [1-9]/m);
      expect(lines).toContainEqual(
        expect.objectContaining({ level: 40, orderId: placed.body.id, msg: 'refund failed at the payment provider; tried again in 30 s' }),
      );
      const stuck = refundAge(scraped)!;
      expect(stuck).toBeGreaterThan(1);
      await sleep(500);
      expect(await mono.age()).toBeGreaterThan(stuck + 0.4);
      // A process that never sent it (a replica, the one after a restart) reads the same age from the database.
      const restarted = s.monolith(false);
      expect(await restarted.age()).toBeGreaterThan(stuck + 0.4);
      expect(await payments()).toEqual(['charge:SUCCEEDED', 'refund:PENDING']);

      await provider(0); // the provider is back
      // As if REFUND_RETRY_MS had passed since the last try: the sweeper sends it at its next pass.
      await sql`update payments set claimed_until = ${ago(1 / 60)} where order_id = ${placed.body.id} and kind = 'refund'`.execute(s.db);
      for (const until = Date.now() + 20_000; Date.now() < until && (await mono.age()) !== 0;) await sleep(50);
      expect(await payments()).toEqual(['charge:SUCCEEDED', 'refund:SUCCEEDED']);
      expect(await mono.age()).toBe(0);
      expect(await restarted.age()).toBe(0);
    });

    /** The 20,000 finished payments, a charge in flight for an hour and a refund pending for 10 minutes (failed, waiting for its next try). */
    async function seeded(db: Kysely<Tables>) {
      const payment = (i: number, kind: string, status: string, createdAt: string, claimedUntil: string | null = null) => ({
        id: `pay_${String(i).padStart(6, '0')}`,
        order_id: `ord_${String(i).padStart(6, '0')}`,
        kind,
        status,
        amount_cents: 100,
        provider_ref: null,
        created_at: createdAt,
        claimed_until: claimedUntil,
      });
      const finished = [
        ['charge', 'SUCCEEDED'],
        ['charge', 'DECLINED'],
        ['charge', 'FAILED'],
        ['refund', 'SUCCEEDED'],
      ] as const;
      for (let i = 0; i < FINISHED; i += 1000)
        await db
          .insertInto('payments')
          .values(
            Array.from({ length: 1000 }, (_, j) => {
              const [kind, status] = finished[(i + j) % finished.length]!;
              return payment(i + j, kind, status, ago(60));
            }),
          )
          .execute();
      await db
        .insertInto('payments')
        .values([payment(FINISHED, 'charge', 'PENDING', ago(60), ago(59)), payment(FINISHED + 1, 'refund', 'PENDING', ago(10), ago(-0.5))])
        .execute();
      if (dialect === 'postgres') await sql`analyze payments`.execute(db);
    }

    it('a process that never sent the refund reports its age from the database (600 s, not the charge in flight), and leaves the series out while the database is gone', async () => {
      const s = await system();
      await seeded(s.db);
      const mono = s.monolith(false);
      // 600 s from the row's created_at, plus however long the setup took on a busy machine.
      expect(await mono.age()).toBeGreaterThanOrEqual(600);
      expect(await mono.age()).toBeLessThan(630);
      // registry.resetMetrics() (a test harness, a hot reload): nothing to reset, the next scrape reads the database again.
      mono.metrics!.registry.resetMetrics();
      expect(await mono.age()).toBeGreaterThanOrEqual(600);
      // The database gone: /metrics still answers, without this series (an alert on it does not fire on a guess).
      await s.close();
      const text = await mono.scrape();
      expect(text).toContain('# TYPE archbench_payments_total counter');
      expect(refundAge(text)).toBeUndefined();
      expect(text).not.toContain('archbench_refund_oldest_pending_seconds{');
    });

    it("the scrape's query reads the payments_pending_refunds index, not every payment", async () => {
      const s = await system();
      await seeded(s.db);
      const capture = captureQueries(s.db);
      const payments = createPayments(forModule<PaymentsTables>(capture.db), { settings: { latencyMs: 0, slowMs: 0, failureRate: 0 } });
      capture.take(); // not the statements the service prepares when it is made
      expect(await payments.oldestPendingRefund()).toBeDefined();
      const compiled = capture.take();
      expect(compiled).toHaveLength(1);
      const plan = await queryPlan(s.db, compiled[0]!, dialect);
      if (dialect === 'sqlite') expect(plan).toBe('SEARCH payments USING COVERING INDEX payments_pending_refunds');
      else {
        expect(plan).toMatch(/Index (Only )?Scan (on|using) payments_pending_refunds/);
        expect(plan).not.toMatch(/Seq Scan on payments/);
      }
    });
  });
}
