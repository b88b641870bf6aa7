import { describe, expect, it } from 'vitest';
import { CART_KEY, EMPTY_CART, parseStoredCart, placementUnderWay, readCart, underWayHere, updateCart } from './cart-store';

const line = { sku: 'SKU-0001', name: 'Compact Kettle 1', priceCents: 1999, quantity: 2 };

describe('the stored cart', () => {
  it('keeps a quantity field being edited: empty (NaN) and out of range as typed', () => {
    updateCart((c) => ({ ...c, lines: [line, { ...line, sku: 'SKU-0002', quantity: Number.NaN }, { ...line, sku: 'SKU-0003', quantity: 0 }] }));
    const stored = parseStoredCart(sessionStorage.getItem(CART_KEY));
    expect(stored.lines.map((l) => l.quantity)).toEqual([2, Number.NaN, 0]);
  });

  it('is the same object while the stored text is unchanged, and a new one after a change', () => {
    updateCart((c) => ({ ...c, payment: 'tok_slow' }));
    const first = readCart();
    expect(readCart()).toBe(first);
    updateCart((c) => ({ ...c, lines: [line] }));
    expect(readCart()).not.toBe(first);
    expect(readCart()).toMatchObject({ payment: 'tok_slow', lines: [line] });
  });

  it.each([
    ['nothing', null],
    ['not JSON', 'tok_ok'],
    ['JSON null', 'null'],
    ['a SKU twice', JSON.stringify({ version: 1, lines: [line, line], payment: 'tok_ok', placement: null })],
    ['a negative price', JSON.stringify({ version: 1, lines: [{ ...line, priceCents: -1 }], payment: 'tok_ok', placement: null })],
    ['no version', JSON.stringify({ lines: [line], payment: 'tok_ok', placement: null })],
  ])('reads %s as the empty cart', (_, raw) => {
    expect(parseStoredCart(raw)).toBe(EMPTY_CART);
  });

  it('keeps a placement under way only for the page sending it: after a reload nothing sends it, and its key stays', () => {
    const placement = { request: '{}', key: 'k1', backend: 'monolith', customerId: 'bob' };
    updateCart((c) => ({ ...c, placement: { ...placement, underWay: underWayHere(true) } }));
    expect(placementUnderWay(readCart())).toMatchObject({ key: 'k1', underWay: { resending: true } });
    // As stored by the page before a reload.
    sessionStorage.setItem(
      CART_KEY,
      JSON.stringify({ version: 1, lines: [], payment: 'tok_ok', placement: { ...placement, underWay: { page: 'an-earlier-page', resending: true } } }),
    );
    expect(placementUnderWay(readCart())).toBeNull();
    expect(readCart().placement).toMatchObject(placement);
    // A cart stored before the backend and customer were kept is still read.
    sessionStorage.setItem(CART_KEY, JSON.stringify({ version: 1, lines: [], payment: 'tok_ok', placement: { request: '{}', key: 'k0' } }));
    expect(readCart().placement).toEqual({ request: '{}', key: 'k0' });
  });
});
