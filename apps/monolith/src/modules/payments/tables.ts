/** The payments module's table: only payments code reads or writes it (its database handle sees nothing else). */
export interface PaymentsTable {
  id: string;
  order_id: string;
  kind: string;
  status: string;
  amount_cents: number;
  provider_ref: string | null;
  created_at: string;
  /** A PENDING refund: no attempt may call the provider for it before this instant (a claim, or the wait after a failed try); null: none yet. */
  claimed_until: string | null;
}

export interface PaymentsTables {
  payments: PaymentsTable;
}
