import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import type { Order } from '@archbench/contracts/schemas';
import { mintToken } from '@archbench/contracts/tokens';
import { InternalHttpClient } from '@archbench/microservices/http-client';
import type { DomainEvent } from '@archbench/microservices/messages';
import { createLogger } from '@archbench/observability/logging';
import { createApp } from '../app';
import { openCoreDatabase } from '../db';
import { loadEnv } from '../env';

/**
 * The core's outbox on a real SQLite file: what reaches the transport, when, and how often.
 * The transport is replaced by a recorder here (the tests under test/ run the real one against
 * the real shipping service); what is checked is the outbox's own promise.
 */
const secret = 'outbox-test-secret-0123456789';
const token = mintToken(secret, { sub: 'outbox-customer' });
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

async function boot(dataDir: string, publish: (event: DomainEvent) => Promise<void>, metrics = false) {
  const env = loadEnv({
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    AUTH_SECRET: secret,
    LOG_LEVEL: 'silent',
    METRICS_ENABLED: String(metrics),
    OUTBOX_INTERVAL_MS: '20',
  });
  const database = await openCoreDatabase(env);
  // Shipments are not read in these tests; nothing listens on this port.
  const client = new InternalHttpClient({ peers: { shipping: 'http://127.0.0.1:9' }, timeoutMs: 100, attempts: 1, internalToken: 'unused' });
  const core = createApp({ env, db: database.db, logger: createLogger({ service: 'outbox-test', level: 'silent' }), publisher: { publish }, client });
  await core.catalog.seed();
  const call = async <T>(path: string, init: RequestInit = {}) => {
    const res = await core.app.request(path, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers } });
    return { status: res.status, body: (await res.json()) as T };
  };
  const placeConfirmed = async (sku: string) => {
    const placed = await call<Order>('/orders', {
      method: 'POST',
      headers: { prefer: 'wait=5' },
      body: JSON.stringify({ items: [{ sku, quantity: 1 }], payment: { token: 'tok_ok' } }),
    });
    expect(placed.body.status).toBe('CONFIRMED');
    return placed.body;
  };
  const close = async () => {
    await core.relay.stop();
    await core.orders.drain();
    await database.close();
  };
  return { ...core, database, call, placeConfirmed, close };
}

async function until(condition: () => boolean | Promise<boolean>, what: string, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('shipping outbox', () => {
  it('hands OrderConfirmed, then OrderCancelled, to the transport once each, with the order and customer', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'archbench-outbox-'));
    dirs.push(dataDir);
    const sent: DomainEvent[] = [];
    const core = await boot(dataDir, async (event) => void sent.push(event));
    core.relay.start();
    const order = await core.placeConfirmed('SKU-0301');
    await until(() => sent.length === 1, 'OrderConfirmed');
    expect(sent[0]).toMatchObject({ type: 'OrderConfirmed', orderId: order.id, customerId: 'outbox-customer', totalCents: order.totalCents });
    expect((await core.call<Order>(`/orders/${order.id}/cancel`, { method: 'POST' })).body.status).toBe('CANCELLED');
    await until(() => sent.length === 2, 'OrderCancelled');
    expect(sent[1]).toMatchObject({ type: 'OrderCancelled', orderId: order.id });
    expect(new Set(sent.map((e) => e.id)).size).toBe(2);
    await sleep(100); // a few more relay rounds: nothing is sent twice
    expect(sent).toHaveLength(2);
    expect(await core.relay.backlog()).toBe(0);
    await core.close();
  });

  it('keeps events while the transport fails and delivers them, in order, once it works again', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'archbench-outbox-'));
    dirs.push(dataDir);
    let broken = true;
    const sent: DomainEvent[] = [];
    const core = await boot(
      dataDir,
      async (event) => {
        if (broken) throw new Error('shipping unreachable');
        sent.push(event);
      },
      true,
    );
    const lag = async () => Number(/^archbench_outbox_lag_seconds(?:\{[^}]*\})? (\S+)$/m.exec(await (await core.app.request('/metrics')).text())?.[1]);
    core.relay.start();
    const first = await core.placeConfirmed('SKU-0302');
    const second = await core.placeConfirmed('SKU-0303');
    await sleep(100);
    expect(sent).toHaveLength(0);
    expect(await core.relay.backlog()).toBe(2);
    expect(await lag()).toBeGreaterThan(0.05);
    broken = false;
    await until(() => sent.length === 2, 'both events after recovery');
    expect(sent.map((e) => e.orderId)).toEqual([first.id, second.id]);
    await until(async () => (await lag()) === 0, 'the outbox lag back at 0');
    await core.close();
  });

  it('writes OrderConfirmed in the commit that confirms the order: when the outbox cannot be written, the order is not confirmed', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'archbench-outbox-'));
    dirs.push(dataDir);
    const sent: DomainEvent[] = [];
    const core = await boot(dataDir, async (event) => void sent.push(event));
    core.relay.start();
    await sql`create trigger fail_outbox before insert on outbox begin select raise(abort, 'injected: outbox write failed'); end`.execute(core.database.db);
    const placed = await core.call<Order>('/orders', {
      method: 'POST',
      headers: { prefer: 'wait=5' },
      body: JSON.stringify({ items: [{ sku: 'SKU-0305', quantity: 1 }], payment: { token: 'tok_ok' } }),
    });
    // Rolled back with its event (the deadline sweeper refunds it later): never confirmed without one.
    expect(placed.body.status).toBe('PENDING');
    expect((await core.call<Order>(`/orders/${placed.body.id}`)).body.status).toBe('PENDING');
    await sleep(100);
    expect(sent).toHaveLength(0);
    await core.close();
  });

  it('a confirmed order without its event (confirmed by a core older than the transactional outbox) gets it at restart, and only once', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'archbench-outbox-'));
    dirs.push(dataDir);
    const first = await boot(dataDir, async () => {});
    const order = await first.placeConfirmed('SKU-0304');
    // As an older core could leave it, dying right after the CONFIRMED commit: no ledger row, no outbox row.
    await sql`delete from outbox where order_id = ${order.id}`.execute(first.database.db);
    await sql`delete from shipments where order_id = ${order.id}`.execute(first.database.db);
    await first.close();

    const sent: DomainEvent[] = [];
    const second = await boot(dataDir, async (event) => void sent.push(event));
    await second.orders.resume();
    second.relay.start();
    await until(() => sent.length === 1, 'the re-sent OrderConfirmed');
    expect(sent[0]).toMatchObject({ type: 'OrderConfirmed', orderId: order.id });
    // Another restart finds the ledger row and sends nothing again.
    await second.orders.resume();
    await sleep(100);
    expect(sent).toHaveLength(1);
    await second.close();
  });
});
