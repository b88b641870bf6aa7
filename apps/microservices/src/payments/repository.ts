import type { Kysely } from 'kysely';
import type { PaymentRecord } from '@archbench/contracts/schemas';
import { newId } from '@archbench/domain/ids';
import { nowIso } from '@archbench/domain/ids';
import type { PaymentsTables } from './schema';

type Row = PaymentsTables['payments'];
const NOTHING_CAPTURED = new Set(['UNAVAILABLE', 'EXPIRED', 'VOIDED']);

const toRecord = (row: Row): PaymentRecord => ({
  id: row.id,
  orderId: row.order_id,
  kind: row.kind as PaymentRecord['kind'],
  // A charge the breaker refused, that timed out, or that was refused or voided past the saga's
  // deadline captured nothing: it shows as FAILED.
  status: (NOTHING_CAPTURED.has(row.status) ? 'FAILED' : row.status) as PaymentRecord['status'],
  amountCents: Number(row.amount_cents),
  createdAt: row.created_at,
});

/** Table access of the payments service. */
export function createPaymentsRepository(db: Kysely<PaymentsTables>) {
  return {
    async find(orderId: string, kind: 'charge' | 'refund'): Promise<Row | undefined> {
      return db.selectFrom('payments').selectAll().where('order_id', '=', orderId).where('kind', '=', kind).executeTakeFirst();
    },
    /**
     * Inserts the PENDING attempt (or a charge refused before any call: EXPIRED, VOIDED); throws a
     * unique violation when one exists for the order.
     */
    async insertPending(
      orderId: string,
      kind: 'charge' | 'refund',
      amountCents: number,
      commandId: string,
      status: 'PENDING' | 'EXPIRED' | 'VOIDED' = 'PENDING',
    ): Promise<string> {
      const id = newId('pay');
      await db
        .insertInto('payments')
        .values({ id, order_id: orderId, kind, status, amount_cents: amountCents, provider_ref: null, command_id: commandId, created_at: nowIso() })
        .execute();
      return id;
    },
    async finish(id: string, status: string, providerRef: string | null): Promise<void> {
      await db.updateTable('payments').set({ status, provider_ref: providerRef }).where('id', '=', id).execute();
    },
    async listForOrder(orderId: string): Promise<PaymentRecord[]> {
      const rows = await db.selectFrom('payments').selectAll().where('order_id', '=', orderId).orderBy('created_at').execute();
      return rows.map(toRecord);
    },
  };
}

export type PaymentsRepository = ReturnType<typeof createPaymentsRepository>;
