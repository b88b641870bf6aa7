import { AppError } from '@archbench/domain/errors';
import { isUniqueViolation } from '@archbench/server-kit/db';
import type { PricedItem } from '@archbench/domain/orders';
import { PoisonMessageError } from '../shared/messages';
import type { Command, Reply, ReleaseCommand, ReleaseReply, ReserveCommand, ReserveReply } from '../shared/messages';
import type { InventoryRepository } from './repository';

/** A reservation refused for a business reason: the transaction rolls back, the reply says why. */
class Refused extends Error {
  constructor(readonly reply: Extract<ReserveReply, { ok: false }>) {
    super(reply.detail);
  }
}

/**
 * Inventory: products, prices and available stock, and stock reservations keyed by order id.
 * Reserve and release are idempotent: by command id (the stored reply is returned again) and by
 * order (a reservation is taken once; a release refuses any later reserve of the same order, so a
 * late or redelivered reserve cannot take stock after its saga was compensated).
 */
export function createInventory(repo: InventoryRepository) {
  async function reserve(command: ReserveCommand): Promise<ReserveReply> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await repo.transaction(async (trx) => {
          const done = await repo.processedReply(trx, command.id);
          if (done) return JSON.parse(done) as ReserveReply;
          const existing = await repo.reservation(trx, command.orderId);
          let reply: ReserveReply;
          if (existing?.status === 'RESERVED') reply = { ok: true, items: existing.items };
          else if (existing) reply = { ok: false, code: 'already-released', detail: `order ${command.orderId} was released before it was reserved` };
          else {
            const items = await take(trx, command.items);
            await repo.insertReservation(trx, command.orderId, 'RESERVED', items);
            reply = { ok: true, items };
          }
          await repo.recordReply(trx, command.id, reply);
          return reply;
        });
      } catch (error) {
        if (error instanceof Refused) return error.reply;
        // The same command delivered twice at once: the loser re-reads the winner's result.
        if (isUniqueViolation(error) && attempt < 3) continue;
        throw error;
      }
    }
  }

  async function take(trx: Parameters<InventoryRepository['take']>[0], items: ReserveCommand['items']): Promise<PricedItem[]> {
    const prices = await repo.prices(
      trx,
      items.map((i) => i.sku),
    );
    const unknown = items.flatMap((item, index) => (prices.has(item.sku) ? [] : [{ path: `items.${index}.sku`, message: `unknown SKU ${item.sku}` }]));
    if (unknown.length > 0) throw new Refused({ ok: false, code: 'unknown-sku', detail: unknown.map((u) => u.message).join('; '), errors: unknown });
    // Sorted by SKU so concurrent reservations lock rows in the same order (no deadlocks on PostgreSQL).
    for (const item of [...items].sort((a, b) => a.sku.localeCompare(b.sku))) {
      if (!(await repo.take(trx, item.sku, item.quantity))) {
        throw new Refused({ ok: false, code: 'insufficient-stock', detail: `not enough stock of ${item.sku} for ${item.quantity} units` });
      }
    }
    return items.map((item) => ({ ...item, unitPriceCents: prices.get(item.sku)! }));
  }

  async function release(command: ReleaseCommand): Promise<ReleaseReply> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await repo.transaction(async (trx) => {
          const done = await repo.processedReply(trx, command.id);
          if (done) return JSON.parse(done) as ReleaseReply;
          const existing = await repo.reservation(trx, command.orderId);
          let released = 0;
          if (!existing) await repo.insertReservation(trx, command.orderId, 'RELEASED', []);
          else if (existing.status === 'RESERVED' && (await repo.markReleased(trx, command.orderId))) {
            for (const item of [...existing.items].sort((a, b) => a.sku.localeCompare(b.sku))) {
              await repo.give(trx, item.sku, item.quantity);
              released += item.quantity;
            }
          }
          const reply: ReleaseReply = { ok: true, released };
          await repo.recordReply(trx, command.id, reply);
          return reply;
        });
      } catch (error) {
        if (isUniqueViolation(error) && attempt < 3) continue;
        throw error;
      }
    }
  }

  return {
    list: repo.listProducts,
    get: repo.getProduct,
    seed: repo.seed,
    reserve,
    release,
    async restock(sku: string, quantity: number) {
      const updated = await repo.give(repo.db, sku, quantity);
      const product = updated === 1 ? await repo.getProduct(sku) : undefined;
      if (!product) throw new AppError('not-found', `unknown SKU ${sku}`);
      return product;
    },
    /** The command handler the transport calls. */
    async handle(command: Command): Promise<Reply> {
      if (command.type === 'ReserveStock') return reserve(command);
      if (command.type === 'ReleaseStock') return release(command);
      // Poison: this service never takes it (a command routed to the wrong service); dead-lettered, not retried.
      throw new PoisonMessageError(`inventory does not handle ${command.type}`);
    },
  };
}

export type Inventory = ReturnType<typeof createInventory>;
