/** The orders module's tables: only orders code reads or writes them (its database handle sees nothing else). */
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

export interface OrdersTables {
  orders: OrdersTable;
  order_items: OrderItemsTable;
  idempotency_keys: IdempotencyKeysTable;
}
