import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DependencyError } from '@archbench/domain/errors';
import { InternalHttpClient } from './http-client';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A peer that takes connections and never answers (a hung process). */
async function hungPeer(): Promise<string> {
  const server = createServer(() => undefined);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('InternalHttpClient', () => {
  it('names every attempt and the whole wait when a hung peer times out each one (it said only "within 100 ms")', async () => {
    const client = new InternalHttpClient({ peers: { shipping: await hungPeer() }, timeoutMs: 100, attempts: 3, internalToken: 't' });
    cleanups.push(() => client.close());
    const error = await client.request('shipping', { method: 'GET', path: '/shipments/x', retry: 'always' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyError);
    expect((error as Error).message).toMatch(/^shipping did not answer within 100 ms \(3 attempts in \d+\.\d s\)$/);
  });

  it('says nothing more when there was one attempt', async () => {
    const client = new InternalHttpClient({ peers: { shipping: await hungPeer() }, timeoutMs: 100, attempts: 1, internalToken: 't' });
    cleanups.push(() => client.close());
    const error = await client.request('shipping', { method: 'GET', path: '/shipments/x', retry: 'always' }).catch((e: unknown) => e);
    expect((error as Error).message).toBe('shipping did not answer within 100 ms');
  });
});
