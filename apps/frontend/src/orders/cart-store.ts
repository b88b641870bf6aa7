import { useSyncExternalStore } from 'react';
import { z } from 'zod';
import { PaymentToken } from '@archbench/contracts/schemas';
import { newIdempotencyKey } from '../api/idempotency-key';
import type { CartLine } from './Cart';

/**
 * The cart, the chosen payment token and the Idempotency-Key of the last uncertain placement,
 * kept in sessionStorage: a switch to another view (which unmounts the console) or a reload
 * keeps them, and a placement that ends while the console is not shown still takes what it
 * ordered out of the cart. A stored value that is not valid (corrupt, or written by another
 * version) is ignored, as if the cart were empty, and replaced by the next change. Where
 * sessionStorage refuses a write (full, disabled), the cart lives in memory until a write
 * succeeds again; `useCartInMemoryOnly` lets the cart say that a reload would lose it.
 */
export interface StoredCart {
  lines: CartLine[];
  payment: PaymentToken;
  /** The cart and payment last sent (as JSON) and its key, kept until that attempt's outcome is certain. */
  placement: Placement | null;
}

export interface Placement {
  request: string;
  key: string;
  /** The backend and customer it was sent to (missing in a cart stored before they were kept). */
  backend?: string | undefined;
  customerId?: string | undefined;
  /**
   * Set while a page sends it (or resends it, answered 409 idempotency-in-progress), until it is
   * answered or the resends give up: every view keeps Place order from sending this cart again.
   * `page` is the page load sending it: after a reload nothing is sending it any more.
   */
  underWay?: { page: string; resending: boolean } | null | undefined;
}

/** This page load: a placement marked under way by another one (before a reload) is not being sent. */
const PAGE = newIdempotencyKey();

/** Marks a placement as being sent by this page (`resending` while answered 409 idempotency-in-progress). */
export function underWayHere(resending: boolean): { page: string; resending: boolean } {
  return { page: PAGE, resending };
}

/** The stored placement, if this page is sending it now (its outcome is unknown and may still come). */
export function placementUnderWay(cart: StoredCart): Placement | null {
  return cart.placement?.underWay?.page === PAGE ? cart.placement : null;
}

export const CART_KEY = 'archbench.cart';
const VERSION = 1;

export const EMPTY_CART: StoredCart = Object.freeze({ lines: [], payment: 'tok_ok', placement: null });

const Stored = z.object({
  version: z.literal(VERSION),
  lines: z
    .array(
      z.object({
        sku: z.string().min(1).max(200),
        name: z.string().max(1000),
        priceCents: z.number().int().nonnegative(),
        // A quantity field being edited may be empty (NaN, which JSON writes as null) or out of range: kept as typed.
        quantity: z.number().nullable(),
      }),
    )
    .refine((lines) => new Set(lines.map((l) => l.sku)).size === lines.length, 'a SKU is in the cart twice'),
  payment: PaymentToken,
  placement: z
    .object({
      request: z.string(),
      key: z.string().min(1),
      backend: z.string().optional(),
      customerId: z.string().optional(),
      underWay: z.object({ page: z.string(), resending: z.boolean() }).nullable().optional(),
    })
    .nullable(),
});

/** Parses a stored value; the empty cart for nothing stored or anything invalid. */
export function parseStoredCart(raw: string | null): StoredCart {
  if (raw === null) return EMPTY_CART;
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return EMPTY_CART;
  }
  const parsed = Stored.safeParse(data);
  if (!parsed.success) return EMPTY_CART;
  const { lines, payment, placement } = parsed.data;
  return { lines: lines.map((l) => ({ ...l, quantity: l.quantity ?? Number.NaN })), payment, placement };
}

/** sessionStorage, or undefined where it is missing or refused (some sandboxed frames throw on access). */
function storage(): Storage | undefined {
  try {
    return globalThis.sessionStorage ?? undefined;
  } catch {
    return undefined;
  }
}

/** Set while sessionStorage refuses writes (missing, full, disabled): the cart then lives in memory only. */
let inMemory: { raw: string | null } | null = null;
let snapshot: { raw: string | null; value: StoredCart } = { raw: null, value: EMPTY_CART };
const listeners = new Set<() => void>();

function rawValue(): string | null {
  if (inMemory) return inMemory.raw;
  try {
    return storage()?.getItem(CART_KEY) ?? null;
  } catch {
    return null;
  }
}

/** The stored cart (the same object while the stored text is unchanged, as useSyncExternalStore needs). */
export function readCart(): StoredCart {
  const raw = rawValue();
  if (raw !== snapshot.raw) snapshot = { raw, value: parseStoredCart(raw) };
  return snapshot.value;
}

/**
 * Applies a change to the stored cart and tells every console showing it. Each change tries
 * sessionStorage again, so the cart goes back there once it takes writes.
 */
export function updateCart(change: (cart: StoredCart) => StoredCart): void {
  const next = change(readCart());
  const raw = JSON.stringify({ version: VERSION, ...next });
  const target = storage();
  try {
    if (!target) throw new Error('no sessionStorage');
    target.setItem(CART_KEY, raw);
    inMemory = null;
  } catch {
    inMemory = { raw };
    // An older cart left in storage would come back on a reload, with the key of an attempt
    // that may since have been settled: a reload shows an empty cart instead (removing needs no quota).
    try {
      target?.removeItem(CART_KEY);
    } catch {
      // Storage refuses everything: nothing stored can come back either.
    }
  }
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The stored cart, re-rendering on every change. */
export function useStoredCart(): StoredCart {
  return useSyncExternalStore(subscribe, readCart, readCart);
}

const inMemoryOnly = () => inMemory !== null;

/** Whether the cart is kept in memory only (sessionStorage refused the last write), so a reload would lose it. */
export function useCartInMemoryOnly(): boolean {
  return useSyncExternalStore(subscribe, inMemoryOnly, inMemoryOnly);
}
