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
 * headers and a first part at once and the rest after N ms; `POST /items` answers 201 at once
 * (synchronously); `GET /big?mb=N` answers N MiB at once. Each says `request` on stdout when it
 * arrives, so a test sends SIGTERM only once its requests are in flight, and the server says
 * `sigterm` once its shutdown has begun.
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
app.post('/items', (c) => {
  process.stdout.write('request\\n');
  return c.text('created', 201);
});
app.get('/big', (c) => {
  process.stdout.write('request\\n');
  return c.body(new Uint8Array(Number(c.req.query('mb')) * 2 ** 20).fill(120));
});
const port = await serveWithShutdown(app, { port: 0, host: '127.0.0.1', logger: createLogger({ service: 'drain-test', level: 'silent' }), drainTimeoutMs: env.SHUTDOWN_DRAIN_MS });
process.once('SIGTERM', () => process.stdout.write('sigterm\\n'));
process.stdout.write('listening ' + port + '\\n');
`;

type Outcome = { status: number; body: string; afterMs: number } | { error: unknown; afterMs: number };

/** The responses in what a connection received: status, Connection header, body (Content-Length or chunked). */
function responsesIn(received: Buffer): { status: number; connection: string | undefined; body: string }[] {
  const responses: { status: number; connection: string | undefined; body: string }[] = [];
  let rest = received;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end === -1) break;
    const head = rest.subarray(0, end).toString('latin1');
    rest = rest.subarray(end + 4);
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
    const connection = /\r\nconnection: *([^\r]*)/i.exec(head)?.[1]?.toLowerCase();
    const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
    let body = '';
    if (length !== undefined) {
      body = rest.subarray(0, Number(length)).toString('latin1');
      rest = rest.subarray(Number(length));
    } else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
      for (;;) {
        const line = rest.indexOf('\r\n');
        if (line === -1) break;
        const size = parseInt(rest.subarray(0, line).toString('latin1'), 16);
        body += rest.subarray(line + 2, line + 2 + size).toString('latin1');
        rest = rest.subarray(line + 2 + size + 2);
        if (size === 0) break;
      }
    }
    responses.push({ status, connection, body });
  }
  return responses;
}

describe('serveWithShutdown: SIGTERM lets in-flight requests finish for SHUTDOWN_DRAIN_MS', () => {
  const children: ChildProcess[] = [];
  const clients: Socket[] = [];
  afterEach(() => {
    for (const client of clients.splice(0)) client.destroy();
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  /** Starts the server with SHUTDOWN_DRAIN_MS; `nextLine()` is its next line on stdout. */
  async function startServer(drainMs: string) {
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
    /** SIGTERM; resolves once the server has begun its shutdown. */
    const sigterm = async () => {
      child.kill('SIGTERM');
      expect(await nextLine()).toBe('sigterm');
    };
    return { child, port: Number(port), nextLine, exited, sigterm, stderr: () => stderr };
  }

  /**
   * A raw connection to the server (keep-alive, as HTTP/1.1 is by default), which keeps its side
   * open when the server closes its own (allowHalfOpen); `closed` resolves with everything it
   * received once the server has closed the connection (FIN or reset).
   */
  async function rawClient(port: number) {
    const client = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    clients.push(client);
    await once(client, 'connect');
    const chunks: Buffer[] = [];
    client.on('data', (chunk: Buffer) => chunks.push(chunk));
    client.on('error', () => {});
    const closed = new Promise<Buffer>((resolve) => {
      client.once('end', () => resolve(Buffer.concat(chunks)));
      client.once('close', () => resolve(Buffer.concat(chunks)));
    });
    return { client, closed, received: () => Buffer.concat(chunks) };
  }

  /**
   * Starts the server with SHUTDOWN_DRAIN_MS, sends the requests (paths), SIGTERM once they are
   * all in flight. Times are ms after SIGTERM.
   */
  async function requestsThenSigterm(drainMs: string, paths: string[]) {
    const { child, port, nextLine, exited, stderr } = await startServer(drainMs);
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
    return { results, exitedAfterMs: performance.now() - signalled, code, stderr: stderr() };
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

  it('a request pipelined behind one in flight at SIGTERM gets its answer too, whether it came before SIGTERM or during the drain', async () => {
    const server = await startServer('20000');
    const before = await rawClient(server.port);
    const during = await rawClient(server.port);
    // Both handlers run before SIGTERM: the POST's answer waits in node's queue behind the GET's.
    before.client.write('GET /slow?ms=800 HTTP/1.1\r\nHost: t\r\n\r\nPOST /items HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}');
    during.client.write('GET /slow?ms=800 HTTP/1.1\r\nHost: t\r\n\r\n');
    for (let i = 0; i < 3; i++) expect(await server.nextLine()).toBe('request');
    await server.sigterm();
    // Sent during the drain on a connection busy at SIGTERM, and answered synchronously: its
    // answer says Connection: close, so the client knows not to send more.
    during.client.write('POST /items HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}');
    expect(await server.nextLine()).toBe('request');
    expect(responsesIn(await before.closed)).toEqual([
      { status: 200, connection: 'keep-alive', body: 'done' },
      { status: 201, connection: 'keep-alive', body: 'created' },
    ]);
    expect(responsesIn(await during.closed)).toEqual([
      { status: 200, connection: 'keep-alive', body: 'done' },
      { status: 201, connection: 'close', body: 'created' },
    ]);
    const [code] = await server.exited;
    expect(code, server.stderr()).toBe(0);
  }, 8000);

  it('a response in flight at SIGTERM, its headers not yet written (a long-poll), says Connection: close, so a pooled client does not reuse the connection as it closes', async () => {
    const server = await startServer('20000');
    const pooled = await rawClient(server.port);
    pooled.client.write('GET /slow?ms=600 HTTP/1.1\r\nHost: t\r\n\r\n');
    expect(await server.nextLine()).toBe('request');
    await server.sigterm();
    expect(responsesIn(await pooled.closed)).toEqual([{ status: 200, connection: 'close', body: 'done' }]);
    const [code] = await server.exited;
    expect(code, server.stderr()).toBe(0);
  }, 8000);

  it('a client that keeps its connection open after its answer does not hold the server for the drain', async () => {
    const server = await startServer('20000');
    // One answer whose headers are written before SIGTERM, one after.
    const streamed = await rawClient(server.port);
    const slow = await rawClient(server.port);
    streamed.client.write('GET /stream?ms=300 HTTP/1.1\r\nHost: t\r\n\r\n');
    slow.client.write('GET /slow?ms=300 HTTP/1.1\r\nHost: t\r\n\r\n');
    for (let i = 0; i < 2; i++) expect(await server.nextLine()).toBe('request');
    const signalled = performance.now();
    await server.sigterm();
    const [code] = await server.exited;
    // The clients never close their side; the server closes the connections once the answers are
    // written, and exits about 300 ms after SIGTERM, not after the 20 s drain.
    expect(performance.now() - signalled).toBeLessThan(2000);
    expect(code, server.stderr()).toBe(0);
    expect(responsesIn(await streamed.closed)).toEqual([{ status: 200, connection: 'keep-alive', body: 'part, done' }]);
    // Its headers were written during the drain: it says so.
    expect(responsesIn(await slow.closed)).toEqual([{ status: 200, connection: 'close', body: 'done' }]);
  }, 8000);

  it('a slow reader’s large answer, ended but not yet written at SIGTERM, is written in full', async () => {
    const server = await startServer('20000');
    const reader = await rawClient(server.port);
    // The client reads nothing until after SIGTERM, so most of the 16 MiB wait in the server.
    reader.client.pause();
    reader.client.write('GET /big?mb=16 HTTP/1.1\r\nHost: t\r\n\r\n');
    expect(await server.nextLine()).toBe('request');
    await sleep(200);
    await server.sigterm();
    await sleep(300);
    reader.client.resume();
    const [response] = responsesIn(await reader.closed);
    expect(response?.status).toBe(200);
    expect(response?.body.length).toBe(16 * 2 ** 20);
    const [code] = await server.exited;
    expect(code, server.stderr()).toBe(0);
  }, 10_000);
});
