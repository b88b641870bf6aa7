import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SocketPoster, parseHead } from './otlp-socket';
import { runScript, startReceiver } from './test-support';
import type { Receiver } from './test-support';

let opened: Receiver | undefined;
let raw: Server | undefined;
afterEach(async () => {
  await opened?.close();
  opened = undefined;
  if (raw !== undefined) await new Promise((resolve) => raw!.close(resolve));
  raw = undefined;
});

/** A receiver (node's HTTP server) for one test, closed after it. */
async function receiver(answer?: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
  opened = await startReceiver(answer);
  return opened;
}

/** A TCP server that answers each request as `reply` says (raw bytes), for answers node's server would not give. */
async function rawReceiver(
  reply: (socket: Socket, request: string, index: number, onConnection: number) => void,
): Promise<{ url: string; connections: () => number; requests: string[] }> {
  const requests: string[] = [];
  let connections = 0;
  const sockets = new Set<Socket>();
  raw = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let onConnection = 0;
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end === -1) return;
        const length = Number(/content-length: (\d+)/i.exec(buffered.slice(0, end))?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        const request = buffered.slice(0, end + 4 + length);
        buffered = buffered.slice(end + 4 + length);
        requests.push(request);
        reply(socket, request, requests.length - 1, onConnection++);
      }
    });
  });
  const server = raw;
  const close = server.close.bind(server);
  server.close = ((callback?: (error?: Error) => void) => {
    for (const socket of sockets) socket.destroy();
    return close(callback);
  }) as typeof server.close;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`, connections: () => connections, requests };
}

describe('SocketPoster', () => {
  it('POSTs with the configured headers over one kept-alive connection, in order, however many are sent at once', async () => {
    const { tracesUrl: url, bodies, requests, connections } = await receiver();
    const poster = new SocketPoster({ url, headers: { 'content-type': 'application/x-protobuf', authorization: 'Bearer k' }, timeoutMs: 5000 });
    const big = Buffer.alloc(200_000, 7);
    expect(await poster.send(big)).toEqual({ ok: true });
    const outcomes = await Promise.all(Array.from({ length: 10 }, (_, i) => poster.send(Buffer.from(`batch ${i}`))));
    expect(outcomes).toEqual(Array.from({ length: 10 }, () => ({ ok: true })));
    expect(bodies[0]!.equals(big)).toBe(true);
    expect(bodies.slice(1).map((b) => b.toString())).toEqual(Array.from({ length: 10 }, (_, i) => `batch ${i}`));
    expect(requests[0]!.path).toBe('/v1/traces');
    expect(requests[0]!.headers['content-type']).toBe('application/x-protobuf');
    expect(requests[0]!.headers.authorization).toBe('Bearer k');
    expect(requests[0]!.headers['content-length']).toBe('200000');
    expect(connections()).toBe(1);
    await poster.close();
  });

  it('retries a 503 after its Retry-After, and fails a 400 at once with the text of its chunked body', async () => {
    const { tracesUrl: url, bodies } = await receiver((_req, res, index) => {
      if (index === 0) res.writeHead(503, { 'retry-after': '1' }).end();
      else if (index === 1) res.writeHead(200).end();
      else {
        res.writeHead(400, { 'content-type': 'text/plain' });
        res.write('bad ');
        setTimeout(() => res.end('spans'), 20); // no content-length: chunked
      }
    });
    const poster = new SocketPoster({ url, headers: {}, timeoutMs: 5000 });
    const started = Date.now();
    expect(await poster.send(Buffer.from('x'))).toEqual({ ok: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(bodies).toHaveLength(2);
    const refused = await poster.send(Buffer.from('y'));
    expect(!refused.ok && refused.error.message).toBe(`OTLP export to ${url} answered 400: bad spans`);
    expect(bodies).toHaveLength(3); // not retried
    await poster.close();
  });

  it('times out a receiver that never answers, then works on a new connection', async () => {
    const { tracesUrl: url, connections } = await receiver((req, res) => {
      if (req.headers['x-answer'] === undefined) return; // never answers
      res.writeHead(200).end();
    });
    const silent = new SocketPoster({ url, headers: {}, timeoutMs: 300 });
    const outcome = await silent.send(Buffer.from('x'));
    expect(!outcome.ok && outcome.error.message).toBe(`OTLP export to ${url} timed out`);
    await silent.close();
    const answered = new SocketPoster({ url, headers: { 'x-answer': 'yes' }, timeoutMs: 300 });
    expect(await answered.send(Buffer.from('y'))).toEqual({ ok: true });
    expect(connections()).toBe(2);
    await answered.close();
  });

  it('sends again at once, on a new connection, a request that a kept-alive connection dropped unanswered', async () => {
    // The receiver drops the second request of each connection without a word, as a server closing
    // an idle connection just as a request arrives does.
    const receiver = await rawReceiver((socket, _request, _index, onConnection) => {
      if (onConnection === 1) socket.destroy();
      else socket.write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
    });
    const poster = new SocketPoster({ url: receiver.url, headers: {}, timeoutMs: 5000 });
    expect(await poster.send(Buffer.from('first'))).toEqual({ ok: true });
    const started = Date.now();
    expect(await poster.send(Buffer.from('second'))).toEqual({ ok: true });
    expect(Date.now() - started).toBeLessThan(900); // no backoff
    expect(receiver.requests).toHaveLength(3);
    expect(receiver.connections()).toBe(2);
    await poster.close();
  });

  it('reads a body delimited by the connection closing, and a malformed answer fails the export with what is wrong', async () => {
    const receiver = await rawReceiver((socket, _request, index) => {
      if (index === 0) socket.end('HTTP/1.1 500 Internal\r\ncontent-type: text/plain\r\n\r\nno room for spans');
      else socket.end('SMTP ready\r\n\r\n');
    });
    const poster = new SocketPoster({ url: receiver.url, headers: {}, timeoutMs: 5000 });
    const failed = await poster.send(Buffer.from('x'));
    expect(!failed.ok && failed.error.message).toBe(`OTLP export to ${receiver.url} answered 500: no room for spans`);
    const malformed = await poster.send(Buffer.from('y'));
    expect(!malformed.ok && malformed.error.message).toBe(`OTLP export to ${receiver.url} got a malformed answer: malformed status line "SMTP ready"`);
    expect(receiver.requests).toHaveLength(2); // neither retried
    await poster.close();
  });

  it('refuses a header node would refuse, making no request, and keeps answering', async () => {
    const { tracesUrl: url, bodies } = await receiver();
    for (const headers of [{ 'bad header': 'x' }, { good: 'line\r\nbreak' }] as Array<Record<string, string>>) {
      const poster = new SocketPoster({ url, headers, timeoutMs: 5000 });
      const outcome = await poster.send(Buffer.from('x'));
      expect(!outcome.ok && outcome.error.message).toMatch(
        /Header name must be a valid HTTP token \["bad header"\]|Invalid character in header content \["good"\]/,
      );
    }
    expect(bodies).toHaveLength(0);
  });

  it('fails the exports in flight when closed, and every export after at once', async () => {
    const { tracesUrl: url } = await receiver(() => {
      // never answers
    });
    const poster = new SocketPoster({ url, headers: {}, timeoutMs: 60_000 });
    const held = poster.send(Buffer.from('held'));
    const queued = poster.send(Buffer.from('queued'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await poster.close();
    for (const outcome of await Promise.all([held, queued])) expect(!outcome.ok && outcome.error.message).toBe('the OTLP exporter is closed');
    const later = await poster.send(Buffer.from('later'));
    expect(!later.ok && later.error.message).toBe('the OTLP exporter is closed');
  });
});

describe('parseHead', () => {
  it('reads status, framing, keep-alive and Retry-After', () => {
    expect(parseHead('HTTP/1.1 200 OK\r\nContent-Length: 12\r\nKeep-Alive: timeout=7')).toEqual({
      status: 200,
      framing: 12,
      keepAlive: true,
      keepAliveMs: 7000,
      retryAfter: undefined,
    });
    expect(parseHead('HTTP/1.1 503 Busy\r\ntransfer-encoding: chunked\r\nretry-after: 2\r\nconnection: close')).toMatchObject({
      status: 503,
      framing: 'chunked',
      keepAlive: false,
      retryAfter: '2',
    });
    expect(parseHead('HTTP/1.0 204 No Content')).toMatchObject({ framing: 0, keepAlive: false });
    expect(parseHead('HTTP/1.1 200 OK')).toMatchObject({ framing: 'close', keepAlive: false });
    expect(parseHead('HTTP/1.1 200 OK\r\ncontent-length: -1')).toBe('malformed content-length "-1"');
    expect(parseHead('HTTP/2 200')).toBe('malformed status line "HTTP/2 200"');
  });
});

describe('OtlpProtobufSpanExporter and its transport', () => {
  it('POSTs to an http: receiver from the process itself (no export thread), and to https: from its thread', async () => {
    const { tracesUrl: url, bodies } = await receiver();
    // A fresh process, so that no other test's thread is counted: it sends one body and lists the
    // threads named after the export thread.
    const script = `
      const { OtlpProtobufSpanExporter } = await import(process.env.MODULE);
      const { readdirSync, readFileSync } = await import('node:fs');
      const exporter = new OtlpProtobufSpanExporter({ url: process.env.URL, timeoutMillis: 1500 });
      const result = await exporter.send(Buffer.from('spans'));
      const threads = readdirSync('/proc/self/task').filter((t) => readFileSync('/proc/self/task/' + t + '/comm', 'utf8').startsWith('archbench OTLP'));
      await exporter.shutdown();
      process.stdout.write(JSON.stringify({ code: result.code, exportThreads: threads.length }));
    `;
    const run = (target: string) => runScript(script, { ...process.env, MODULE: new URL('./otlp-protobuf.ts', import.meta.url).href, URL: target });
    const plain = await run(url);
    expect(plain.stderr).toBe('');
    expect(JSON.parse(plain.stdout)).toEqual({ code: 0, exportThreads: 0 });
    expect(bodies.map((b) => b.toString())).toEqual(['spans']);
    // The same check sees the thread where there is one (TLS against a plain receiver: the export fails).
    const tls = await run(url.replace('http:', 'https:'));
    expect(JSON.parse(tls.stdout)).toEqual({ code: 1, exportThreads: 1 });
  }, 30_000);
});
