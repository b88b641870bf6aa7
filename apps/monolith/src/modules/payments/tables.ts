/** The payments module's table: only payments code reads or writes it (its database handle sees nothing else). */
export interface PaymentsTable {
  id: string;
  order_id: string;
  kind: string;
  status: string;
  amount_cents: number;
  provider_ref: string | null;
  created_at: string;
  /** When the current (or last failed) provider call of a PENDING refund started; null before the first. */
  attempted_at: string | null;
}

export interface PaymentsTables {
  payments: PaymentsTable;
}
