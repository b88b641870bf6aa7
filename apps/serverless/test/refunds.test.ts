import { setTimeout as sleep } from 'node:timers/promises';
import type { D1Database } from '@cloudflare/workers-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Order } from '@archbench/contracts/schemas';
import { REFUND_CLAIM_MS } from '@archbench/domain/payment-provider';
import type { RunningServerless } from '../src/runtime';
import { FULL_SWEEP_CRON } from '../src/workers/payments/reconcile';
import type { Client } from './helpers';
import { eventually, firePaymentsCron, metricValue, startWithClient } from './helpers';

/**
 * Refunds on the real runtime: a refund the provider fails is not lost (it stays PENDING and is
 * sent again once the provider is back), and two copies of one refund command refund once. The
 * Cron Triggers are fired by hand (no timer sweep), the refund row is backdated past the sweep's
 * 30 s instead of waiting.
 */
describe('serverless: refunds', () => {
  let app: RunningServerless;
  let api: Client;
  let db: D1Database;

  beforeAll(async () => {
    ({ app, api, db } = await startWithClient({ cronEveryMs: 0 }));
  });
  afterAll(async () => {
    await app?.stop();
  });

  const minuteSweep = () => firePaymentsCron(app, '* * * * *');
  const dailySweep = () => firePaymentsCron(app, FULL_SWEEP_CRON);
  const providerCalls = async (result: 'refunded' | 'refund_failed') => metricValue(await api.metrics(), 'archbench_payments_total', { result });
  /** The provider settings the payment step reads from D1 (it caches them for 500 ms). */
  async function setProvider(settings: { failureRate?: number; latencyMs?: number }) {
    expect((await api.request('PUT', '/admin/payments/provider', { token: api.admin, json: settings })).status).toBe(200);
    await sleep(600);
  }
  const refundRow = async (orderId: string) =>
    db
      .prepare("SELECT status, claimed_until FROM payments WHERE order_id = ?1 AND kind = 'refund'")
      .bind(orderId)
      .first<{ status: string; claimed_until: string | null }>();
  const backdateRefund = (orderId: string) =>
    db
      .prepare("UPDATE payments SET created_at = ?2 WHERE order_id = ?1 AND kind = 'refund'")
      .bind(orderId, new Date(Date.now() - 60_000).toISOString())
      .run();

  async function cancelledOrder(label: string, sku: string): Promise<{ order: Order; token: string }> {
    const customer = api.customer(label);
    const placed = await api.place(customer.token, [{ sku, quantity: 1 }], { wait: 10 });
    expect((placed.body as Order).status).toBe('CONFIRMED');
    return { order: placed.body as Order, token: customer.token };
  }

  it('a refund the provider fails stays PENDING through the queue retries and is refunded by the sweep once the provider is back', async () => {
    const { order, token } = await cancelledOrder('refund-fail', 'SKU-0701');
    const refundedBefore = await providerCalls('refunded');
    const failedBefore = await providerCalls('refund_failed');
    await setProvider({ failureRate: 1 });
    try {
      const cancelled = await api.request('POST', `/orders/${order.id}/cancel`, { token });
      expect(cancelled.status).toBe(200);
      // The delivery and its 3 retries all fail at the provider: then the message is dead-lettered.
      await eventually(async () => expect(await providerCalls('refund_failed')).toBe(failedBefore + 4));
      await eventually(async () => {
        const dead = (await api.request('GET', '/admin/dead-letters', { token: api.admin })).body as { items: Array<{ body: unknown }> };
        expect(dead.items.map((d) => d.body)).toContainEqual({ kind: 'refund', orderId: order.id });
      });
      expect(await refundRow(order.id)).toEqual({ status: 'PENDING', claimed_until: null });
      expect((await api.payments(order.id)).map((p) => `${p.kind}:${p.status}`)).toEqual(['charge:SUCCEEDED', 'refund:PENDING']);
    } finally {
      await setProvider({ failureRate: 0 });
    }

    // Nothing is queued any more: the every-minute sweep takes the refund once it is 30 s old.
    await backdateRefund(order.id);
    await minuteSweep();
    expect((await api.payments(order.id)).map((p) => `${p.kind}:${p.status}:${p.amountCents}`).sort()).toEqual([
      `charge:SUCCEEDED:${order.totalCents}`,
      `refund:SUCCEEDED:${order.totalCents}`,
    ]);
    expect(await providerCalls('refunded')).toBe(refundedBefore + 1);
    // Settled: a further sweep calls the provider for nothing.
    await minuteSweep();
    expect(await providerCalls('refunded')).toBe(refundedBefore + 1);
  });

  it('sweeps that find a refund while its queue delivery is at the provider do not refund it a second time', async () => {
    const { order, token } = await cancelledOrder('refund-twice', 'SKU-0702');
    const refundedBefore = await providerCalls('refunded');
    await setProvider({ latencyMs: 2000 });
    try {
      expect((await api.request('POST', `/orders/${order.id}/cancel`, { token })).status).toBe(200);
      // The queue delivery (handed over at once: no batch timeout) is waiting for the provider's 2 s.
      await sleep(700);
      expect((await refundRow(order.id))?.status).toBe('PENDING');
      await backdateRefund(order.id);
      await Promise.all([minuteSweep(), dailySweep()]);
      await eventually(async () => expect((await refundRow(order.id))?.status).toBe('SUCCEEDED'));
    } finally {
      await setProvider({ latencyMs: 0 });
    }
    await minuteSweep();
    expect(await providerCalls('refunded')).toBe(refundedBefore + 1);
    expect((await api.payments(order.id)).map((p) => `${p.kind}:${p.status}`).sort()).toEqual(['charge:SUCCEEDED', 'refund:SUCCEEDED']);
  });

  it("the start sweep takes over the refund claims of the runtime before it, and leaves its own runtime's alone", async () => {
    // Two cancelled orders whose refunds are PENDING and claimed (their calls never answered):
    // one claimed 10 s before this runtime started (a killed workerd), one 1 s after.
    const startedAt = Date.now() - 5000;
    const claimedAt = { dead: startedAt - 10_000, live: startedAt + 1000 };
    const orders: Record<keyof typeof claimedAt, Order> = {} as Record<keyof typeof claimedAt, Order>;
    for (const which of ['dead', 'live'] as const) {
      const { order } = await cancelledOrder(`refund-${which}`, which === 'dead' ? 'SKU-0703' : 'SKU-0704');
      orders[which] = order;
      await db.batch([
        db.prepare("UPDATE orders SET status = 'CANCELLED', payment_status = 'REFUNDED' WHERE id = ?1").bind(order.id),
        db
          .prepare(
            "INSERT INTO payments (id, order_id, kind, status, amount_cents, provider_ref, created_at, claimed_until) VALUES (?1, ?2, 'refund', 'PENDING', ?3, NULL, ?4, ?5)",
          )
          .bind(
            `pay_r_${order.id}`,
            order.id,
            order.totalCents,
            new Date(claimedAt[which]).toISOString(),
            new Date(claimedAt[which] + REFUND_CLAIM_MS).toISOString(),
          ),
      ]);
    }
    const refundedBefore = await providerCalls('refunded');
    await firePaymentsCron(app, '@startup', new Date(startedAt));
    expect((await refundRow(orders.dead.id))?.status).toBe('SUCCEEDED');
    expect((await refundRow(orders.live.id))?.status).toBe('PENDING');
    expect(await providerCalls('refunded')).toBe(refundedBefore + 1);
  });

  it('the sweep reads pending refunds through their own index', async () => {
    const plan = await db
      .prepare("EXPLAIN QUERY PLAN SELECT order_id FROM payments WHERE kind = 'refund' AND status = 'PENDING' AND created_at < ?1 ORDER BY created_at LIMIT ?2")
      .bind(new Date().toISOString(), 100)
      .all<{ detail: string }>();
    expect(plan.results.map((r) => r.detail)).toEqual(['SEARCH payments USING INDEX payments_pending_refunds (created_at<?)']);
  });
});
