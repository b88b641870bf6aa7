import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '@archbench/observability/logging';
import { migrate, openDatabase } from '@archbench/server-kit/db';
import type { Database } from '@archbench/server-kit/db';
import { createPaymentsRepository } from './repository';
import { migrations } from './schema';
import type { PaymentsTables } from './schema';
import { createPayments } from './service';

/** The payments service on a real SQLite file: the deadline fence, the void that goes with it, and refunds. */
describe('payments: charges past the saga deadline and voids', () => {
  let dir: string;
  let database: Database<PaymentsTables>;
  let calls: string[];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'archbench-payments-'));
    database = openDatabase<PaymentsTables>({ dataDir: dir, fileName: 'payments.db' });
    await migrate(database.db, migrations);
    calls = [];
  });
  afterEach(async () => {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function payments(latencyMs = 0) {
    const service = createPayments({
      repo: createPaymentsRepository(database.db),
      provider: { latencyMs },
      timeoutMs: 5000,
      breaker: { windowMs: 10_000, minimumCalls: 10, failureRate: 0.5, openMs: 5000 },
      logger: createLogger({ service: 'payments-test', level: 'silent' }),
      onOutcome: (kind, outcome) => calls.push(`${kind}:${outcome}`),
    });
    return service;
  }
  const charge = (orderId: string, notAfter?: number) => ({
    type: 'ChargePayment' as const,
    id: `charge:${orderId}`,
    orderId,
    token: 'tok_ok' as const,
    amountCents: 500,
    notAfter,
  });
  const voidOf = (orderId: string) => ({ type: 'VoidPayment' as const, id: `void:${orderId}`, orderId });

  it('refuses a charge delivered after its notAfter without calling the provider, and keeps refusing it', async () => {
    const p = payments();
    expect(await p.charge(charge('o1', Date.now() - 1))).toEqual({ ok: true, outcome: 'EXPIRED' });
    expect(await p.charge(charge('o1', Date.now() + 60_000))).toEqual({ ok: true, outcome: 'EXPIRED' });
    expect(calls).toEqual([]);
    expect((await p.listForOrder('o1')).map((r) => `${r.kind}:${r.status}`)).toEqual(['charge:FAILED']);
  });

  it("a void before any charge takes the order's charge slot: a late charge captures nothing", async () => {
    const p = payments();
    expect(await p.handle(voidOf('o2'))).toEqual({ ok: true, outcome: 'NOTHING_CAPTURED' });
    expect(await p.charge(charge('o2', Date.now() + 60_000))).toEqual({ ok: true, outcome: 'EXPIRED' });
    expect(calls).toEqual([]);
  });

  it('a void after a capture refunds it once; a second void changes nothing', async () => {
    const p = payments();
    expect((await p.charge(charge('o3', Date.now() + 60_000))).outcome).toBe('SUCCEEDED');
    expect(await p.handle(voidOf('o3'))).toEqual({ ok: true, outcome: 'REFUNDED' });
    expect(await p.handle(voidOf('o3'))).toEqual({ ok: true, outcome: 'REFUNDED' });
    expect(calls).toEqual(['charge:SUCCEEDED', 'refund:SUCCEEDED']);
  });

  it('a refund the provider fails stays PENDING and is made by a later copy of the command', async () => {
    const p = payments();
    expect((await p.charge(charge('o6', Date.now() + 60_000))).outcome).toBe('SUCCEEDED');
    const refund = { type: 'RefundPayment' as const, id: 'refund:o6', orderId: 'o6', amountCents: 500 };
    p.configureProvider({ failureRate: 1 });
    await expect(p.handle(refund)).rejects.toThrow('refund of o6 ended FAILED; it will be retried');
    expect((await p.listForOrder('o6')).map((r) => `${r.kind}:${r.status}`).sort()).toEqual(['charge:SUCCEEDED', 'refund:PENDING']);
    p.configureProvider({ failureRate: 0 });
    // The saga resends it (orders retries a refund command until it is made).
    expect(await p.handle(refund)).toEqual({ ok: true, outcome: 'SUCCEEDED' });
    expect(calls).toEqual(['charge:SUCCEEDED', 'refund:FAILED', 'refund:SUCCEEDED']);
    expect((await p.listForOrder('o6')).map((r) => `${r.kind}:${r.status}`).sort()).toEqual(['charge:SUCCEEDED', 'refund:SUCCEEDED']);
  });

  it('a void waits for a charge in flight and refunds what it captured', async () => {
    const p = payments(150);
    const charging = p.charge(charge('o4', Date.now() + 60_000));
    await new Promise((resolve) => setTimeout(resolve, 20)); // the provider call has started
    const voided = await p.handle(voidOf('o4'));
    expect((await charging).outcome).toBe('SUCCEEDED');
    expect(voided).toEqual({ ok: true, outcome: 'REFUNDED' });
    expect((await p.listForOrder('o4')).map((r) => `${r.kind}:${r.status}`).sort()).toEqual(['charge:SUCCEEDED', 'refund:SUCCEEDED']);
  });

  it('settles a charge left PENDING by a dead process as FAILED on void, never calling the provider', async () => {
    const repo = createPaymentsRepository(database.db);
    await repo.insertPending('o5', 'charge', 500, 'charge:o5');
    await database.db
      .updateTable('payments')
      .set({ created_at: new Date(Date.now() - 5000).toISOString() })
      .execute();
    const p = payments();
    expect(await p.handle(voidOf('o5'))).toEqual({ ok: true, outcome: 'NOTHING_CAPTURED' });
    expect(calls).toEqual([]);
  });
});
