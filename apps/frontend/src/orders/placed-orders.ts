import type { Order } from '@archbench/contracts/schemas';
import type { BackendId } from '../api/config-schema';

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
