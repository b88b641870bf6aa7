import { createServer } from 'node:net';
import type { Server } from 'node:net';

/**
 * Whether `port` can be bound on `host` now.
 * @example await portFree(3000) // false while the monolith runs
 */
export function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/**
 * `count` distinct ports the OS says are free now (all held open at once, so none repeats).
 * @example const [a, b] = await freePorts(2)
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer();
          server.unref();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/** A port the OS says is free now. @example const port = await freePort() */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}

/**
 * The first of `count` consecutive free ports, for topologies whose processes listen on PORT,
 * PORT+1 … (the port scheme). Random bases in 20000-49999 keep parallel callers apart.
 * @example const base = await freePortRange(5) // gateway base, services base+1..base+4
 */
export async function freePortRange(count: number, host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const free = await Promise.all(Array.from({ length: count }, (_, i) => portFree(base + i, host)));
    if (free.every(Boolean)) return base;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}
