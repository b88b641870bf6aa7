import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '@archbench/observability/logging';
import { migrate, openDatabase } from '@archbench/server-kit/db';
import type { Database } from '@archbench/server-kit/db';
import { createTestDatabase, postgresReachable, shouldSkip } from '@archbench/server-kit/testing';
import type { TestDatabase } from '@archbench/server-kit/testing';
import { createPaymentsRepository } from './repository';
import { migrations } from './schema';
import type { PaymentsTables } from './schema';
import { createPayments } from './service';

/**
 * Two payments processes on one PostgreSQL (a second replica, or the new pod of a rolling update):
 * each with its own connections and its own calls in flight, as two processes have. A copy of a
 * command that reaches the other one while the provider is still answering must wait for that
 * call, not take it for a dead process's; a dead process's call is taken over once its lease lapses.
 */
const skip = await shouldSkip('PostgreSQL', postgresReachable);

describe.skipIf(skip)('payments: two processes on one PostgreSQL', () => {
  let testDatabase: TestDatabase;
  let databases: Database<PaymentsTables>[];
  let calls: string[];

  beforeEach(async () => {
    testDatabase = await createTestDatabase('archbench_payment_leases');
    databases = [];
    calls = [];
  });
  afterEach(async () => {
    await Promise.all(databases.map((d) => d.close()));
    await testDatabase.drop();
  });

  /** One payments process: its own pool and its own in-flight calls, the provider answering after `latencyMs`. */
  async function paymentsProcess(name: string, latencyMs: number) {
    const database = openDatabase<PaymentsTables>({ databaseUrl: testDatabase.url, dataDir: tmpdir(), fileName: 'payments.db', poolSize: 2 });
    databases.push(database);
    if (databases.length === 1) await migrate(database.db, migrations);
    const service = createPayments({
      repo: createPaymentsRepository(database.db),
      provider: { latencyMs },
      timeoutMs: 30_000, // longer than the slowest provider here (10.5 s)
      breaker: { windowMs: 10_000, minimumCalls: 10, failureRate: 0.5, openMs: 5000 },
      logger: createLogger({ service: 'payments-test', level: 'silent' }),
      onOutcome: (kind, outcome) => calls.push(`${name} ${kind}:${outcome}`),
    });
    return { service, database };
  }
  const charge = (orderId: string) => ({ type: 'ChargePayment' as const, id: `charge:${orderId}`, orderId, token: 'tok_ok' as const, amountCents: 500 });
  const refund = (orderId: string) => ({ type: 'RefundPayment' as const, id: `refund:${orderId}`, orderId, amountCents: 500 });
  const rows = async (p: { service: ReturnType<typeof createPayments> }, orderId: string) =>
    (await p.service.listForOrder(orderId)).map((r) => `${r.kind}:${r.status}`).sort();

  it('a copy of a charge that reaches the other process while the provider answers slowly (10.5 s, past one lease) gets the same capture', async () => {
    const a = await paymentsProcess('a', 10_500);
    const b = await paymentsProcess('b', 10_500);
    const first = a.service.handle(charge('o1'));
    await sleep(10_200); // the call has run longer than a lease (CALL_LEASE_MS): only a renewed lease says it is alive
    const copy = await b.service.handle(charge('o1'));
    expect(await first).toEqual({ ok: true, outcome: 'SUCCEEDED' });
    expect(copy).toEqual({ ok: true, outcome: 'SUCCEEDED' });
    expect(calls).toEqual(['a charge:SUCCEEDED']);
    expect(await rows(b, 'o1')).toEqual(['charge:SUCCEEDED']);
  }, 25_000);

  it('a copy of a refund that reaches the other process while the provider answers (3.5 s) refunds once', async () => {
    const a = await paymentsProcess('a', 0);
    const b = await paymentsProcess('b', 0);
    expect((await a.service.charge(charge('o2'))).outcome).toBe('SUCCEEDED');
    a.service.configureProvider({ latencyMs: 3500 });
    b.service.configureProvider({ latencyMs: 3500 });
    const first = a.service.handle(refund('o2'));
    await sleep(3200);
    const copy = await b.service.handle(refund('o2'));
    expect(await first).toEqual({ ok: true, outcome: 'SUCCEEDED' });
    expect(copy).toEqual({ ok: true, outcome: 'SUCCEEDED' });
    expect(calls).toEqual(['a charge:SUCCEEDED', 'a refund:SUCCEEDED']);
    expect(await rows(b, 'o2')).toEqual(['charge:SUCCEEDED', 'refund:SUCCEEDED']);
  }, 15_000);

  it("takes over a dead process's calls once their lease lapses: its refund is made, its charge settled FAILED without a call", async () => {
    const b = await paymentsProcess('b', 0);
    expect((await b.service.charge(charge('o3'))).outcome).toBe('SUCCEEDED');
    calls.length = 0;
    // What a process that died mid-call leaves: PENDING rows whose lease it stopped renewing.
    const repo = createPaymentsRepository(b.database.db);
    const lapsed = new Date(Date.now() - 1).toISOString();
    await repo.insertPending('o3', 'refund', 500, 'refund:o3', 'PENDING', lapsed);
    await repo.insertPending('o4', 'charge', 500, 'charge:o4', 'PENDING', lapsed);
    expect(await b.service.handle(refund('o3'))).toEqual({ ok: true, outcome: 'SUCCEEDED' });
    expect(await b.service.handle(charge('o4'))).toEqual({ ok: true, outcome: 'FAILED' });
    expect(calls).toEqual(['b refund:SUCCEEDED']);
    expect(await rows(b, 'o4')).toEqual(['charge:FAILED']);
  });

  it('a refund the provider failed is given back at once: a copy in the other process makes it without waiting for a lease', async () => {
    const a = await paymentsProcess('a', 0);
    const b = await paymentsProcess('b', 0);
    expect((await a.service.charge(charge('o5'))).outcome).toBe('SUCCEEDED');
    a.service.configureProvider({ failureRate: 1 });
    await expect(a.service.handle(refund('o5'))).rejects.toThrow('refund of o5 ended FAILED; it will be retried');
    const started = Date.now();
    expect(await b.service.handle(refund('o5'))).toEqual({ ok: true, outcome: 'SUCCEEDED' });
    expect(Date.now() - started).toBeLessThan(5000); // a lease still held would take 10 s to lapse
    expect(calls).toEqual(['a charge:SUCCEEDED', 'a refund:FAILED', 'b refund:SUCCEEDED']);
  });
});
