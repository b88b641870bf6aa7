import { useId } from 'react';
import type { Ref } from 'react';
import type { Order } from '@archbench/contracts/schemas';
import { rejectionMessage } from '../api/problem';
import { formatEuros } from '../ui/format';

const STATUS_TEXT: Record<Order['status'], string> = {
  PENDING: 'Pending: payment in progress',
  CONFIRMED: 'Confirmed',
  REJECTED: 'Rejected',
  CANCELLED: 'Cancelled (refunded and restocked)',
};

export interface OrderListProps {
  orders: Order[];
  cancelling: ReadonlySet<string>;
  onCancel: (id: string) => void;
  onRefresh: () => void;
  /** Whether the API has older orders than those shown (a nextCursor). */
  hasOlder: boolean;
  loadingOlder: boolean;
  onShowOlder: () => void;
  /** Receives the list's heading, so the console can move keyboard focus to it (each order can take focus too). */
  headingRef?: Ref<HTMLHeadingElement>;
}

/** The customer's orders, newest first, with live status and a cancel button where allowed. */
export function OrderList({ orders, cancelling, onCancel, onRefresh, hasOlder, loadingOlder, onShowOlder, headingRef }: OrderListProps) {
  const id = useId();
  return (
    <section className="card orders" aria-labelledby={`${id}-h`}>
      <div className="row spread">
        <h2 id={`${id}-h`} ref={headingRef} tabIndex={-1}>
          Your orders
        </h2>
        <button type="button" onClick={onRefresh}>
          Refresh
        </button>
      </div>
      {orders.length === 0 ? (
        <p className="muted">No orders yet.</p>
      ) : (
        <ol className="order-list">
          {orders.map((order) => (
            <li key={order.id} className={`order status-${order.status.toLowerCase()}`} data-order-id={order.id} data-status={order.status} tabIndex={-1}>
              <div className="row spread">
                <span>
                  <code>{order.id}</code> · {order.items.length} item{order.items.length === 1 ? '' : 's'} · {formatEuros(order.totalCents)}
                </span>
                <span className={`badge badge-${order.status.toLowerCase()}`}>{order.status}</span>
              </div>
              <p className="order-status-text">
                {STATUS_TEXT[order.status]}
                {order.status === 'PENDING' && <span className="spinner" aria-hidden="true" />}
              </p>
              {order.status === 'REJECTED' && <p className="rejection">{rejectionMessage(order.rejectionReason)}</p>}
              <p className="muted small">
                {order.items.map((i) => `${i.quantity} × ${i.sku}`).join(', ')} · placed {new Date(order.createdAt).toLocaleTimeString()} · payment{' '}
                {order.paymentStatus.toLowerCase()}
              </p>
              {order.status === 'CONFIRMED' && (
                // aria-disabled, not disabled, while cancelling: a disabled button would drop keyboard focus to <body>.
                <button
                  type="button"
                  onClick={() => onCancel(order.id)}
                  aria-disabled={cancelling.has(order.id) || undefined}
                  aria-label={`Cancel order ${order.id}`}
                >
                  {cancelling.has(order.id) ? 'Cancelling…' : 'Cancel order'}
                </button>
              )}
            </li>
          ))}
        </ol>
      )}
      {/* aria-disabled, not disabled, while a page loads: a disabled button would drop keyboard focus to <body>. */}
      {hasOlder && (
        <button type="button" onClick={loadingOlder ? undefined : onShowOlder} aria-disabled={loadingOlder || undefined}>
          {loadingOlder ? 'Loading older orders…' : 'Show older orders'}
        </button>
      )}
    </section>
  );
}
