/** The catalog module's tables: only catalog code reads or writes them (its database handle sees nothing else). */
export interface ProductsTable {
  sku: string;
  name: string;
  price_cents: number;
  currency: string;
  stock: number;
}

export interface CatalogTables {
  products: ProductsTable;
}
