// Shared by the tests that run the orders service in-process (idempotency, prefer-wait): a
// scripted transport standing in for inventory and payments, and a fresh migrated orders database.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate, openDatabase } from '@archbench/server-kit/db';
import type { Database } from '@archbench/server-kit/db';
import { createTestDatabase } from '@archbench/server-kit/testing';
import type { TestDatabase } from '@archbench/server-kit/testing';
import type { ChargeOutcome, Command, Reply, VoidReply } from '../src/shared/messages';
import type { Transport } from '../src/shared/transport';
import { migrations } from '../src/orders/schema';
import type { OrdersTables } from '../src/orders/schema';

export interface ScriptOptions {
  /** The reply to the n-th ReserveStock; default: every item reserved at 1000 cents. */
  reserve?: (n: number, command: Extract<Command, { type: 'ReserveStock' }>) => Reply;
  /** ReserveStock waits until `open()` is called. */
  gated?: boolean;
  /** What a VoidPayment answers; default NOTHING_CAPTURED. */
  voidOutcome?: VoidReply['outcome'];
  /** What a ChargePayment answers; default SUCCEEDED. */
  chargeOutcome?: ChargeOutcome;
  /** Runs before a ReleaseStock is answered (e.g. an event arriving while the saga releases). */
  beforeRelease?: (command: Extract<Command, { type: 'ReleaseStock' }>) => Promise<void>;
}

/** A transport that answers every command as scripted (charges, unless told otherwise, and refunds succeed) and counts what was sent. */
export function scriptedTransport(options: ScriptOptions = {}) {
  const sent: Partial<Record<Command['type'], number>> = {};
  let open!: () => void;
  const gate = options.gated ? new Promise<void>((resolve) => (open = resolve)) : undefined;
  const transport: Transport = {
    kind: 'http',
    async send(command) {
      const n = (sent[command.type] = (sent[command.type] ?? 0) + 1);
      switch (command.type) {
        case 'ReserveStock':
          await gate;
          return (options.reserve?.(n, command) ?? { ok: true, items: command.items.map((item) => ({ ...item, unitPriceCents: 1000 })) }) as never;
        case 'ChargePayment':
          return { ok: true, outcome: options.chargeOutcome ?? 'SUCCEEDED' } as never;
        case 'ReleaseStock':
          await options.beforeRelease?.(command);
          return { ok: true, released: 1 } as never;
        case 'VoidPayment':
          return { ok: true, outcome: options.voidOutcome ?? 'NOTHING_CAPTURED' } as never;
        case 'RefundPayment':
          return { ok: true, outcome: 'SUCCEEDED' } as never;
      }
    },
    publish: async () => {},
    listen: async () => {},
    healthy: () => true,
    stopReceiving: async () => {},
    close: async () => {},
  };
  return { transport, sent, open: () => open?.() };
}

/** A fresh, migrated orders database on SQLite (a temporary folder) or PostgreSQL (a new database); `close()` removes it. */
export async function freshOrdersDatabase(
  dialect: 'sqlite' | 'postgres',
  name: string,
): Promise<{ database: Database<OrdersTables>; close: () => Promise<void> }> {
  let testDatabase: TestDatabase | undefined;
  const dir = mkdtempSync(join(tmpdir(), `archbench-${name}-`));
  let database: Database<OrdersTables>;
  if (dialect === 'postgres') {
    testDatabase = await createTestDatabase(`archbench_${name.replace(/-/g, '_')}`);
    database = openDatabase<OrdersTables>({ databaseUrl: testDatabase.url, dataDir: dir, fileName: 'orders.db' });
  } else database = openDatabase<OrdersTables>({ dataDir: dir, fileName: 'orders.db' });
  await migrate(database.db, migrations);
  return {
    database,
    close: async () => {
      await database.close();
      await testDatabase?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
