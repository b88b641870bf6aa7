import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'amqplib';
import { describe, expect, it } from 'vitest';
import type { Order } from '@archbench/contracts/schemas';
import { AMQP_TEST_URL } from '@archbench/server-kit/testing';
import { amqpNames } from '../src/shared/transport';
import { api, customerToken, useSystem } from './helpers';
import type { Setup } from './helpers';

describe('RabbitMQ: poison messages are dead-lettered, the rest keeps flowing', async () => {
  const setup: Setup = { transport: 'amqp', database: 'sqlite', env: { AMQP_MAX_DELIVERIES: '3' } };
  const { skip, system } = await useSystem(setup);

  it.skipIf(skip)('sends a non-JSON message at once and a command that keeps failing after 3 deliveries to the DLQ', async () => {
    const names = amqpNames(system().env.AMQP_PREFIX!);
    const connection = await connect(AMQP_TEST_URL);
    try {
      const channel = await connection.createConfirmChannel();
      const queue = names.commands('inventory');
      channel.sendToQueue(queue, Buffer.from('this is not json'), { persistent: true });
      // A ReserveStock whose items are not a list: the handler throws on every delivery.
      channel.sendToQueue(queue, Buffer.from(JSON.stringify({ type: 'ReserveStock', id: 'reserve:poison', orderId: 'poison', items: 42 })), {
        persistent: true,
        messageId: 'reserve:poison',
      });
      await channel.waitForConfirms();
      const deadline = Date.now() + 20_000;
      let dead = 0;
      while (Date.now() < deadline) {
        dead = (await channel.checkQueue(names.dlq)).messageCount;
        if (dead >= 2) break;
        await sleep(200);
      }
      expect(dead).toBe(2);
      const first = await channel.get(names.dlq, { noAck: true });
      const second = await channel.get(names.dlq, { noAck: true });
      const deliveries = [first, second].map((m) => (m ? Number(m.properties.headers?.['x-archbench-deliveries'] ?? 1) : 0)).sort();
      expect(deliveries).toEqual([1, 2]); // not JSON: at once; failing handler: 2 retries, dead on the 3rd delivery
      await channel.close();
    } finally {
      await connection.close();
    }
    const placed = await api<Order>(system().gateway, 'POST', '/orders', {
      token: customerToken(),
      headers: { prefer: 'wait=10' },
      json: { items: [{ sku: 'SKU-0300', quantity: 1 }], payment: { token: 'tok_ok' } },
    });
    expect(placed.body.status).toBe('CONFIRMED');
  });
});
