import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { Order } from '@archbench/contracts/schemas';
import { App } from '../App';
import type { FetchLike } from '../api/client';

// The network boundary is stubbed here because these tests are about what the UI does with
// answers; the browser tests in e2e/ drive the same flows against the real apps.
interface Call {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

const PRODUCTS = [
  { sku: 'SKU-0001', name: 'Compact Kettle 1', priceCents: 1999, currency: 'EUR', stock: 100 },
  { sku: 'SKU-0002', name: 'Classic Lamp 1', priceCents: 2599, currency: 'EUR', stock: 3 },
];

function order(status: Order['status'], extra: Partial<Order> = {}): Order {
  return {
    id: 'ord_1',
    customerId: 'bob',
    status,
    items: [{ sku: 'SKU-0001', quantity: 1, unitPriceCents: 1999 }],
    totalCents: 1999,
    currency: 'EUR',
    paymentStatus: status === 'REJECTED' ? 'DECLINED' : status === 'PENDING' ? 'PENDING' : 'CAPTURED',
    rejectionReason: null,
    createdAt: '2025-01-01T10:00:00.000Z',
    updatedAt: '2025-01-01T10:00:00.000Z',
    ...extra,
  };
}

function json(body: unknown, status = 200, type = 'application/json') {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': type } });
}

/** A problem+json answer of the API, e.g. problem(409, 'insufficient-stock', 'Insufficient stock', 'SKU-0002 has 3 units left'). */
function problem(status: number, code: string, title: string, detail: string) {
  return json({ type: `https://archbench.dev/problems/${code}`, title, status, detail, code }, status, 'application/problem+json');
}

/** The demo sign-in's answer: a token for bob, valid for an hour. */
const SIGNED_IN = { 'POST /dev/token': () => json({ token: 'a.b.c', customerId: 'bob', expiresAt: new Date(Date.now() + 3600_000).toISOString() }) };

function stubServer(routes: Record<string, (call: Call) => Response>) {
  const calls: Call[] = [];
  const fetch: FetchLike = async (input, init = {}) => {
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const call: Call = { method: init.method ?? 'GET', url: input, headers, body: init.body ? JSON.parse(String(init.body)) : undefined };
    calls.push(call);
    const path = input.split('?')[0]!;
    const handler = routes[`${call.method} ${path}`];
    if (!handler)
      return json({ title: 'Not found', status: 404, detail: `no stub for ${call.method} ${path}`, code: 'not-found' }, 404, 'application/problem+json');
    return handler(call);
  };
  return { fetch, calls };
}

const base = {
  'GET /config.json': () => json({ backends: [{ id: 'monolith', label: 'Modular monolith', description: 'one process' }], devLogin: true }),
  'GET /api/monolith/health': () => json({ status: 'ok', service: 'monolith' }),
  'GET /api/monolith/products': () => json({ items: PRODUCTS, nextCursor: null }),
};

describe('sign-in and ordering in the console', () => {
  it('signs in as a demo customer through the server and uses the minted token', async () => {
    const server = stubServer({
      ...base,
      'POST /dev/token': (call) =>
        json({
          token: 'header.payload-for-' + (call.body as { customerId: string }).customerId + '.sig',
          customerId: 'bob',
          expiresAt: new Date(Date.now() + 3600_000).toISOString(),
        }),
      'GET /api/monolith/orders': (call) =>
        call.headers.authorization === 'Bearer header.payload-for-bob.sig'
          ? json({ items: [order('CONFIRMED')], nextCursor: null })
          : json({ title: 'Unauthorized', status: 401, detail: 'bearer token missing', code: 'unauthorized' }, 401, 'application/problem+json'),
    });
    const user = userEvent.setup();
    render(<App fetch={server.fetch} />);

    const field = await screen.findByLabelText('Demo customer id');
    await user.clear(field);
    await user.type(field, 'bob');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));

    expect(await screen.findByTestId('signed-in-as')).toHaveProperty('textContent', 'bob');
    const tokenCall = server.calls.find((c) => c.url === '/dev/token')!;
    expect(tokenCall.body).toEqual({ customerId: 'bob' });
    const list = await screen.findByRole('heading', { name: 'Your orders' });
    const orders = list.closest('section')!;
    await waitFor(() => expect(within(orders).getByText('CONFIRMED')).toBeTruthy());
    expect(sessionStorage.getItem('archbench.session')).toContain('header.payload-for-bob.sig');
  });

  it('shows the server’s problem when demo sign-in is refused', async () => {
    const server = stubServer({
      ...base,
      'POST /dev/token': () => problem(403, 'forbidden', 'Demo sign-in is off', 'This server has a real AUTH_SECRET'),
    });
    const user = userEvent.setup();
    render(<App fetch={server.fetch} />);
    await user.click(await screen.findByRole('button', { name: 'Sign in' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Demo sign-in is off');
    expect(alert.textContent).toContain('This server has a real AUTH_SECRET');
    expect(screen.queryByTestId('signed-in-as')).toBeNull();
  });

  it('places an order, follows it while pending and explains a declined payment', async () => {
    let polls = 0;
    const server = stubServer({
      ...base,
      ...SIGNED_IN,
      'GET /api/monolith/orders': () => json({ items: [], nextCursor: null }),
      'POST /api/monolith/orders': () => json(order('PENDING'), 202),
      'GET /api/monolith/orders/ord_1': () => {
        polls++;
        return json(order('REJECTED', { rejectionReason: 'payment_declined' }));
      },
    });
    const user = userEvent.setup();
    render(<App fetch={server.fetch} />);
    await user.click(await screen.findByRole('button', { name: 'Sign in' }));
    await screen.findByTestId('signed-in-as');
    await user.click(await screen.findByRole('button', { name: 'Add SKU-0001 Compact Kettle 1 to cart' }));
    await user.click(screen.getByRole('radio', { name: /Declined card/ }));
    await user.click(screen.getByRole('button', { name: 'Place order' }));

    const placed = server.calls.find((c) => c.method === 'POST' && c.url === '/api/monolith/orders')!;
    expect(placed.body).toEqual({ items: [{ sku: 'SKU-0001', quantity: 1 }], payment: { token: 'tok_decline' } });
    expect(placed.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);

    expect(await screen.findByText(/^Payment declined by the card issuer/)).toBeTruthy();
    const poll = server.calls.find((c) => c.url === '/api/monolith/orders/ord_1')!;
    expect(poll.headers.prefer).toBe('wait=10');
    expect(polls).toBe(1);
    expect(document.querySelector('[data-order-id="ord_1"]')?.getAttribute('data-status')).toBe('REJECTED');
  });

  it('shows an order problem with its field errors and keeps the cart', async () => {
    const server = stubServer({
      ...base,
      ...SIGNED_IN,
      'GET /api/monolith/orders': () => json({ items: [], nextCursor: null }),
      'POST /api/monolith/orders': () => problem(409, 'insufficient-stock', 'Insufficient stock', 'SKU-0002 has 3 units left'),
    });
    const user = userEvent.setup();
    render(<App fetch={server.fetch} />);
    await user.click(await screen.findByRole('button', { name: 'Sign in' }));
    await screen.findByTestId('signed-in-as');
    await user.click(await screen.findByRole('button', { name: /Add SKU-0002/ }));
    await user.click(screen.getByRole('button', { name: 'Place order' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Insufficient stock');
    expect(alert.textContent).toContain('SKU-0002 has 3 units left');
    expect(screen.getByRole('button', { name: 'Remove SKU-0002 from cart' })).toBeTruthy();
  });
});
