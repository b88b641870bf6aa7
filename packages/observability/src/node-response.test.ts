import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server, ServerResponse } from 'node:http';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { DeferredHeadersResponse } from './node-response';
import { requestHeader, setResponseHeaders } from './response-headers';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((done) => s.close(done))));
});

/** A real node:http server answering with DeferredHeadersResponse; `answer` writes the response. */
async function start(answer: (res: DeferredHeadersResponse) => void): Promise<string> {
  const server = createServer({ ServerResponse: DeferredHeadersResponse }, (req, res) => {
    req.resume();
    answer(res as DeferredHeadersResponse);
  });
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('DeferredHeadersResponse', () => {
  it('writes deferred headers with the handler headers; the handler wins on a clash, whatever the case', async () => {
    const url = await start((res) => {
      res.deferHeader('x-request-id', 'req-1');
      res.deferHeader('X-Frame-Options', 'DENY');
      res.deferHeader('vary', 'Origin');
      res.writeHead(201, { 'Content-Type': 'application/json', Vary: 'Accept' }).end('{}');
    });
    const response = await fetch(url);
    expect(response.status).toBe(201);
    expect(response.headers.get('x-request-id')).toBe('req-1');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('content-type')).toBe('application/json');
    // One vary field, the handler's (a duplicate would read "Accept, Origin").
    expect(response.headers.get('vary')).toBe('Accept');
  });

  it('a header deferred again replaces the earlier value, whatever the case', async () => {
    const seen: Record<string, unknown> = {};
    const url = await start((res) => {
      res.deferHeader('X-Request-Id', 'first');
      res.deferHeader('x-request-id', 'second');
      seen.get = res.getHeader('x-request-id');
      res.deferHeader('x-gone', 'a');
      res.deferHeader('X-Gone', 'b');
      res.removeHeader('x-gone');
      seen.hasGone = res.hasHeader('x-gone');
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
    const response = await fetch(url);
    expect(seen).toEqual({ get: 'second', hasGone: false });
    expect(response.headers.get('x-request-id')).toBe('second');
    expect(response.headers.has('x-gone')).toBe(false);
  });

  it('keeps deferred headers on an implicit head (end without writeHead) and with a status message', async () => {
    const implicit = await start((res) => {
      res.deferHeader('x-request-id', 'req-2');
      res.statusCode = 202;
      res.end('ok');
    });
    const a = await fetch(implicit);
    expect(a.status).toBe(202);
    expect(a.headers.get('x-request-id')).toBe('req-2');

    const withMessage = await start((res) => {
      res.deferHeader('x-request-id', 'req-3');
      res.writeHead(200, 'Fine', { 'content-type': 'text/plain' }).end('ok');
    });
    const b = await fetch(withMessage);
    expect(b.statusText).toBe('Fine');
    expect(b.headers.get('x-request-id')).toBe('req-3');
  });

  it('shows deferred headers to getHeader, hasHeader and getHeaders; setHeader and removeHeader replace them', async () => {
    const seen: Record<string, unknown> = {};
    const url = await start((res) => {
      res.deferHeader('x-one', '1');
      res.deferHeader('x-two', '2');
      res.deferHeader('x-three', '3');
      seen.get = res.getHeader('X-One');
      seen.has = res.hasHeader('x-two');
      res.setHeader('x-two', 'set');
      res.removeHeader('x-three');
      seen.names = res.getHeaderNames().sort();
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
    const response = await fetch(url);
    expect(seen).toEqual({ get: '1', has: true, names: ['x-one', 'x-two'] });
    expect(response.headers.get('x-one')).toBe('1');
    expect(response.headers.get('x-two')).toBe('set');
    expect(response.headers.has('x-three')).toBe(false);
  });

  it('merges with headers set through setHeader and with array headers (node’s own path)', async () => {
    const progressive = await start((res) => {
      res.deferHeader('x-request-id', 'req-4');
      res.setHeader('cache-control', 'no-store');
      res.writeHead(200, { 'x-request-id': 'handler' }).end('ok');
    });
    const a = await fetch(progressive);
    expect(a.headers.get('cache-control')).toBe('no-store');
    expect(a.headers.get('x-request-id')).toBe('handler');

    const array = await start((res) => {
      res.deferHeader('x-request-id', 'req-5');
      res.writeHead(200, ['content-type', 'text/plain']).end('ok');
    });
    const b = await fetch(array);
    expect(b.headers.get('x-request-id')).toBe('req-5');
    expect(b.headers.get('content-type')).toBe('text/plain');
  });

  it('does not change a headers object the handler shares between responses', async () => {
    const shared = { 'content-type': 'text/plain' };
    let n = 0;
    const url = await start((res) => {
      res.deferHeader('x-request-id', `req-${++n}`);
      res.writeHead(200, shared).end('ok');
    });
    await fetch(url);
    const second = await fetch(url);
    expect(second.headers.get('x-request-id')).toBe('req-2');
    expect(shared).toEqual({ 'content-type': 'text/plain' });
  });
});

describe('Hono on @hono/node-server with DeferredHeadersResponse', () => {
  async function serveApp(app: Hono): Promise<string> {
    return new Promise((done) => {
      const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1', serverOptions: { ServerResponse: DeferredHeadersResponse } }, (info) =>
        done(`http://127.0.0.1:${info.port}`),
      );
      servers.push(server as Server);
    });
  }

  it('answers with middleware headers and reads request headers from node (repeated fields joined)', async () => {
    const app = new Hono();
    let kind = '';
    app.use(async (c, next) => {
      kind = (c.env as { outgoing: ServerResponse }).outgoing.constructor.name;
      setResponseHeaders(c, [
        ['x-request-id', requestHeader(c, 'x-request-id') ?? 'none'],
        ['x-forwarded', requestHeader(c, 'x-forwarded-for') ?? 'none'],
      ]);
      await next();
    });
    app.get('/', (c) => c.json({ ok: true }));
    const url = await serveApp(app);
    // node:http sends an array value as repeated header lines.
    const response = await new Promise<{ headers: Record<string, unknown>; body: string }>((done, fail) => {
      const req = request(url, { headers: { 'X-Request-Id': 'abc', 'x-forwarded-for': ['10.0.0.1', '10.0.0.2'] } }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => done({ headers: res.headers, body }));
      });
      req.on('error', fail);
      req.end();
    });
    expect(kind).toBe('DeferredHeadersResponse');
    expect(JSON.parse(response.body)).toEqual({ ok: true });
    expect(response.headers['x-request-id']).toBe('abc');
    expect(response.headers['x-forwarded']).toBe('10.0.0.1, 10.0.0.2');
    expect(response.headers['content-type']).toBe('application/json');
  });

  it('requestHeader falls back to the Fetch request off node (app.request)', async () => {
    const app = new Hono();
    app.get('/', (c) => c.text(requestHeader(c, 'x-request-id') ?? 'none'));
    expect(await (await app.request('/', { headers: { 'X-Request-Id': 'from-fetch' } })).text()).toBe('from-fetch');
    expect(await (await app.request('/')).text()).toBe('none');
  });
});
