import type { Transaction } from 'kysely';

declare const shared: unique symbol;

/**
 * A transaction one module opened and hands to another so both write in one commit (an order's
 * stock reservation and its creation; a cancel's restock and refund record). Opaque on purpose:
 * the receiving module joins it with its own tables (`joinTransaction`), never the caller's.
 */
export interface SharedTransaction {
  readonly [shared]: true;
}

/** Hands a module's transaction to another module. */
export const shareTransaction = <DB>(trx: Transaction<DB>): SharedTransaction => trx as unknown as SharedTransaction;

/** The same transaction typed with the joining module's tables only. */
export const joinTransaction = <DB>(trx: SharedTransaction): Transaction<DB> => trx as unknown as Transaction<DB>;
