/** The shipping module's table: only shipping code reads or writes it (its database handle sees nothing else). */
export interface ShipmentsTable {
  id: string;
  order_id: string;
  status: string;
  created_at: string;
}

export interface ShippingTables {
  shipments: ShipmentsTable;
}
