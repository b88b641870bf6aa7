import { describe, expect, it } from 'vitest';
import { SCARCE_FROM, SCARCE_STOCK, SEED_STOCK, seedCatalog } from './catalog';
import { newId } from './ids';
import { canCancel, decodeCursor, encodeCursor, isTerminal, orderTotal, requestHash } from './orders';
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
    expect(orderTotal([{ quantity: 2, unitPriceCents: 150 }, { quantity: 1, unitPriceCents: 99 }])).toBe(399);
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
  });
});
