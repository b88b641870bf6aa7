import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@archbench/observability/logging';
import { migrate, openDatabase } from '@archbench/server-kit/db';
import type { Database } from '@archbench/server-kit/db';
import { loadEnv } from '../env';
import type { ServiceEvent } from '../shared/messages';
import type { Transport } from '../shared/transport';
import { createPaymentsApp } from './app';
import { createPaymentsRepository } from './repository';
import { migrations } from './schema';
import type { PaymentsTables } from './schema';

/** The payments app's outbox relay: kicked by the writes, and silent once the app stopped. */
describe('payments: the outbox relay', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function boot() {
    const dir = mkdtempSync(join(tmpdir(), 'archbench-payments-app-'));
    const database: Database<PaymentsTables> = openDatabase<PaymentsTables>({ dataDir: dir, fileName: 'payments.db' });
    await migrate(database.db, migrations);
    cleanups.push(async () => {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const published: ServiceEvent[] = [];
    const transport: Transport = {
      kind: 'http',
      send: () => Promise.reject(new Error('no commands here')),
      publish: async (event) => void published.push(event),
      listen: async () => {},
      healthy: () => true,
      stopReceiving: async () => {},
      close: async () => {},
    };
    const logger = createLogger({ service: 'payments-app-test', level: 'silent' });
    const service = createPaymentsApp({
      env: loadEnv({ NODE_ENV: 'test', LOG_LEVEL: 'silent' }),
      db: database.db,
      obs: { logger },
      dialect: 'sqlite',
      transport,
      internalToken: 't',
    });
    const repo = createPaymentsRepository(database.db);
    /** A late capture recorded with no event in the outbox yet (as before migration 0004). */
    const lateCapture = async (orderId: string) => {
      const id = await repo.insertPending(orderId, 'charge', 500, `charge:${orderId}`, 'PENDING', new Date(Date.now() - 1).toISOString());
      await repo.finish(id, 'FAILED', null);
      await database.db.updateTable('payments').set({ status: 'LATE_CAPTURED', provider_ref: 'prov' }).where('id', '=', id).execute();
      const refund = await repo.insertPending(orderId, 'refund', 500, `late-capture:${orderId}`, 'PENDING', new Date(Date.now() - 1).toISOString());
      await repo.finish(refund, 'SUCCEEDED', 'prov_r');
    };
    return { service, published, lateCapture, repo };
  }

  it('a write kicks the relay (no 500 ms poll needed); once the app stopped, a kick sends nothing and the event waits for the next start', async () => {
    const { service, published, lateCapture, repo } = await boot();
    await service.start();
    await lateCapture('o1');
    await service.payments.resumeLateCaptureRefunds(); // announces o1 and kicks
    for (const until = Date.now() + 2000; Date.now() < until && published.length === 0;) await sleep(10);
    expect(published.map((e) => `${e.type}:${e.orderId}`)).toEqual(['LateCaptureRefunded:o1']);

    await service.stop();
    await lateCapture('o2');
    await service.payments.resumeLateCaptureRefunds(); // announces o2 and kicks a stopped relay
    await sleep(200);
    expect(published.map((e) => e.orderId)).toEqual(['o1']);
    expect((await repo.unpublished(10)).map((row) => (JSON.parse(row.payload) as ServiceEvent).orderId)).toEqual(['o2']);
  });
});
