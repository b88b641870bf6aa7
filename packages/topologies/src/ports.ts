import { readFileSync } from 'node:fs';
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
 * Whether another process listens on `port` at `host` now (binding it fails with EADDRINUSE).
 * Other failures (EACCES below 1024, an address this machine does not have) are not "in use":
 * the server that tries the port reports them itself.
 * @example await portInUse(3000) // true while the monolith runs
 */
export function portInUse(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'EADDRINUSE'));
    server.listen(port, host, () => server.close(() => resolve(false)));
  });
}

/** A port someone else holds, and what sets it (`PORT`, `SUPERVISOR_PORT` …) for the message. */
export interface BusyPort {
  port: number;
  /** What the port is for and which variable sets it, e.g. `PORT` or `payments: PORT+3; PAYMENTS_PORT moves it`. */
  what?: string;
}

/**
 * The one line a launcher prints when ports it needs are taken, before it starts anything.
 * @example portsInUseMessage('monolith', [{ port: 4100, what: 'PORT' }])
 * // 'monolith: port 4100 (PORT) is already in use by another process; nothing was started (stop that process or choose another port)'
 */
export function portsInUseMessage(who: string, busy: readonly BusyPort[]): string {
  const list = busy.map((b) => `${b.port}${b.what ? ` (${b.what})` : ''}`).join(', ');
  return busy.length === 1
    ? `${who}: port ${list} is already in use by another process; nothing was started (stop that process or choose another port)`
    : `${who}: ports ${list} are already in use by other processes; nothing was started (stop them or choose other ports)`;
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
 * The ports the OS hands to outgoing connections as their local ports (Linux:
 * /proc/sys/net/ipv4/ip_local_port_range; elsewhere 32768–65535, which covers the 49152–65535 of
 * macOS and Windows). A server port inside it can be taken by any client socket between the check
 * that it is free and the server's listen.
 */
export function ephemeralPorts(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high) && low! <= high!) return [low!, high!];
  } catch {
    // Not Linux: the conservative default below.
  }
  return [32_768, 65_535];
}

/**
 * The bases freePortRange draws from (inclusive) so that all `count` ports stay out of the
 * ephemeral range: below it from 20000, else above it, else (an OS that gives nearly every port
 * to clients) 20000–49999 as before.
 * @example portBaseWindow(10, [32768, 60999]) // { from: 20000, to: 32758 }
 */
export function portBaseWindow(count: number, [low, high]: [number, number] = ephemeralPorts()): { from: number; to: number } {
  // A window of at least this many bases keeps parallel callers apart.
  const enough = 1_000;
  if (low - count - 20_000 >= enough) return { from: 20_000, to: low - count };
  if (65_536 - count - (high + 1) >= enough) return { from: high + 1, to: 65_536 - count };
  return { from: 20_000, to: 50_000 - count };
}

/**
 * The first of `count` consecutive free ports, for topologies whose processes listen on PORT,
 * PORT+1 … (the port scheme). Random bases outside the OS's ephemeral range (see portBaseWindow)
 * keep parallel callers apart and out of the way of client sockets.
 * @example const base = await freePortRange(5) // gateway base, services base+1..base+4
 */
export async function freePortRange(count: number, host = '127.0.0.1'): Promise<number> {
  const { from, to } = portBaseWindow(count);
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = from + Math.floor(Math.random() * (to - from + 1));
    const free = await Promise.all(Array.from({ length: count }, (_, i) => portFree(base + i, host)));
    if (free.every(Boolean)) return base;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}
