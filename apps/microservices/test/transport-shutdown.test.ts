import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@archbench/observability/logging';
import { AMQP_TEST_URL, skipUnlessReachable } from '@archbench/server-kit/testing';
import type { ChargeCommand, Command, Reply } from '../src/shared/messages';
import { deleteAmqpTopology } from '../src/shared/transport';
import { createAmqpTransport } from '../src/shared/transport/amqp';

const silent = createLogger({ service: 'transport-shutdown-test', level: 'silent' });

/**
 * Shutdown order on RabbitMQ: a process stops taking commands before it drains its work and closes
 * its database (runProcess). A command it took after that, with the database closed, could be half
 * done: a refund made at the provider and not recorded is made again by the next start.
 */
describe('RabbitMQ transport: stopReceiving at shutdown', async () => {
  const noBroker = await skipUnlessReachable({ transport: 'amqp' });

  it.skipIf(noBroker)('takes no more commands, waits for the one being handled, and keeps sending with its replies', async () => {
    const prefix = `archbench-shutdown-${randomUUID().slice(0, 8)}`;
    const amqp = (self: 'orders' | 'payments' | 'inventory') =>
      createAmqpTransport({ url: AMQP_TEST_URL, prefix, self, prefetch: 32, maxDeliveries: 5, timeoutMs: 300, attempts: 1, obs: { logger: silent } });
    const orders = await amqp('orders');
    const payments = await amqp('payments');
    const inventory = await amqp('inventory');
    try {
      const handled: string[] = [];
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      await payments.listen('payments', {
        command: async (command: Command): Promise<Reply> => {
          handled.push(command.id);
          if (command.id === 'charge:held') await held;
          return { ok: true, outcome: 'SUCCEEDED' };
        },
      });
      await inventory.listen('inventory', { command: async () => ({ ok: true, released: 1 }) });
      const charge = (id: string): ChargeCommand => ({ type: 'ChargePayment', id: `charge:${id}`, orderId: id, token: 'tok_ok', amountCents: 500 });
      expect(await orders.send(charge('first'))).toEqual({ ok: true, outcome: 'SUCCEEDED' });

      const inFlight = orders.send(charge('held'), { timeoutMs: 10_000 });
      while (!handled.includes('charge:held')) await sleep(10);
      let stopped = false;
      const stopping = payments.stopReceiving().then(() => (stopped = true));
      await sleep(200);
      expect(stopped).toBe(false); // waits for the command being handled

      // Taken no more: the broker keeps it for another payments process.
      await expect(orders.send(charge('late'))).rejects.toThrow();
      expect(handled).toEqual(['charge:first', 'charge:held']);

      release();
      await stopping;
      expect(await inFlight).toEqual({ ok: true, outcome: 'SUCCEEDED' }); // its reply still went out
      // Sending, and receiving its reply, still work until close.
      expect(await payments.send({ type: 'ReleaseStock', id: 'release:x', orderId: 'x' })).toEqual({ ok: true, released: 1 });
      expect(handled).toEqual(['charge:first', 'charge:held']);
    } finally {
      await Promise.all([orders.close(), payments.close(), inventory.close()]);
      await deleteAmqpTopology(AMQP_TEST_URL, prefix);
    }
  });
});
