-- The tables every order writes, keyed by text ids or text pairs, become WITHOUT ROWID, as in the
-- monolith, hybrid and microservices (their migrations 0002/0004): SQLite stores a table keyed by
-- text as two b-trees (the rows by a hidden rowid, the primary key as an index); WITHOUT ROWID
-- keeps the rows in the primary key's b-tree, one b-tree fewer written per insert or key change.
-- products stays as it is (only updated in place, as in the other apps); dead_letters and meta
-- are not written per order.
--
-- D1 runs a migration file in one transaction and always enforces foreign keys; `foreign_keys =
-- off` would not take effect inside it, so the check is deferred to the commit instead. Each table
-- is moved aside (a plain copy), dropped, created again under its own name with the very
-- definition of 0001 plus WITHOUT ROWID, and filled back from the copy. orders is referenced by
-- order_items: dropping it counts every item as a deferred violation, and inserting the orders
-- again under the name `orders` counts them off, so the commit finds none (a rename of a new table
-- into place would leave them counted and fail the commit). Nothing is renamed: the foreign key
-- text of order_items and the indexes stay what they were.
PRAGMA defer_foreign_keys = on;

CREATE TABLE orders_0002 AS SELECT * FROM orders;
DROP TABLE orders;
CREATE TABLE orders (
  id TEXT PRIMARY KEY,
  customer_id TEXT NOT NULL,
  status TEXT NOT NULL,
  total_cents INTEGER NOT NULL,
  currency TEXT NOT NULL,
  payment_token TEXT NOT NULL,
  payment_status TEXT NOT NULL,
  rejection_reason TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO orders SELECT * FROM orders_0002;
DROP TABLE orders_0002;
CREATE INDEX orders_customer_id ON orders (customer_id, id);
-- orders_status (every status) becomes an index of PENDING orders only, as the monolith's
-- 0003_orders_pending_index: the every-minute sweep (`status = 'PENDING' AND created_at < ?1
-- ORDER BY created_at`) reads it, in order, and an order now adds one entry, removed when it
-- settles, instead of one per status it passes through. The daily full sweep's CONFIRMED and
-- CANCELLED passes scan orders instead (as the monolith's resume at start); the customer's list
-- filtered by status goes through orders_customer_id either way.
CREATE INDEX orders_pending ON orders (created_at) WHERE status = 'PENDING';

CREATE TABLE order_items_0002 AS SELECT * FROM order_items;
DROP TABLE order_items;
CREATE TABLE order_items (
  order_id TEXT NOT NULL REFERENCES orders (id),
  sku TEXT NOT NULL,
  quantity INTEGER NOT NULL,
  unit_price_cents INTEGER NOT NULL,
  PRIMARY KEY (order_id, sku)
) WITHOUT ROWID;
INSERT INTO order_items SELECT * FROM order_items_0002;
DROP TABLE order_items_0002;

CREATE TABLE idempotency_keys_0002 AS SELECT * FROM idempotency_keys;
DROP TABLE idempotency_keys;
CREATE TABLE idempotency_keys (
  customer_id TEXT NOT NULL,
  key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  order_id TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (customer_id, key)
) WITHOUT ROWID;
INSERT INTO idempotency_keys SELECT * FROM idempotency_keys_0002;
DROP TABLE idempotency_keys_0002;

CREATE TABLE payments_0002 AS SELECT * FROM payments;
DROP TABLE payments;
CREATE TABLE payments (
  id TEXT PRIMARY KEY,
  order_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  amount_cents INTEGER NOT NULL,
  provider_ref TEXT,
  created_at TEXT NOT NULL,
  UNIQUE (order_id, kind)
) WITHOUT ROWID;
INSERT INTO payments SELECT * FROM payments_0002;
DROP TABLE payments_0002;

CREATE TABLE shipments_0002 AS SELECT * FROM shipments;
DROP TABLE shipments;
CREATE TABLE shipments (
  id TEXT PRIMARY KEY,
  order_id TEXT NOT NULL UNIQUE,
  status TEXT NOT NULL,
  created_at TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO shipments SELECT * FROM shipments_0002;
DROP TABLE shipments_0002;
