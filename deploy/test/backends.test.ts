import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { mintToken } from '@archbench/contracts/tokens';
import { deleteAmqpTopology } from '@archbench/microservices/transport';
import { AMQP_TEST_URL, PG_ADMIN_URL, amqpReachable, createTestDatabase, postgresReachable, shouldSkip } from '@archbench/server-kit/testing';
import { loadCompose, serviceEnvironment } from '../src/compose';
import { startLocalStack } from '../src/local-stack';
import type { RunningServer } from '../src/standalone';

/**
 * The images' file sets with the backends compose and the Kubernetes overlays give them:
 * PostgreSQL (the `pg` driver must be in the traced files) and RabbitMQ (amqplib), on this
 * machine's servers. Compose's environment is used as is, except the backends' addresses.
 */
const compose = loadCompose();
const secret = serviceEnvironment(compose, 'monolith').AUTH_SECRET!;
const work = mkdtempSync(join(tmpdir(), 'archbench-deploy-backends-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function placeAndCancel(base: string) {
  const headers = {
    authorization: `Bearer ${mintToken(secret, { sub: `backends-${randomBytes(3).toString('hex')}` })}`,
    'content-type': 'application/json',
    prefer: 'wait=10',
  };
  const placed = await fetch(`${base}/orders`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ items: [{ sku: 'SKU-0003', quantity: 2 }], payment: { token: 'tok_ok' } }),
  });
  const order = (await placed.json()) as { id: string; status: string };
  expect(placed.status).toBe(201);
  expect(order.status).toBe('CONFIRMED');
  const cancelled = await fetch(`${base}/orders/${order.id}/cancel`, { method: 'POST', headers });
  expect(((await cancelled.json()) as { status: string }).status).toBe('CANCELLED');
}

async function stopAll(servers: Map<string, RunningServer>) {
  const codes = await Promise.all([...servers.values()].map((s) => s.stop().catch(() => null)));
  expect(codes.every((c) => c === 0)).toBe(true);
}

describe('image file sets on the backends compose and Kubernetes give them', () => {
  it('the monolith on PostgreSQL (compose and the postgres overlay)', async () => {
    if (await shouldSkip('PostgreSQL', postgresReachable)) return;
    const database = await createTestDatabase('archbench_deploy');
    const servers = await startLocalStack(['monolith'], { workDir: join(work, 'pg'), compose, overrides: { DATABASE_URL: database.url } });
    try {
      await placeAndCancel(servers.get('monolith')!.url);
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      const { rows } = await client.query<{ n: string }>('select count(*) as n from orders');
      await client.end();
      expect(Number(rows[0]!.n)).toBe(1);
    } finally {
      await stopAll(servers);
      await database.drop();
    }
  });

  it('the microservices-amqp services of compose: the saga over RabbitMQ, each service on PostgreSQL', async () => {
    if (await shouldSkip('PostgreSQL', postgresReachable)) return;
    if (await shouldSkip('RabbitMQ', amqpReachable)) return;
    const database = await createTestDatabase('archbench_deploy_ms');
    const prefix = `archbench-deploy-${randomBytes(4).toString('hex')}`;
    const names = ['inventory-amqp', 'orders-amqp', 'payments-amqp', 'shipping-amqp', 'gateway-amqp'];
    for (const name of names) expect(serviceEnvironment(compose, name).TRANSPORT).toBe('amqp');
    const servers = await startLocalStack(names, {
      workDir: join(work, 'amqp'),
      compose,
      overrides: { AMQP_URL: AMQP_TEST_URL, AMQP_PREFIX: prefix, DATABASE_URL: database.url },
    });
    try {
      await placeAndCancel(servers.get('gateway-amqp')!.url);
      const metrics = await (await fetch(`${servers.get('orders-amqp')!.url}/metrics`)).text();
      expect(metrics).toMatch(/^archbench_internal_calls_total\{[^}]*transport="amqp"[^}]*\} [1-9]/m);
    } finally {
      await stopAll(servers);
      await deleteAmqpTopology(AMQP_TEST_URL, prefix).catch(() => undefined);
      const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
      await admin.connect();
      const base = new URL(database.url).pathname.slice(1);
      for (const service of ['inventory', 'orders', 'payments', 'shipping']) await admin.query(`drop database if exists "${base}_${service}" with (force)`);
      await admin.end();
      await database.drop();
    }
  });
});
