-- The sweep (src/workers/payments/reconcile.ts) looks at recently settled orders only; this index
-- keeps its reads (D1 bills rows read) proportional to recent orders, not to all orders ever.
CREATE INDEX IF NOT EXISTS orders_status_updated ON orders (status, updated_at);
