import type { Order } from '@archbench/contracts/schemas';
import type { BackendId } from '../api/config-schema';

/** An order the API answered to a placement, with the backend and customer token it was placed with. */
export interface PlacedOrder {
  backend: BackendId;
  token: string;
  order: Order;
}

const listeners = new Set<(placed: PlacedOrder) => void>();

/**
 * Tells every console shown now of an order a placement was answered with. The placement may
 * have started in a console since unmounted (the user went to the lab and came back): the
 * console showing the orders now is another instance, which would otherwise only see the order
 * after a Refresh.
 * @example publishPlaced({ backend: 'monolith', token, order })
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
