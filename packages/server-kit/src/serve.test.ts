import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { Hono } from 'hono';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listen } from './serve';

/** Resolves 'closed' when the socket emits close within `ms`, else 'still open'. */
function closedWithin(socket: Socket, ms: number): Promise<'closed' | 'still open'> {
  if (socket.destroyed) return Promise.resolve('closed');
  return Promise.race([once(socket, 'close').then(() => 'closed' as const), sleep(ms, 'still open' as const)]);
}

describe('listen: a request node’s parser refused (answerUnparsable)', () => {
  let server: Server;
  let port: number;
  const serverSockets: Socket[] = [];

  beforeAll(async () => {
    const app = new Hono();
    app.get('/', (c) => c.text('ok'));
    ({ server, port } = await listen(app, { port: 0, host: '127.0.0.1' }));
    server.on('connection', (socket: Socket) => serverSockets.push(socket));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('answers 400 malformed-request, then the server closes the connection within 2 s', async () => {
    // allowHalfOpen: the client does not close its side when the server's FIN arrives, so what
    // closes the connection is the server's own destroy, not the client's answer to an end().
    const client = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    await once(client, 'connect');
    try {
      let received = '';
      client.setEncoding('latin1');
      client.on('data', (chunk: string) => (received += chunk));
      const ended = once(client, 'end');
      client.write('GET / HTTP/1.1\r\nHost: test\r\nX-Bad: a\u0001b\r\n\r\n');
      await Promise.race([ended, sleep(2000).then(() => Promise.reject(new Error('no FIN from the server within 2 s')))]);
      expect(received).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      expect(received).toContain('"code":"malformed-request"');
      expect(received).toMatch(/\r\nConnection: close\r\n/i);

      const socket = serverSockets.at(-1);
      expect(socket).toBeDefined();
      expect(await closedWithin(socket!, 2000)).toBe('closed');
    } finally {
      client.destroy();
    }
  });
});

/**
 * A server as the apps start theirs: the environment parsed by the base schema, serveWithShutdown
 * given its SHUTDOWN_DRAIN_MS. `GET /slow?ms=N` answers after N ms; `GET /stream?ms=N` writes its
 * headers and a first part at once and the rest after N ms. Each says `request` on stdout when it
 * arrives, so a test sends SIGTERM only once its requests are in flight.
 */
const SERVER = `
import { Hono } from 'hono';
import { createLogger } from '@archbench/observability/logging';
import { baseEnvSchema, loadServerEnv } from './src/env.ts';
import { serveWithShutdown } from './src/serve.ts';
const env = loadServerEnv(baseEnvSchema, process.env);
const wait = (ms) => new Promise((resolve) => setTimeout(resolve, Number(ms)));
const app = new Hono();
app.get('/slow', async (c) => {
  process.stdout.write('request\\n');
  await wait(c.req.query('ms'));
  return c.text('done');
});
app.get('/stream', (c) => {
  process.stdout.write('request\\n');
  const ms = c.req.query('ms');
  const encoder = new TextEncoder();
  return c.body(new ReadableStream({ async start(controller) { controller.enqueue(encoder.encode('part, ')); await wait(ms); controller.enqueue(encoder.encode('done')); controller.close(); } }));
});
const port = await serveWithShutdown(app, { port: 0, host: '127.0.0.1', logger: createLogger({ service: 'drain-test', level: 'silent' }), drainTimeoutMs: env.SHUTDOWN_DRAIN_MS });
process.stdout.write('listening ' + port + '\\n');
`;

type Outcome = { status: number; body: string; afterMs: number } | { error: unknown; afterMs: number };

describe('serveWithShutdown: SIGTERM lets in-flight requests finish for SHUTDOWN_DRAIN_MS', () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  /**
   * Starts the server with SHUTDOWN_DRAIN_MS, sends the requests (paths), SIGTERM once they are
   * all in flight. Times are ms after SIGTERM.
   */
  async function requestsThenSigterm(drainMs: string, paths: string[]) {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SERVER], {
      cwd: new URL('..', import.meta.url),
      env: { PATH: process.env.PATH, SHUTDOWN_DRAIN_MS: drainMs },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const nextLine = async (): Promise<string> => {
      const line = await Promise.race([lines.next(), exited.then(() => ({ done: true as const, value: undefined }))]);
      if (line.done) throw new Error(`the server exited early: ${stderr}`);
      return line.value;
    };
    const port = /^listening (\d+)$/.exec(await nextLine())?.[1];
    expect(port, stderr).toBeDefined();
    let signalled = Infinity;
    const outcomes = paths.map((path) =>
      fetch(`http://127.0.0.1:${port}${path}`)
        .then(async (response) => ({ status: response.status, body: await response.text() }))
        .then(
          (answer): Outcome => ({ ...answer, afterMs: performance.now() - signalled }),
          (error: unknown): Outcome => ({ error, afterMs: performance.now() - signalled }),
        ),
    );
    for (const _ of paths) expect(await nextLine()).toBe('request');
    signalled = performance.now();
    child.kill('SIGTERM');
    const results = await Promise.all(outcomes);
    const [code] = await exited;
    return { results, exitedAfterMs: performance.now() - signalled, code, stderr };
  }

  it('with SHUTDOWN_DRAIN_MS=500, a request still running after 500 ms has its connection closed then, and the server exits 0', async () => {
    const { results, code, stderr } = await requestsThenSigterm('500', ['/slow?ms=4000']);
    const [cut] = results;
    expect(cut).toHaveProperty('error');
    // Not at once (the drain is waited for), and not at the default 10 s, nor when the request ends (4 s).
    expect(cut!.afterMs).toBeGreaterThanOrEqual(450);
    expect(cut!.afterMs).toBeLessThan(2500);
    expect(code, stderr).toBe(0);
    // Room for the request's own 4 s, so a server that ignores the variable fails on what it answered.
  }, 8000);

  it('with SHUTDOWN_DRAIN_MS=20000, requests that take 1 s more are answered in full, and the server exits 0 then, not after the drain', async () => {
    const { results, exitedAfterMs, code, stderr } = await requestsThenSigterm('20000', ['/slow?ms=1000', '/stream?ms=1000']);
    expect(results.map((r) => ('error' in r ? r : { status: r.status, body: r.body }))).toEqual([
      { status: 200, body: 'done' },
      { status: 200, body: 'part, done' },
    ]);
    for (const r of results) expect(r.afterMs).toBeGreaterThanOrEqual(900);
    // fetch keeps its connections alive after the answers (one written before SIGTERM began, one
    // after); the server closes them rather than wait out the drain for the client.
    expect(exitedAfterMs - Math.max(...results.map((r) => r.afterMs))).toBeLessThan(1000);
    expect(code, stderr).toBe(0);
  });
});
