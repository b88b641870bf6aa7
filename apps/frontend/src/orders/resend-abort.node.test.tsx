import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { App } from '../App';

// The console against a real HTTP server through the real fetch (not a stub), so an aborted
// request is seen where it matters: the server sees the connection closed before it answered.
// Type-checked by tsconfig.node.json (Node's types), not by tsconfig.json.

const PRODUCT = { sku: 'SKU-0001', name: 'Compact Kettle 1', priceCents: 1999, currency: 'EUR', stock: 100 };
const ORDER = {
  id: 'ord_1',
  customerId: 'bob',
  status: 'CONFIRMED',
  items: [{ sku: 'SKU-0001', quantity: 1, unitPriceCents: 1999 }],
  totalCents: 1999,
  currency: 'EUR',
  paymentStatus: 'CAPTURED',
  rejectionReason: null,
  createdAt: '2025-01-01T10:00:00.000Z',
  updatedAt: '2025-01-01T10:00:00.000Z',
};

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json', ...headers }).end(JSON.stringify(body));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((server) => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    }),
  );
});

/** Starts `handle` on a free port and gives a fetch that sends the console's requests there. */
async function serve(handle: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = createServer((req, res) => {
    req.resume();
    handle(req, res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return (input: string, init?: RequestInit) => fetch(`http://127.0.0.1:${port}${input}`, init);
}

describe('resending a placement still in progress, over real HTTP', () => {
  it('aborts a resend under way when the user switches backend, and ignores what it answers', async () => {
    const keys: string[] = [];
    let resendAborted = false;
    let answerResend = () => {};
    let resendArrived!: () => void;
    const resendUnderWay = new Promise<void>((resolve) => (resendArrived = resolve));
    const fetchFn = await serve((req, res) => {
      const route = `${req.method} ${req.url?.split('?')[0]}`;
      if (route === 'GET /config.json') {
        send(res, 200, {
          backends: [
            { id: 'monolith', label: 'Modular monolith', description: 'one process' },
            { id: 'microservices', label: 'Microservices', description: 'several processes' },
          ],
          devLogin: true,
        });
      } else if (route.endsWith('/health')) send(res, 200, { status: 'ok', service: 'x' });
      else if (route.endsWith('/products')) send(res, 200, { items: [PRODUCT], nextCursor: null });
      else if (route.endsWith('/orders') && req.method === 'GET') send(res, 200, { items: [], nextCursor: null });
      else if (route === 'POST /api/monolith/orders') {
        keys.push(String(req.headers['idempotency-key']));
        if (keys.length === 1) {
          // The first request with this key is still being placed: resend after Retry-After 0 (0.25 s).
          send(res, 409, { title: 'Request in progress', status: 409, detail: 'in progress', code: 'idempotency-in-progress' }, { 'retry-after': '0' });
          return;
        }
        // The resend is held until the test answers it: the order it would replay.
        res.on('close', () => (resendAborted = !res.writableFinished));
        answerResend = () => {
          if (res.writable) send(res, 201, ORDER, { 'idempotent-replayed': 'true' });
        };
        resendArrived();
      } else send(res, 404, { title: 'Not found', status: 404, detail: route, code: 'not-found' });
    });
    sessionStorage.setItem(
      'archbench.session',
      JSON.stringify({ customerId: 'bob', token: 'a.b.c', expiresAt: new Date(Date.now() + 3600_000).toISOString() }),
    );
    const user = userEvent.setup();
    render(<App fetch={fetchFn} />);
    await user.click(await screen.findByRole('button', { name: 'Add SKU-0001 Compact Kettle 1 to cart' }));
    const said: string[] = [];
    const announcer = screen.getByTestId('announcer');
    const recorder = new MutationObserver(() => said.push(announcer.textContent ?? ''));
    recorder.observe(announcer, { childList: true, subtree: true, characterData: true });

    await user.click(screen.getByRole('button', { name: 'Place order' }));
    await resendUnderWay;
    await user.click(screen.getByRole('radio', { name: /Microservices/ }));
    await sleep(200);
    answerResend(); // too late when the request was aborted
    await sleep(200);
    recorder.disconnect();

    expect(resendAborted).toBe(true);
    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]);
    // Its answer did not land: nothing said or listed, and the cart keeps its line and the key for the next Place order.
    expect(said.filter((text) => text.startsWith('Order ord_1'))).toEqual([]);
    expect(document.querySelector('[data-order-id="ord_1"]')).toBeNull();
    expect(screen.getByLabelText('Quantity of SKU-0001')).toHaveProperty('value', '1');
    expect(screen.getByRole('button', { name: 'Place order' }).getAttribute('aria-disabled')).toBeNull();
    const stored = JSON.parse(sessionStorage.getItem('archbench.cart')!);
    expect(stored.lines).toHaveLength(1);
    expect(stored.placement.key).toBe(keys[0]);
  });
});
