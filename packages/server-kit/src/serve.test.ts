import { once } from 'node:events';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
