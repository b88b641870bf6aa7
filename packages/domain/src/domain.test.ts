import { describe, expect, it } from 'vitest';
import { SCARCE_FROM, SCARCE_STOCK, SEED_STOCK, seedCatalog, seedProductRowChunks } from './catalog';
import { newId } from './ids';
import { canCancel, decodeCursor, encodeCursor, isTerminal, ordersFromRows, orderTotal, requestHash } from './orders';
import { PaymentProvider } from './payment-provider';

describe('seed catalog', () => {
  it('is the same every time, with unique SKUs and scarce tail', () => {
    const a = seedCatalog();
    expect(a).toEqual(seedCatalog());
    expect(new Set(a.map((p) => p.sku)).size).toBe(1000);
    expect(a[0]).toMatchObject({ sku: 'SKU-0000', stock: SEED_STOCK, currency: 'EUR' });
    expect(a[SCARCE_FROM]).toMatchObject({ sku: `SKU-0${SCARCE_FROM}`, stock: SCARCE_STOCK });
    expect(a.every((p) => p.priceCents > 0)).toBe(true);
  });
});

describe('ids', () => {
  it('sort by creation order within a process', () => {
    const ids = Array.from({ length: 500 }, () => newId('ord'));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('keep their shape and a random tail across refills of the random pool', () => {
    const ids = Array.from({ length: 3000 }, () => newId('pay'));
    expect(ids.every((id) => /^pay_[0-9a-f]{24}$/.test(id))).toBe(true);
    const tails = new Set(ids.map((id) => id.slice(-6)));
    expect(tails.size).toBeGreaterThan(2900);
  });
});

describe('order rules', () => {
  it('only PENDING is non-terminal and only CONFIRMED can be cancelled', () => {
    expect(isTerminal('PENDING')).toBe(false);
    expect(['CONFIRMED', 'REJECTED', 'CANCELLED'].every((s) => isTerminal(s as never))).toBe(true);
    expect(canCancel('CONFIRMED')).toBe(true);
    expect(canCancel('REJECTED')).toBe(false);
    expect(canCancel('CANCELLED')).toBe(false);
  });

  it('totals quantities times unit prices', () => {
    expect(
      orderTotal([
        { quantity: 2, unitPriceCents: 150 },
        { quantity: 1, unitPriceCents: 99 },
      ]),
    ).toBe(399);
  });

  it('hashes equal requests equally and different ones differently', () => {
    const body = { items: [{ sku: 'SKU-0001', quantity: 1 }], payment: { token: 'tok_ok' as const } };
    expect(requestHash(body)).toBe(requestHash(structuredClone(body)));
    expect(requestHash(body)).not.toBe(requestHash({ ...body, payment: { token: 'tok_decline' } }));
    expect(requestHash(body)).not.toBe(requestHash({ ...body, items: [{ sku: 'SKU-0001', quantity: 2 }] }));
  });

  it('round-trips cursors and rejects garbage', () => {
    expect(decodeCursor(encodeCursor('ord_0123abc'))).toBe('ord_0123abc');
    expect(decodeCursor(encodeCursor("x' or 1=1"))).toBeUndefined();
  });
});

describe('simulated payment provider', () => {
  it('answers per token', async () => {
    const provider = new PaymentProvider({ slowMs: 30 });
    expect((await provider.charge('tok_ok', 100)).outcome).toBe('SUCCEEDED');
    expect((await provider.charge('tok_decline', 100)).outcome).toBe('DECLINED');
    expect((await provider.charge('tok_error', 100)).outcome).toBe('FAILED');
    const started = Date.now();
    expect((await provider.charge('tok_slow', 100)).outcome).toBe('SUCCEEDED');
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });

  it('fails the configured share of calls', async () => {
    const provider = new PaymentProvider({ failureRate: 1 });
    expect((await provider.charge('tok_ok', 100)).outcome).toBe('FAILED');
    expect((await provider.refund(100)).outcome).toBe('FAILED');
    expect((await new PaymentProvider().refund(100)).outcome).toBe('SUCCEEDED');
  });
});

describe('stored rows', () => {
  it('seed rows come in bounded chunks covering the whole catalog', () => {
    const chunks = seedProductRowChunks(300);
    expect(chunks.every((c) => c.length <= 300)).toBe(true);
    expect(chunks.flat().map((r) => r.sku)).toEqual(seedCatalog().map((p) => p.sku));
    expect(chunks[0]![1]).toEqual({
      sku: 'SKU-0001',
      name: seedCatalog()[1]!.name,
      price_cents: seedCatalog()[1]!.priceCents,
      currency: 'EUR',
      stock: SEED_STOCK,
    });
  });

  it('orders are rebuilt from rows with their own items and numbers (PostgreSQL returns bigints as strings)', () => {
    const row = (id: string) => ({
      id,
      customer_id: 'c',
      status: 'CONFIRMED',
      total_cents: '300',
      payment_status: 'CAPTURED',
      rejection_reason: null,
      created_at: 't',
      updated_at: 't',
    });
    const orders = ordersFromRows(
      [row('a'), row('b')],
      [
        { order_id: 'b', sku: 'SKU-0002', quantity: '1', unit_price_cents: 100 },
        { order_id: 'a', sku: 'SKU-0001', quantity: 3, unit_price_cents: '100' },
      ],
    );
    expect(orders.map((o) => [o.id, o.totalCents, o.items])).toEqual([
      ['a', 300, [{ sku: 'SKU-0001', quantity: 3, unitPriceCents: 100 }]],
      ['b', 300, [{ sku: 'SKU-0002', quantity: 1, unitPriceCents: 100 }]],
    ]);
    expect(orders[0]).toMatchObject({ currency: 'EUR', rejectionReason: null, status: 'CONFIRMED' });
  });
});
