import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { PaymentToken } from '@archbench/contracts/schemas';
import { PaymentProvider } from '@archbench/domain/payment-provider';
import { createLogger } from '@archbench/observability/logging';
import { migrate, openDatabase } from '@archbench/server-kit/db';
import type { Database } from '@archbench/server-kit/db';
import { createTestDatabase, postgresReachable, shouldSkip } from '@archbench/server-kit/testing';
import { createPaymentsRepository } from './repository';
import { migrations } from './schema';
import type { PaymentsTables } from './schema';
import { createPayments } from './service';

/**
 * A provider call taken over after its process stalled past its lease (CALL_LEASE_MS), without
 * waiting 8 s: process A's call is held at the provider, its lease is set into the past in the
 * database (as a stall lets it lapse), process B takes the call over (a redelivered command), then
 * A's provider answers. A charge B settled FAILED that A's provider captured all the same is
 * refunded once by A, through the order's refund row; the order's answer stays FAILED.
 */
const skipPostgres = await shouldSkip('PostgreSQL', postgresReachable);
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A gate calls wait at until it is opened. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** The simulated provider with its calls counted; charges or refunds wait for `open()` (or `openRefunds()`) when held. */
class HeldProvider extends PaymentProvider {
  chargeCalls = 0;
  refundCalls = 0;
  /** How many refunds to answer FAILED (like a 5xx) before refunding again. */
  failingRefunds = 0;
  readonly #charges = gate();
  readonly #refunds = gate();
  constructor(readonly hold: { charges?: boolean; refunds?: boolean } = {}) {
    super();
  }
  override async charge(token: PaymentToken, amountCents: number): ReturnType<PaymentProvider['charge']> {
    this.chargeCalls++;
    if (this.hold.charges) await this.#charges.opened;
    return super.charge(token, amountCents);
  }
  override async refund(amountCents: number): ReturnType<PaymentProvider['refund']> {
    this.refundCalls++;
    if (this.hold.refunds) await this.#refunds.opened;
    if (this.failingRefunds > 0) {
      this.failingRefunds--;
      return { outcome: 'FAILED', providerRef: 'refund-failed' };
    }
    return super.refund(amountCents);
  }
  /** Lets held charges through, and held refunds unless `refunds` is false. */
  open({ refunds = true } = {}) {
    this.#charges.open();
    if (refunds) this.#refunds.open();
  }
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe.skipIf(dialect === 'postgres' && skipPostgres)(`payments: a call taken over after its process stalled (${dialect})`, () => {
    /** Two payments processes on one database, each with its own connections, calls in flight and provider. */
    async function processes() {
      const dir = mkdtempSync(join(tmpdir(), 'archbench-late-capture-'));
      const testDatabase = dialect === 'postgres' ? await createTestDatabase('archbench_late_capture') : undefined;
      const calls: string[] = [];
      /** What the services did to their relay, in order (`a kick`), and when a drain ended (`a drained`). */
      const relayLog: string[] = [];
      const databases: Database<PaymentsTables>[] = [];
      const services: Array<ReturnType<typeof createPayments>> = [];
      cleanups.push(async () => {
        await Promise.all(services.map((s) => s.drain()));
        await Promise.all(databases.map((d) => d.close()));
        await testDatabase?.drop();
        rmSync(dir, { recursive: true, force: true });
      });
      const open = async (name: string, provider: HeldProvider) => {
        const database = openDatabase<PaymentsTables>({
          databaseUrl: testDatabase?.url,
          dataDir: dir,
          fileName: 'payments.db',
          poolSize: 2,
          lockingMode: 'normal', // two connections share the SQLite file
        });
        databases.push(database);
        if (databases.length === 1) await migrate(database.db, migrations);
        const service = createPayments({
          repo: createPaymentsRepository(database.db),
          provider: {},
          providerInstance: provider,
          timeoutMs: 30_000,
          breaker: { windowMs: 10_000, minimumCalls: 10, failureRate: 0.5, openMs: 5000 },
          logger: createLogger({ service: 'payments-test', level: 'silent' }),
          onOutcome: (kind, outcome) => calls.push(`${name} ${kind}:${outcome}`),
          relay: { kick: async () => void relayLog.push(`${name} kick`) },
        });
        services.push(service);
        return { service, provider, repo: createPaymentsRepository(database.db), db: database.db };
      };
      const a = await open('a', new HeldProvider({ charges: true }));
      const b = await open('b', new HeldProvider());
      /** What a stall of A's process does to its call's lease: it runs out, unrenewed. */
      const lapse = async (orderId: string, kind: 'charge' | 'refund') => {
        await a.db
          .updateTable('payments')
          .set({ claimed_until: new Date(Date.now() - 1).toISOString() })
          .where('order_id', '=', orderId)
          .where('kind', '=', kind)
          .execute();
      };
      const rows = async (orderId: string) => (await b.service.listForOrder(orderId)).map((r) => `${r.kind}:${r.status}`).sort();
      /** The order's records once they read `expected` (a late capture's refund runs in the background), or as they read after 5 s. */
      const rowsOnce = async (orderId: string, expected: string[]) => {
        for (const until = Date.now() + 5000; Date.now() < until; await sleep(20)) {
          const now = await rows(orderId);
          if (JSON.stringify(now) === JSON.stringify(expected)) return now;
        }
        return rows(orderId);
      };
      return { a, b, calls, relayLog, lapse, rows, rowsOnce };
    }
    const charge = (orderId: string, token: PaymentToken = 'tok_ok') => ({
      type: 'ChargePayment' as const,
      id: `charge:${orderId}`,
      orderId,
      token,
      amountCents: 500,
    });
    const refund = (orderId: string) => ({ type: 'RefundPayment' as const, id: `refund:${orderId}`, orderId, amountCents: 500 });
    /** The events waiting in the outbox for the relay, as `type:orderId`. */
    const announced = async (p: { repo: ReturnType<typeof createPaymentsRepository> }) =>
      (await p.repo.unpublished(100)).map((row) => JSON.parse(row.payload) as { type: string; orderId: string }).map((e) => `${e.type}:${e.orderId}`);

    it('a charge settled FAILED by the other process that then captures is refunded once; both answers say FAILED, the records show the capture and its refund', async () => {
      const { a, b, calls, lapse, rowsOnce } = await processes();
      const first = a.service.handle(charge('o1'));
      while (a.provider.chargeCalls === 0) await sleep(5);
      await lapse('o1', 'charge');
      // A redelivered copy reaches B: the call looks dead, B settles it without calling the provider.
      expect(await b.service.handle(charge('o1'))).toEqual({ ok: true, outcome: 'FAILED' });
      a.provider.open(); // A's provider captures after all
      expect(await first).toEqual({ ok: true, outcome: 'FAILED' });
      // Captured, then refunded: what the provider did, as in the monolith (captured − refunded = 0).
      expect(await rowsOnce('o1', ['charge:SUCCEEDED', 'refund:SUCCEEDED'])).toEqual(['charge:SUCCEEDED', 'refund:SUCCEEDED']);
      expect([a.provider.refundCalls, b.provider.refundCalls, b.provider.chargeCalls]).toEqual([1, 0, 0]);
      expect(calls).toEqual(['a charge:SUCCEEDED', 'a refund:SUCCEEDED']);
      // Later copies of the charge, in either process, answer what the row says.
      expect(await a.service.handle(charge('o1'))).toEqual({ ok: true, outcome: 'FAILED' });
      expect(await b.service.handle(charge('o1'))).toEqual({ ok: true, outcome: 'FAILED' });
      expect(a.provider.refundCalls + b.provider.refundCalls).toBe(1);
      // The orders service is told, once, through the outbox: the rejected order's payment shows REFUNDED.
      expect(await announced(b)).toEqual(['LateCaptureRefunded:o1']);
    });

    it("a process draining while its charge captures late waits for the late capture's refund it starts then: nothing runs (or kicks the relay) after the drain", async () => {
      const { a, b, relayLog, lapse, rows } = await processes();
      const first = a.service.handle(charge('o10'));
      while (a.provider.chargeCalls === 0) await sleep(5);
      await lapse('o10', 'charge');
      expect(await b.service.handle(charge('o10'))).toEqual({ ok: true, outcome: 'FAILED' });
      // A stops while its call is at the provider; the call captures during the drain.
      const drained = a.service.drain().then(() => void relayLog.push('a drained'));
      await sleep(20);
      a.provider.open();
      expect(await first).toEqual({ ok: true, outcome: 'FAILED' });
      await drained;
      expect(await rows('o10')).toEqual(['charge:SUCCEEDED', 'refund:SUCCEEDED']);
      await sleep(200);
      expect(relayLog.at(-1)).toBe('a drained');
      expect(relayLog.filter((entry) => entry.startsWith('a kick')).length).toBeGreaterThan(0);
    });

    it('a charge settled FAILED by the other process that the provider then declines needs no refund', async () => {
      const { a, b, calls, lapse, rows } = await processes();
      const first = a.service.handle(charge('o2', 'tok_decline'));
      while (a.provider.chargeCalls === 0) await sleep(5);
      await lapse('o2', 'charge');
      expect(await b.service.handle(charge('o2', 'tok_decline'))).toEqual({ ok: true, outcome: 'FAILED' });
      a.provider.open();
      expect(await first).toEqual({ ok: true, outcome: 'FAILED' });
      expect(await rows('o2')).toEqual(['charge:FAILED']);
      expect(calls).toEqual(['a charge:DECLINED']);
      expect(a.provider.refundCalls + b.provider.refundCalls).toBe(0);
      expect(await announced(b)).toEqual([]);
    });

    it("a late capture's refund the provider fails stays PENDING and is tried again until made", async () => {
      const { a, b, calls, lapse, rows, rowsOnce } = await processes();
      a.provider.failingRefunds = 1;
      const first = a.service.handle(charge('o3'));
      while (a.provider.chargeCalls === 0) await sleep(5);
      await lapse('o3', 'charge');
      expect(await b.service.handle(charge('o3'))).toEqual({ ok: true, outcome: 'FAILED' });
      a.provider.open();
      expect(await first).toEqual({ ok: true, outcome: 'FAILED' });
      while (a.provider.refundCalls < 1) await sleep(5);
      for (const until = Date.now() + 2000; Date.now() < until && calls.length < 2;) await sleep(5);
      expect(await rows('o3')).toEqual(['charge:SUCCEEDED', 'refund:PENDING']);
      expect(await rowsOnce('o3', ['charge:SUCCEEDED', 'refund:SUCCEEDED'])).toEqual(['charge:SUCCEEDED', 'refund:SUCCEEDED']);
      expect(calls).toEqual(['a charge:SUCCEEDED', 'a refund:FAILED', 'a refund:SUCCEEDED']);
      expect([a.provider.refundCalls, b.provider.refundCalls]).toEqual([2, 0]);
    });

    it("a late capture left unrefunded by a process that stopped is refunded at start (refund row PENDING, or not written yet); a cancel's refund is left to its saga", async () => {
      const { b, calls, rows } = await processes();
      // What a process that died while refunding a late capture leaves: the charge FAILED, its refund PENDING.
      const lapsed = new Date(Date.now() - 1).toISOString();
      const chargeRow = await b.repo.insertPending('o4', 'charge', 500, 'charge:o4', 'PENDING', lapsed);
      await b.repo.finish(chargeRow, 'FAILED', null);
      await b.repo.insertPending('o4', 'refund', 500, 'late-capture:o4', 'PENDING', lapsed);
      // A cancel's refund the provider failed: the saga resends it.
      const captured = await b.repo.insertPending('o5', 'charge', 500, 'charge:o5', 'PENDING', lapsed);
      await b.repo.finish(captured, 'SUCCEEDED', 'prov_0');
      await b.repo.insertPending('o5', 'refund', 500, 'refund:o5', 'PENDING', new Date(0).toISOString());
      // A process that recorded a late capture and stopped before it wrote the refund row.
      const late = await b.repo.insertPending('o7', 'charge', 500, 'charge:o7', 'PENDING', lapsed);
      await b.repo.finish(late, 'FAILED', null);
      expect(await b.repo.markLateCapture(late, 'prov_7')).toBe(true);
      expect(await rows('o7')).toEqual(['charge:SUCCEEDED']);
      expect(await b.service.resumeLateCaptureRefunds()).toBe(2);
      expect(await rows('o4')).toEqual(['charge:FAILED', 'refund:SUCCEEDED']);
      expect(await rows('o5')).toEqual(['charge:SUCCEEDED', 'refund:PENDING']);
      expect(await rows('o7')).toEqual(['charge:SUCCEEDED', 'refund:SUCCEEDED']);
      expect(calls).toEqual(['b refund:SUCCEEDED', 'b refund:SUCCEEDED']);
      // Done: the next start finds nothing to refund.
      expect(await b.service.resumeLateCaptureRefunds()).toBe(0);
      // Every late capture is announced to the orders service, once; a cancel's refund is not one.
      expect((await announced(b)).sort()).toEqual(['LateCaptureRefunded:o4', 'LateCaptureRefunded:o7']);
    });

    it('a late capture recorded and refunded before payments told the orders service of it (its record failed, or before the outbox) is announced at start, once', async () => {
      const { b, calls } = await processes();
      const lapsed = new Date(Date.now() - 1).toISOString();
      const late = await b.repo.insertPending('o9', 'charge', 500, 'charge:o9', 'PENDING', lapsed);
      await b.repo.finish(late, 'FAILED', null);
      await b.db.updateTable('payments').set({ status: 'LATE_CAPTURED', provider_ref: 'prov_9' }).where('id', '=', late).execute();
      const refunded = await b.repo.insertPending('o9', 'refund', 500, 'late-capture:o9', 'PENDING', lapsed);
      await b.repo.finish(refunded, 'SUCCEEDED', 'prov_r9');
      expect(await announced(b)).toEqual([]);
      expect(await b.service.resumeLateCaptureRefunds()).toBe(0); // nothing left to refund
      expect(await announced(b)).toEqual(['LateCaptureRefunded:o9']);
      expect(await b.service.resumeLateCaptureRefunds()).toBe(0);
      expect(await announced(b)).toEqual(['LateCaptureRefunded:o9']);
      expect(calls).toEqual([]);
    });

    it("the charge's answer does not wait for the late capture's refund; a void of the order (the saga's deadline) waits for it and answers REFUNDED", async () => {
      const { a, b, calls, lapse, rows } = await processes();
      a.provider.hold.refunds = true;
      const first = a.service.handle(charge('o8'));
      while (a.provider.chargeCalls === 0) await sleep(5);
      await lapse('o8', 'charge');
      expect(await b.service.handle(charge('o8'))).toEqual({ ok: true, outcome: 'FAILED' });
      a.provider.open({ refunds: false }); // the capture comes back; its refund hangs at the provider
      expect(await first).toEqual({ ok: true, outcome: 'FAILED' });
      while (a.provider.refundCalls === 0) await sleep(5);
      expect(await rows('o8')).toEqual(['charge:SUCCEEDED', 'refund:PENDING']);
      // The saga's deadline voids the order in the other process: it waits for A's live refund, not a second one.
      const voided = b.service.handle({ type: 'VoidPayment', id: 'void:o8', orderId: 'o8' });
      await sleep(300);
      expect(b.provider.refundCalls).toBe(0);
      a.provider.open();
      expect(await voided).toEqual({ ok: true, outcome: 'REFUNDED' });
      expect(await rows('o8')).toEqual(['charge:SUCCEEDED', 'refund:SUCCEEDED']);
      expect([a.provider.refundCalls, b.provider.refundCalls]).toEqual([1, 0]);
      expect(calls).toEqual(['a charge:SUCCEEDED', 'a refund:SUCCEEDED']);
    });

    it('a refund taken over while its process stalled reaches the provider twice (it takes no idempotency key); the row records it once', async () => {
      const { a, b, calls, lapse, rows } = await processes();
      a.provider.hold.charges = false;
      expect(await a.service.charge(charge('o6'))).toEqual({ ok: true, outcome: 'SUCCEEDED' });
      a.provider.hold.refunds = true;
      const first = a.service.handle(refund('o6'));
      while (a.provider.refundCalls === 0) await sleep(5);
      await lapse('o6', 'refund');
      expect(await b.service.handle(refund('o6'))).toEqual({ ok: true, outcome: 'SUCCEEDED' });
      a.provider.open();
      expect(await first).toEqual({ ok: true, outcome: 'SUCCEEDED' });
      expect(await rows('o6')).toEqual(['charge:SUCCEEDED', 'refund:SUCCEEDED']);
      expect([a.provider.refundCalls, b.provider.refundCalls]).toEqual([1, 1]);
      expect(calls).toEqual(['a charge:SUCCEEDED', 'b refund:SUCCEEDED', 'a refund:SUCCEEDED']);
      expect(await a.service.handle(refund('o6'))).toEqual({ ok: true, outcome: 'SUCCEEDED' });
      expect(a.provider.refundCalls + b.provider.refundCalls).toBe(2);
    });
  });
}
