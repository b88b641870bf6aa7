import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError } from '@archbench/domain/errors';
import { observe } from '@archbench/observability/hono';
import { createLogger } from '@archbench/observability/logging';
import { publicEdge } from './edge';
import { placedOrderResponse, readJson } from './http';

/**
 * The same middleware as in server-kit.test.ts, but served by @hono/node-server over a real
 * socket: there the response headers take the adapter's fast path (straight onto node:http's
 * response) and bodies are read without web streams, so what a client receives is checked here.
 */
const MAX = 1024;
let server: ServerType;
let base: string;

beforeAll(async () => {
  const app = new Hono();
  observe(app, {
    service: 'http-node-test',
    logger: createLogger({ service: 'http-node-test', level: 'silent' }),
    use: [publicEdge({ maxInFlight: 100, maxBodyBytes: MAX })],
  });
  app.post('/echo', async (c) => c.json(await readJson(c, z.strictObject({ text: z.string() }), MAX)));
  app.post('/ignore', (c) => c.json({ ignored: true }));
  app.get('/own-header', (c) => c.json({ ok: true }, 200, { 'x-frame-options': 'SAMEORIGIN' }));
  app.post('/placed', (c) =>
    placedOrderResponse(
      c,
      {
        order: {
          id: 'ord_1',
          customerId: 'c',
          status: 'CONFIRMED',
          items: [],
          totalCents: 0,
          currency: 'EUR',
          paymentStatus: 'CAPTURED',
          rejectionReason: null,
          createdAt: '',
          updatedAt: '',
        },
        replayed: true,
      },
      2,
    ),
  );
  app.get('/boom', () => {
    throw new AppError('not-found', 'nothing here');
  });
  await new Promise<void>((resolve) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** A raw request, so the body can be sent chunked (no Content-Length) or with a declared length. */
function send(
  path: string,
  chunks: string[],
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

describe('response headers over node:http', () => {
  it('puts the security headers and the request id on answers and problems alike', async () => {
    for (const path of ['/own-header', '/boom']) {
      const res = await fetch(`${base}${path}`, { headers: { 'x-request-id': 'client-chosen-id' } });
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(res.headers.get('strict-transport-security')).toMatch(/^max-age=/);
      expect(res.headers.get('x-request-id')).toBe('client-chosen-id');
    }
    expect((await fetch(`${base}/boom`)).headers.get('content-type')).toBe('application/problem+json');
  });

  it("lets a handler's own header win over a preset one", async () => {
    const res = await fetch(`${base}/own-header`);
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('sends the headers of a placed order answer', async () => {
    const res = await send('/placed', ['{}']);
    expect(res.status).toBe(200);
    expect(res.headers.location).toBe('/orders/ord_1');
    expect(res.headers['preference-applied']).toBe('wait=2');
    expect(res.headers['idempotent-replayed']).toBe('true');
    expect(JSON.parse(res.body)).toMatchObject({ id: 'ord_1' });
  });
});

describe('limitBody and readJson over node:http', () => {
  const text = (n: number) => JSON.stringify({ text: 'x'.repeat(n) });

  it('reads bodies with a Content-Length and chunked bodies alike', async () => {
    const declared = await send('/echo', [text(10)], { 'content-length': String(text(10).length) });
    expect(declared.status).toBe(200);
    expect(JSON.parse(declared.body)).toEqual({ text: 'x'.repeat(10) });
    const body = text(500);
    // Sent in two writes, so the server reads it in more than one chunk.
    const split = await send('/echo', [body.slice(0, 100), body.slice(100)], { 'content-length': String(body.length) });
    expect(split.status).toBe(200);
    expect(JSON.parse(split.body)).toEqual({ text: 'x'.repeat(500) });
    const chunked = await send('/echo', [body.slice(0, 100), body.slice(100)]);
    expect(chunked.status).toBe(200);
    expect(JSON.parse(chunked.body)).toEqual({ text: 'x'.repeat(500) });
  });

  it('answers malformed-json to a body that is not UTF-8, with a Content-Length or chunked', async () => {
    const invalid = '{"text":"\xff"}';
    for (const headers of [{ 'content-length': String(Buffer.byteLength(invalid, 'latin1')) }, {}]) {
      const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(`${base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (r) => {
          let b = '';
          r.on('data', (chunk: Buffer) => (b += chunk.toString('utf8')));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, body: b }));
        });
        req.on('error', reject);
        req.end(Buffer.from(invalid, 'latin1'));
      });
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'malformed-json' });
    }
  });

  it('keeps serving after a client leaves in the middle of a body', async () => {
    const body = text(500);
    await new Promise<void>((resolve) => {
      const req = httpRequest(`${base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(body.length) } });
      req.on('error', () => resolve());
      req.write(body.slice(0, 100), () => setTimeout(() => (req.destroy(), resolve()), 50));
    });
    const after = await send('/echo', [text(10)], { 'content-length': String(text(10).length) });
    expect(after.status).toBe(200);
    expect(JSON.parse(after.body)).toEqual({ text: 'x'.repeat(10) });
  });

  it('answers 413 and closes the connection past the limit, declared or streamed', async () => {
    const declared = await send('/echo', [text(2000)], { 'content-length': String(text(2000).length) });
    expect(declared.status).toBe(413);
    expect(declared.headers.connection).toBe('close');
    const body = text(3000);
    const chunked = await send('/echo', [body.slice(0, 900), body.slice(900)]);
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body)).toMatchObject({ code: 'payload-too-large' });
    // A route that never reads its body is still protected from an oversized declared one.
    expect((await send('/ignore', [text(2000)])).status).toBe(413);
    expect((await send('/ignore', [text(10)])).status).toBe(200);
  });
});
