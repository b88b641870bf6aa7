import type { Order } from '@archbench/contracts/schemas';
import type { BackendId } from '../api/config-schema';
import type { ProblemInfo } from '../api/problem';

/** An order the API answered to a placement, with the backend and customer token it was placed with. */
export interface PlacedOrder {
  backend: BackendId;
  token: string;
  /** The customer the token is for, to name it in another customer's view. */
  customerId: string;
  order: Order;
  /** Whether the order took lines out of the stored cart (it does not once the cart holds another placement). */
  tookLines: boolean;
}

const listeners = new Set<(placed: PlacedOrder) => void>();

/**
 * Tells every console shown now of an order a placement was answered with. The placement may
 * have started in a console since unmounted (the user went to the lab and came back): the
 * console showing the orders now is another instance, which would otherwise only see the order
 * after a Refresh.
 * @example publishPlaced({ backend: 'monolith', token, customerId: 'alice', order, tookLines: true })
 */
export function publishPlaced(placed: PlacedOrder): void {
  for (const listener of listeners) listener(placed);
}

/**
 * Calls `listener` with every order published from now on; returns the unsubscribe function.
 * @example useEffect(() => onPlaced((p) => show(p.order)), [])
 */
export function onPlaced(listener: (placed: PlacedOrder) => void): () => void {
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

/** A placement that ended with no order (its resends gave up, a definite 4xx, a network error, a timeout). */
export interface Unplaced {
  backend: BackendId;
  token: string;
  customerId: string;
  problem: ProblemInfo;
  /** Whether no order was placed for certain (a definite 4xx): else it may have gone through. */
  placedNothing: boolean;
}

const unplacedListeners = new Set<(unplaced: Unplaced) => void>();

/**
 * Tells every console shown now that a placement the user left (another view, backend or
 * customer) ended with no order: Place order is free again there, and the user is told why.
 * @example publishUnplaced({ backend: 'monolith', token, customerId: 'alice', problem, placedNothing: false })
 */
export function publishUnplaced(unplaced: Unplaced): void {
  for (const listener of unplacedListeners) listener(unplaced);
}

/**
 * Calls `listener` with every placement published by publishUnplaced from now on; returns the unsubscribe function.
 * @example useEffect(() => onUnplaced((u) => show(u.problem)), [])
 */
export function onUnplaced(listener: (unplaced: Unplaced) => void): () => void {
  unplacedListeners.add(listener);
  return () => {
    unplacedListeners.delete(listener);
  };
}
