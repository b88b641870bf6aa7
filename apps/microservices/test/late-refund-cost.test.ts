import { afterEach, describe, expect, it } from 'vitest';
import { TableNode, UpdateQueryNode } from 'kysely';
import type { KyselyPlugin } from 'kysely';
import { createLogger } from '@archbench/observability/logging';
import { postgresReachable, shouldSkip } from '@archbench/server-kit/testing';
import { createOutboxRelay } from '../src/orders/outbox-relay';
import { createOrdersRepository } from '../src/orders/repository';
import { createOrders } from '../src/orders/service';
import { freshOrdersDatabase, scriptedTransport } from './orders-in-process';

/**
 * A rejected order pays for the late-capture feature (LateCaptureRefunded) only when payments
 * announced one: the move of its saga reads `late_refund_at` back, and the order's payment is set
 * REFUNDED in one more statement only when it is set. Declines are normal load. In-process, over
 * a scripted inventory and payments, counting the UPDATEs of the `orders` table.
 */
const silent = createLogger({ service: 'late-refund-cost-test', level: 'silent' });
const order = { items: [{ sku: 'SKU-0991', quantity: 1 }], payment: { token: 'tok_ok' as const } };
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Counts the UPDATE statements run on each table (prepared queries included: plugins see every run). */
function updateCounter() {
  const updates: Record<string, number> = {};
  const plugin: KyselyPlugin = {
    transformQuery({ node }) {
      if (UpdateQueryNode.is(node) && node.table && TableNode.is(node.table)) {
        const table = node.table.table.identifier.name;
        updates[table] = (updates[table] ?? 0) + 1;
      }
      return node;
    },
    transformResult: async ({ result }) => result,
  };
  return { plugin, updates };
}

const skipPostgres = await shouldSkip('PostgreSQL', postgresReachable);

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe.skipIf(dialect === 'postgres' && skipPostgres)(`orders: what a rejection costs for late captures' refunds (${dialect})`, () => {
    async function boot(beforeRelease?: (orderId: string) => Promise<void>) {
      const { database, close } = await freshOrdersDatabase(dialect, 'orders-late-refund-cost');
      const counter = updateCounter();
      const repo = createOrdersRepository(database.db.withPlugin(counter.plugin));
      // Compiling the repository's prepared queries ran them through the plugin once: only runs count.
      for (const table of Object.keys(counter.updates)) delete counter.updates[table];
      const script = scriptedTransport({ chargeOutcome: 'DECLINED', beforeRelease: (command) => beforeRelease?.(command.orderId) ?? Promise.resolve() });
      const relay = createOutboxRelay({ repo, transport: script.transport, logger: silent });
      const orders = createOrders({ repo, transport: script.transport, relay, logger: silent });
      cleanups.push(async () => {
        await orders.drain();
        await close();
      });
      return { orders, updates: counter.updates };
    }

    it('a declined order is rejected with one UPDATE of the order, none for late refunds', async () => {
      const { orders, updates } = await boot();
      const { order: placed } = await orders.place('c-1', order, { waitSeconds: 5 });
      expect([placed.status, placed.paymentStatus, placed.rejectionReason]).toEqual(['REJECTED', 'DECLINED', 'payment_declined']);
      expect(updates.orders).toBe(1);
    });

    it('a late capture announced while the saga releases the stock: the rejection sets the payment REFUNDED', async () => {
      const booted = await boot(async (orderId) => {
        await booted.orders.handleEvent({ type: 'LateCaptureRefunded', id: `evt-${orderId}`, orderId });
      });
      const { order: placed } = await booted.orders.place('c-1', order, { waitSeconds: 5 });
      expect([placed.status, placed.paymentStatus]).toEqual(['REJECTED', 'REFUNDED']);
      // The event's own try (a no-op on a PENDING order), the rejection, and the REFUNDED the move read.
      expect(booted.updates.orders).toBe(3);
    });
  });
}
