/** Table types of the monolith's one database. Each module owns its tables (see module READMEs). */
export interface ProductsTable {
  sku: string;
  name: string;
  price_cents: number;
  currency: string;
  stock: number;
}

export interface OrdersTable {
  id: string;
  customer_id: string;
  status: string;
  total_cents: number;
  currency: string;
  payment_token: string;
  payment_status: string;
  rejection_reason: string | null;
  created_at: string;
  updated_at: string;
}

export interface OrderItemsTable {
  order_id: string;
  sku: string;
  quantity: number;
  unit_price_cents: number;
}

export interface IdempotencyKeysTable {
  customer_id: string;
  key: string;
  request_hash: string;
  order_id: string;
  created_at: string;
}

export interface PaymentsTable {
  id: string;
  order_id: string;
  kind: string;
  status: string;
  amount_cents: number;
  provider_ref: string | null;
  created_at: string;
}

export interface ShipmentsTable {
  id: string;
  order_id: string;
  status: string;
  created_at: string;
}

export interface Tables {
  products: ProductsTable;
  orders: OrdersTable;
  order_items: OrderItemsTable;
  idempotency_keys: IdempotencyKeysTable;
  payments: PaymentsTable;
  shipments: ShipmentsTable;
}
