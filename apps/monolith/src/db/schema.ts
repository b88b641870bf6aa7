import type { CatalogTables, ProductsTable } from '../modules/catalog/tables';
import type { IdempotencyKeysTable, OrderItemsTable, OrdersTable, OrdersTables } from '../modules/orders/tables';
import type { PaymentsTable, PaymentsTables } from '../modules/payments/tables';
import type { ShipmentsTable, ShippingTables } from '../modules/shipping/tables';

export type { IdempotencyKeysTable, OrderItemsTable, OrdersTable, PaymentsTable, ProductsTable, ShipmentsTable };
export type { CatalogTables, OrdersTables, PaymentsTables, ShippingTables };

/**
 * The monolith's one database: the union of the modules' own tables (each module declares its
 * tables in its `tables.ts` and is handed a handle typed with those only; see forModule).
 */
export type Tables = CatalogTables & OrdersTables & PaymentsTables & ShippingTables;
