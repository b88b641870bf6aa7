import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '@archbench/observability/logging';
import { migrate, openDatabase } from '@archbench/server-kit/db';
import type { Database } from '@archbench/server-kit/db';
import { InternalHttpClient } from '../shared/http-client';
import type { Command } from '../shared/messages';
import { createHttpTransport } from '../shared/transport/http';
import type { Transport } from '../shared/transport';
import { createOutboxRelay } from './outbox-relay';
import { createOrdersRepository } from './repository';
import { migrations } from './schema';
import type { OrdersTables } from './schema';
import { createOrders } from './service';

/** What the fake inventory + payments server received, by command type. */
type Received = Partial<Record<Command['type'], number>>;

/**
 * A real HTTP server standing in for inventory and payments (one port for both): it counts every
 * command request it receives and answers 503 to a ChargePayment while `chargeFails` says so.
 */
async function dependencies(chargeFails: (n: number) => boolean): Promise<{ url: string; received: Received; server: Server }> {
  const received: Received = {};
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.url !== '/internal/commands') return void res.writeHead(204).end();
      const command = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Command;
      const n = (received[command.type] = (received[command.type] ?? 0) + 1);
      const reply = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      switch (command.type) {
        case 'ReserveStock':
          return reply({ ok: true, items: command.items.map((item) => ({ ...item, unitPriceCents: 1000 })) });
        case 'ChargePayment':
          if (chargeFails(n)) return void res.writeHead(503, { 'content-type': 'text/plain' }).end('payments overloaded');
          return reply({ ok: true, outcome: 'SUCCEEDED' });
        case 'ReleaseStock':
          return reply({ ok: true, released: 1 });
        case 'VoidPayment':
          return reply({ ok: true, outcome: 'NOTHING_CAPTURED' });
        case 'RefundPayment':
          return reply({ ok: true, outcome: 'SUCCEEDED' });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, server };
}

/**
 * One retry layer for a saga step: the saga resends a command until it is answered, and the
 * transport underneath makes one attempt per send. Counted where a user of the system would see
 * it: the requests a struggling dependency receives, against the sends the saga made.
 */
describe('orders saga over HTTP: one retry layer per saga step', () => {
  let dir: string;
  let database: Database<OrdersTables>;
  let server: Server | undefined;
  let transport: Transport | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'archbench-orders-'));
    database = openDatabase<OrdersTables>({ dataDir: dir, fileName: 'orders.db' });
    await migrate(database.db, migrations);
  });
  afterEach(async () => {
    await transport?.close();
    await new Promise((resolve) => server?.close(resolve));
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The orders service in-process, over the real HTTP transport, with the production INTERNAL_ATTEMPTS (4). */
  async function ordersAgainst(chargeFails: (n: number) => boolean, deadlineMs: number) {
    const deps = await dependencies(chargeFails);
    server = deps.server;
    const client = new InternalHttpClient({
      peers: { inventory: deps.url, payments: deps.url, shipping: deps.url },
      timeoutMs: 2000,
      attempts: 4,
      internalToken: 'test',
    });
    const http = createHttpTransport({ client });
    transport = http;
    // Counts the sends the saga makes; every one goes through the real transport.
    const sent: Received = {};
    const counting: Transport = {
      ...http,
      send: (command, options) => {
        sent[command.type] = (sent[command.type] ?? 0) + 1;
        return http.send(command, options);
      },
    };
    const repo = createOrdersRepository(database.db);
    const logger = createLogger({ service: 'orders-test', level: 'silent' });
    const orders = createOrders({ repo, transport: counting, relay: createOutboxRelay({ repo, transport: counting, logger }), logger, deadlineMs });
    return { orders, received: deps.received, sent };
  }

  const order = { items: [{ sku: 'SKU-0001', quantity: 1 }], payment: { token: 'tok_ok' as const } };

  it('payments failing with 503 until the deadline: it receives one charge request per saga attempt, not INTERNAL_ATTEMPTS of them', async () => {
    const { orders, received, sent } = await ordersAgainst(() => true, 1500);
    const { order: placed } = await orders.place('c-1', order, { waitSeconds: 10 });
    expect(placed.status).toBe('REJECTED');
    expect(placed.rejectionReason).toBe('payment_provider_unavailable');
    await orders.drain(10_000);
    expect(sent.ChargePayment).toBeGreaterThanOrEqual(2); // the saga did retry
    expect(received.ChargePayment).toBe(sent.ChargePayment);
    expect(received.VoidPayment).toBe(1);
  });

  it('payments failing its first 3 charges: the saga retries, the order confirms after exactly 4 charge requests', async () => {
    const { orders, received, sent } = await ordersAgainst((n) => n <= 3, 30_000);
    const { order: placed } = await orders.place('c-2', order, { waitSeconds: 10 });
    expect(placed.status).toBe('CONFIRMED');
    await orders.drain(10_000);
    expect(received.ChargePayment).toBe(4);
    expect(sent.ChargePayment).toBe(4);
    // The POST's reserve is not a saga step: the transport's bounded retries own it (one request here).
    expect(received.ReserveStock).toBe(1);
  });
});
