import { act, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
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
  signal?: AbortSignal | null;
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

function stubServer(routes: Record<string, (call: Call) => Response | Promise<Response>>) {
  const calls: Call[] = [];
  const fetch: FetchLike = async (input, init = {}) => {
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const call: Call = {
      method: init.method ?? 'GET',
      url: input,
      headers,
      body: init.body ? JSON.parse(String(init.body)) : undefined,
      signal: init.signal,
    };
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

/** An answer the test sends later: `answer` is the stub's handler, `send` releases it. */
function later() {
  let send!: (response: Response) => void;
  const response = new Promise<Response>((resolve) => (send = resolve));
  return { answer: () => response, send };
}

/** An answer that never comes, like a long poll held open; it fails when the request is aborted. */
function held(call: Call) {
  return new Promise<Response>((_, reject) => call.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))));
}

function signedIn() {
  sessionStorage.setItem('archbench.session', JSON.stringify({ customerId: 'bob', token: 'a.b.c', expiresAt: new Date(Date.now() + 3600_000).toISOString() }));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const TWO_BACKENDS = {
  'GET /config.json': () =>
    json({
      backends: [
        { id: 'monolith', label: 'Modular monolith', description: 'one process' },
        { id: 'microservices', label: 'Microservices', description: 'several processes' },
      ],
      devLogin: true,
    }),
  'GET /api/monolith/health': () => json({ status: 'ok', service: 'monolith' }),
  'GET /api/microservices/health': () => json({ status: 'ok', service: 'gateway' }),
  'GET /api/monolith/products': () => json({ items: PRODUCTS, nextCursor: null }),
  'GET /api/microservices/products': () => json({ items: PRODUCTS, nextCursor: null }),
  'GET /api/microservices/orders': () => json({ items: [], nextCursor: null }),
};

const shownOrders = () => [...document.querySelectorAll('li.order')].map((li) => li.getAttribute('data-order-id'));
const orderPosts = (calls: Call[]) => calls.filter((c) => c.method === 'POST' && c.url === '/api/monolith/orders');

describe('switching backend', () => {
  it('does not show a late order list of the previous backend', async () => {
    const slowList = later();
    const server = stubServer({ ...TWO_BACKENDS, 'GET /api/monolith/orders': slowList.answer });
    signedIn();
    const user = userEvent.setup();
    render(<App fetch={server.fetch} />);
    await waitFor(() => expect(server.calls.some((c) => c.url === '/api/monolith/orders?limit=50')).toBe(true));

    await user.click(screen.getByRole('radio', { name: /Microservices/ }));
    await waitFor(() => expect(server.calls.some((c) => c.url === '/api/microservices/orders?limit=50')).toBe(true));
    slowList.send(json({ items: [order('PENDING', { id: 'mono-1' })], nextCursor: null }));
    await sleep(50);

    expect(shownOrders()).toEqual([]);
    expect(server.calls.some((c) => c.url.startsWith('/api/microservices/orders/'))).toBe(false);
  });

  it('follows a pending order only on the backend it came from', async () => {
    const server = stubServer({
      ...TWO_BACKENDS,
      'GET /api/monolith/orders': () => json({ items: [order('PENDING', { id: 'mono-1' })], nextCursor: null }),
      'GET /api/monolith/orders/mono-1': held,
    });
    signedIn();
    const user = userEvent.setup();
    render(<App fetch={server.fetch} />);
    await waitFor(() => expect(shownOrders()).toEqual(['mono-1']));
    await waitFor(() => expect(server.calls.some((c) => c.url === '/api/monolith/orders/mono-1')).toBe(true));

    await user.click(screen.getByRole('radio', { name: /Microservices/ }));
    await waitFor(() => expect(server.calls.some((c) => c.url === '/api/microservices/orders?limit=50')).toBe(true));
    await sleep(50);

    expect(server.calls.filter((c) => c.url.startsWith('/api/microservices/orders/'))).toEqual([]);
    expect(server.calls.find((c) => c.url === '/api/monolith/orders/mono-1')!.signal?.aborted).toBe(true);
    expect(shownOrders()).toEqual([]);
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('drops a catalog page and a look-up of the previous backend', async () => {
    const pageTwo = later();
    const lookUp = later();
    const server = stubServer({
      ...TWO_BACKENDS,
      'GET /api/monolith/orders': () => json({ items: [], nextCursor: null }),
      'GET /api/monolith/products': (call) => (call.url.includes('cursor=') ? pageTwo.answer() : json({ items: PRODUCTS, nextCursor: 'mono-page-2' })),
      'GET /api/monolith/products/SKU-0042': lookUp.answer,
      'GET /api/microservices/products': (call) =>
        json({
          items: call.url.includes('cursor=') ? [] : [{ ...PRODUCTS[0]!, sku: 'SKU-0100' }],
          nextCursor: call.url.includes('cursor=') ? null : 'ms-page-2',
        }),
    });
    const user = userEvent.setup();
    render(<App fetch={server.fetch} />);
    await user.click(await screen.findByRole('button', { name: 'Load more products' }));
    await user.type(screen.getByLabelText('Search by SKU or name'), 'SKU-0042');
    await user.click(screen.getByRole('button', { name: 'Look up SKU-0042' }));
    await user.clear(screen.getByLabelText('Search by SKU or name'));

    await user.click(screen.getByRole('radio', { name: /Microservices/ }));
    await waitFor(() => expect(document.querySelector('tr[data-sku="SKU-0100"]')).not.toBeNull());
    pageTwo.send(json({ items: [{ ...PRODUCTS[0]!, sku: 'SKU-0003' }], nextCursor: 'mono-page-3' }));
    lookUp.send(json({ ...PRODUCTS[0]!, sku: 'SKU-0042' }));
    await sleep(50);

    expect([...document.querySelectorAll('tr[data-sku]')].map((tr) => tr.getAttribute('data-sku'))).toEqual(['SKU-0100']);
    await user.click(screen.getByRole('button', { name: 'Load more products' }));
    const more = server.calls.filter((c) => c.url.startsWith('/api/microservices/products?') && c.url.includes('cursor='));
    expect(more.map((c) => c.url)).toEqual(['/api/microservices/products?limit=100&cursor=ms-page-2']);
  });
});

describe('placing an order again after a failure', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  /** A monolith with no orders yet whose POST /orders gives the scripted answers, one per placement. */
  function placements(answers: (() => Response)[]) {
    return stubServer({
      ...base,
      'GET /api/monolith/orders': () => json({ items: [], nextCursor: null }),
      'POST /api/monolith/orders': () => answers.shift()!(),
    });
  }

  async function openCart(server: ReturnType<typeof stubServer>) {
    signedIn();
    const user = userEvent.setup();
    render(<App fetch={server.fetch} />);
    await user.click(await screen.findByRole('button', { name: 'Add SKU-0001 Compact Kettle 1 to cart' }));
    return user;
  }

  it('resends the same Idempotency-Key after a network error or a 502, and a new one for another cart', async () => {
    const answers: (() => Response)[] = [
      () => {
        throw new TypeError('Failed to fetch');
      },
      () => new Response('<html>502 Bad Gateway</html>', { status: 502, statusText: 'Bad Gateway', headers: { 'content-type': 'text/html' } }),
      () => problem(503, 'unavailable', 'Service unavailable', 'try again'),
      () => problem(503, 'unavailable', 'Service unavailable', 'try again'),
    ];
    const server = placements(answers);
    const user = await openCart(server);

    await user.click(screen.getByRole('button', { name: 'Place order' }));
    expect((await screen.findByRole('alert')).textContent).toContain('Could not reach the server');
    await user.click(screen.getByRole('button', { name: 'Place order' }));
    expect((await screen.findByRole('alert')).textContent).toContain('502');
    await user.click(screen.getByRole('button', { name: 'Place order' }));
    await waitFor(() => expect(orderPosts(server.calls)).toHaveLength(3));
    const [first, second, third] = orderPosts(server.calls).map((c) => c.headers['idempotency-key']);
    expect(second).toBe(first);
    expect(third).toBe(first);

    await user.click(screen.getByRole('button', { name: 'Add SKU-0002 Classic Lamp 1 to cart' }));
    await user.click(screen.getByRole('button', { name: 'Place order' }));
    await waitFor(() => expect(orderPosts(server.calls)).toHaveLength(4));
    const fourth = orderPosts(server.calls)[3]!;
    expect(fourth.body).toEqual({
      items: [
        { sku: 'SKU-0001', quantity: 1 },
        { sku: 'SKU-0002', quantity: 1 },
      ],
      payment: { token: 'tok_ok' },
    });
    expect(fourth.headers['idempotency-key']).not.toBe(first);
  });

  /** 409 idempotency-in-progress, with a Retry-After (seconds) when given. */
  function inProgress(retryAfter?: string) {
    const response = problem(409, 'idempotency-in-progress', 'Request in progress', 'a request with this key is in progress');
    if (retryAfter !== undefined) response.headers.set('retry-after', retryAfter);
    return response;
  }

  it('keeps the key while the first attempt is still processed and makes a new one after a definite refusal', async () => {
    const answers: (() => Response)[] = [
      () => inProgress('0'),
      () => problem(409, 'insufficient-stock', 'Insufficient stock', 'SKU-0001 has 0 units left'),
      () => json(order('CONFIRMED'), 201),
    ];
    const server = placements(answers);
    const user = await openCart(server);

    // The 409 idempotency-in-progress is resent by itself, with the same key.
    await user.click(screen.getByRole('button', { name: 'Place order' }));
    expect((await screen.findByRole('alert')).textContent).toContain('Insufficient stock');
    await user.click(screen.getByRole('button', { name: 'Place order' }));
    await waitFor(() => expect(document.querySelector('[data-order-id="ord_1"]')).not.toBeNull());
    const [first, second, third] = orderPosts(server.calls).map((c) => c.headers['idempotency-key']);
    expect(second).toBe(first);
    expect(third).not.toBe(second);
  });

  it('resends a placement the server is still processing by itself, says so calmly, and lists the one order it answers', async () => {
    const answers: (() => Response)[] = [
      () => inProgress('0'),
      () => inProgress('0'),
      () => {
        const replayed = json(order('PENDING'), 202);
        replayed.headers.set('idempotent-replayed', 'true');
        return replayed;
      },
    ];
    const server = placements(answers);
    const user = await openCart(server);
    const said: string[] = [];
    const announcer = screen.getByTestId('announcer');
    const recorder = new MutationObserver(() => said.push(announcer.textContent ?? ''));
    recorder.observe(announcer, { childList: true, subtree: true, characterData: true });

    await user.click(screen.getByRole('button', { name: 'Place order' }));
    expect((await screen.findByTestId('placing-status')).textContent).toBe('Your earlier order is still being placed…');
    expect(screen.getByRole('button', { name: 'Placing order…' }).getAttribute('aria-disabled')).toBe('true');
    expect(screen.queryByRole('alert')).toBeNull();

    await waitFor(() => expect(shownOrders()).toEqual(['ord_1']));
    recorder.disconnect();
    expect(screen.queryByTestId('placing-status')).toBeNull();
    expect(screen.queryByRole('alert')).toBeNull();
    const keys = orderPosts(server.calls).map((c) => c.headers['idempotency-key']);
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(1);
    expect(orderPosts(server.calls).every((c) => JSON.stringify(c.body) === JSON.stringify(orderPosts(server.calls)[0]!.body))).toBe(true);
    // Said once while waiting (not per resend), then the order; focus on the new order, as after any placement.
    expect(said.filter((text) => text.startsWith('Your earlier order is still being placed'))).toHaveLength(1);
    expect(said.at(-1)).toBe('Order ord_1 is pending.');
    await waitFor(() => expect(document.activeElement).toBe(document.querySelector('li[data-order-id="ord_1"]')));
    // The outcome is certain: the key is forgotten and the cart is empty.
    expect(JSON.parse(sessionStorage.getItem('archbench.cart')!)).toMatchObject({ lines: [], placement: null });
  });

  it('goes on resending out of sight when the user switches backend during a wait, and settles the cart with the order it answers', async () => {
    const answers: (() => Response)[] = [() => inProgress('1'), () => json(order('CONFIRMED'), 201)];
    const server = stubServer({
      ...TWO_BACKENDS,
      'GET /api/monolith/orders': () => json({ items: [], nextCursor: null }),
      'POST /api/monolith/orders': () => answers.shift()!(),
    });
    const user = await openCart(server);
    await user.click(screen.getByRole('button', { name: 'Place order' }));
    await screen.findByTestId('placing-status');
    await user.click(screen.getByRole('radio', { name: /Microservices/ }));

    // The new view does not send the cart while the monolith's placement is unresolved, and says why.
    expect((await screen.findByRole('button', { name: 'Place order' })).getAttribute('aria-disabled')).toBe('true');
    expect(screen.getByTestId('placing-elsewhere').textContent).toMatch(/^An order of this cart is still being placed on Modular monolith for bob…/);
    expect(screen.queryByTestId('placing-status')).toBeNull();
    expect(screen.queryByRole('alert')).toBeNull();
    // The resend after Retry-After still goes to the monolith, and its order empties the cart and settles the key.
    await waitFor(() => expect(JSON.parse(sessionStorage.getItem('archbench.cart')!)).toMatchObject({ lines: [], placement: null }), { timeout: 3000 });
    const [first, second] = orderPosts(server.calls).map((c) => c.headers['idempotency-key']);
    expect(second).toBe(first);
    expect(server.calls.filter((c) => c.method === 'POST' && c.url === '/api/microservices/orders')).toEqual([]);
    expect(document.querySelector('[data-order-id="ord_1"]')).toBeNull();
    expect(screen.getByTestId('announcer').textContent).toBe('An order placed earlier on Modular monolith for bob went through: its lines left the cart.');
    expect(screen.queryByTestId('placing-elsewhere')).toBeNull();
  });

  it('lets another backend place the cart once the resends give up, with a note that the earlier order may have gone through', async () => {
    const server = stubServer({
      ...TWO_BACKENDS,
      'GET /api/monolith/orders': () => json({ items: [], nextCursor: null }),
      'POST /api/monolith/orders': () => inProgress('0'),
    });
    const user = await openCart(server);
    await user.click(screen.getByRole('button', { name: 'Place order' }));
    await screen.findByTestId('placing-status');
    await user.click(screen.getByRole('radio', { name: /Microservices/ }));
    expect((await screen.findByRole('button', { name: 'Place order' })).getAttribute('aria-disabled')).toBe('true');

    // Seven answers of 409, 0.25 s apart: the resends give up, and the key stays with the monolith's placement.
    await waitFor(() => expect(screen.getByRole('button', { name: 'Place order' }).getAttribute('aria-disabled')).toBeNull(), { timeout: 4000 });
    expect(orderPosts(server.calls)).toHaveLength(7);
    const note = screen.getByTestId('placed-elsewhere');
    expect(note.textContent).toMatch(/^An earlier order of this cart may have gone through on Modular monolith for bob: .* place it again there/);
    expect(screen.getByRole('button', { name: 'Place order' }).getAttribute('aria-describedby')).toBe(note.id);
    const key = orderPosts(server.calls)[0]!.headers['idempotency-key'];
    expect(JSON.parse(sessionStorage.getItem('archbench.cart')!)).toMatchObject({ placement: { key, backend: 'monolith', customerId: 'bob', underWay: null } });
  });

  it('places an order with a valid key where crypto.randomUUID does not exist (plain http)', async () => {
    const webCrypto = globalThis.crypto;
    vi.stubGlobal('crypto', { getRandomValues: <T extends ArrayBufferView>(array: T) => webCrypto.getRandomValues(array) });
    expect(typeof (globalThis.crypto as Partial<Crypto>).randomUUID).toBe('undefined');
    const server = stubServer({
      ...base,
      'GET /api/monolith/orders': () => json({ items: [], nextCursor: null }),
      'POST /api/monolith/orders': () => json(order('CONFIRMED'), 201),
    });
    const user = await openCart(server);
    await user.click(screen.getByRole('button', { name: 'Place order' }));

    await waitFor(() => expect(document.querySelector('[data-order-id="ord_1"]')).not.toBeNull());
    expect(screen.queryByRole('alert')).toBeNull();
    expect(orderPosts(server.calls)[0]!.headers['idempotency-key']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('the cart', () => {
  const total = () => screen.getByText(/^Total:/).textContent;

  it('shows no NaN total while a quantity field is empty, and does not send it', async () => {
    const server = stubServer({ ...base, ...SIGNED_IN, 'GET /api/monolith/orders': () => json({ items: [], nextCursor: null }) });
    signedIn();
    const user = userEvent.setup();
    render(<App fetch={server.fetch} />);
    await user.click(await screen.findByRole('button', { name: 'Add SKU-0001 Compact Kettle 1 to cart' }));
    await user.click(screen.getByRole('button', { name: 'Add SKU-0002 Classic Lamp 1 to cart' }));
    expect(total()).toBe('Total: €45.98');

    await user.clear(screen.getByLabelText('Quantity of SKU-0001'));
    expect(total()).toBe('Total: €25.99');
    expect(screen.getByRole('button', { name: 'Place order' })).toHaveProperty('disabled', true);
    await user.type(screen.getByLabelText('Quantity of SKU-0001'), '2');
    expect(total()).toBe('Total: €65.97');
  });

  it('removes only what was ordered: a product added while the order was placed stays', async () => {
    const placed = later();
    const server = stubServer({
      ...base,
      'GET /api/monolith/orders': () => json({ items: [], nextCursor: null }),
      'POST /api/monolith/orders': placed.answer,
    });
    signedIn();
    const user = userEvent.setup();
    render(<App fetch={server.fetch} />);
    await user.click(await screen.findByRole('button', { name: 'Add SKU-0001 Compact Kettle 1 to cart' }));
    await user.click(screen.getByRole('button', { name: 'Place order' }));
    expect(screen.getByRole('button', { name: 'Placing order…' })).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Add SKU-0002 Classic Lamp 1 to cart' }));
    await user.click(screen.getByRole('button', { name: 'Add SKU-0001 Compact Kettle 1 to cart' }));

    placed.send(json(order('CONFIRMED'), 201));
    await waitFor(() => expect(document.querySelector('[data-order-id="ord_1"]')).not.toBeNull());
    const lines = [...document.querySelectorAll('.cart-lines li')].map((li) => [
      li.getAttribute('data-sku'),
      (li.querySelector('input') as HTMLInputElement).value,
    ]);
    expect(lines).toEqual([
      ['SKU-0001', '1'],
      ['SKU-0002', '1'],
    ]);
  });
});

describe('older orders', () => {
  const newest = [order('CONFIRMED', { id: 'ord_3' }), order('CONFIRMED', { id: 'ord_2' })];
  const oldest = [order('CONFIRMED', { id: 'ord_1' })];
  /** Two pages of orders on the monolith: the first has cursor c1, the second none. */
  const pages = (call: Call) => (call.url.includes('cursor=c1') ? json({ items: oldest, nextCursor: null }) : json({ items: newest, nextCursor: 'c1' }));

  it('appends the next page with the API’s cursor, and hides "Show older orders" at the end', async () => {
    const server = stubServer({ ...base, 'GET /api/monolith/orders': pages });
    signedIn();
    const user = userEvent.setup();
    render(<App fetch={server.fetch} />);
    await waitFor(() => expect(shownOrders()).toEqual(['ord_3', 'ord_2']));

    await user.click(screen.getByRole('button', { name: 'Show older orders' }));
    await waitFor(() => expect(shownOrders()).toEqual(['ord_3', 'ord_2', 'ord_1']));
    expect(server.calls.filter((c) => c.url.startsWith('/api/monolith/orders?')).map((c) => c.url)).toEqual([
      '/api/monolith/orders?limit=50',
      '/api/monolith/orders?limit=50&cursor=c1',
    ]);
    expect(screen.queryByRole('button', { name: 'Show older orders' })).toBeNull();
    expect(screen.getByTestId('announcer').textContent).toBe('Showing 1 older order.');
  });

  it('reloads only the first page on Refresh', async () => {
    const server = stubServer({ ...base, 'GET /api/monolith/orders': pages });
    signedIn();
    const user = userEvent.setup();
    render(<App fetch={server.fetch} />);
    await user.click(await screen.findByRole('button', { name: 'Show older orders' }));
    await waitFor(() => expect(shownOrders()).toEqual(['ord_3', 'ord_2', 'ord_1']));

    await user.click(screen.getByRole('button', { name: 'Refresh' }));
    await waitFor(() => expect(shownOrders()).toEqual(['ord_3', 'ord_2']));
    expect(screen.getByRole('button', { name: 'Show older orders' })).toBeTruthy();
  });

  it('says why when an older page cannot be loaded, keeps the orders shown and lets the user try again', async () => {
    let fail = true;
    const server = stubServer({
      ...base,
      'GET /api/monolith/orders': (call) =>
        call.url.includes('cursor=') && fail ? problem(503, 'unavailable', 'Service unavailable', 'the orders database is busy') : pages(call),
    });
    signedIn();
    const user = userEvent.setup();
    render(<App fetch={server.fetch} />);
    await user.click(await screen.findByRole('button', { name: 'Show older orders' }));

    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Could not load older orders');
    expect(alert.textContent).toContain('Service unavailable: the orders database is busy');
    expect(shownOrders()).toEqual(['ord_3', 'ord_2']);
    fail = false;
    await user.click(screen.getByRole('button', { name: 'Show older orders' }));
    await waitFor(() => expect(shownOrders()).toEqual(['ord_3', 'ord_2', 'ord_1']));
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('drops an older page of the previous backend, and aborts its request', async () => {
    const olderPage = later();
    const server = stubServer({
      ...TWO_BACKENDS,
      'GET /api/monolith/orders': (call) => (call.url.includes('cursor=') ? olderPage.answer() : pages(call)),
    });
    signedIn();
    const user = userEvent.setup();
    render(<App fetch={server.fetch} />);
    await user.click(await screen.findByRole('button', { name: 'Show older orders' }));
    expect(screen.getByRole('button', { name: 'Loading older orders…' })).toBeTruthy();

    await user.click(screen.getByRole('radio', { name: /Microservices/ }));
    await waitFor(() => expect(server.calls.some((c) => c.url === '/api/microservices/orders?limit=50')).toBe(true));
    olderPage.send(json({ items: oldest, nextCursor: null }));
    await sleep(50);

    expect(server.calls.find((c) => c.url === '/api/monolith/orders?limit=50&cursor=c1')!.signal?.aborted).toBe(true);
    expect(shownOrders()).toEqual([]);
    expect(screen.queryByRole('button', { name: /older orders/ })).toBeNull();
    expect(screen.queryByRole('alert')).toBeNull();
  });
});

describe('the cart across view switches and reloads', () => {
  afterEach(() => window.history.replaceState(null, '', '/'));

  const cartLines = () =>
    [...document.querySelectorAll('.cart-lines li')].map((li) => [li.getAttribute('data-sku'), (li.querySelector('input') as HTMLInputElement).value]);

  /** Follows a link of the view navigation, as a click on it does in a browser. */
  async function goTo(view: 'Order console' | 'Concurrency lab' | 'Report viewer') {
    const href = screen.getByRole('link', { name: view }).getAttribute('href')!;
    await act(async () => {
      window.history.replaceState(null, '', `/${href}`);
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    });
  }

  const noOrders = { ...base, 'GET /api/monolith/orders': () => json({ items: [], nextCursor: null }) };

  it('keeps the cart and the payment token when the user goes to another view and back', async () => {
    const server = stubServer(noOrders);
    signedIn();
    const user = userEvent.setup();
    render(<App fetch={server.fetch} />);
    await user.click(await screen.findByRole('button', { name: 'Add SKU-0001 Compact Kettle 1 to cart' }));
    await user.click(screen.getByRole('button', { name: 'Add SKU-0002 Classic Lamp 1 to cart' }));
    await user.clear(screen.getByLabelText('Quantity of SKU-0001'));
    await user.type(screen.getByLabelText('Quantity of SKU-0001'), '3');
    await user.click(screen.getByRole('radio', { name: /Declined card/ }));

    await goTo('Report viewer');
    expect(screen.queryByRole('heading', { name: 'Cart' })).toBeNull();
    await goTo('Order console');
    await screen.findByRole('heading', { name: 'Cart' });
    expect(cartLines()).toEqual([
      ['SKU-0001', '3'],
      ['SKU-0002', '1'],
    ]);
    expect(screen.getByRole('radio', { name: /Declined card/ })).toHaveProperty('checked', true);
    expect(screen.getByText(/^Total:/).textContent).toBe('Total: €85.96');
  });

  it('keeps them across a reload', async () => {
    const server = stubServer(noOrders);
    signedIn();
    const user = userEvent.setup();
    const first = render(<App fetch={server.fetch} />);
    await user.click(await screen.findByRole('button', { name: 'Add SKU-0002 Classic Lamp 1 to cart' }));
    await user.click(screen.getByRole('radio', { name: /Slow provider/ }));
    first.unmount();

    render(<App fetch={server.fetch} />);
    await screen.findByRole('heading', { name: 'Cart' });
    expect(cartLines()).toEqual([['SKU-0002', '1']]);
    expect(screen.getByRole('radio', { name: /Slow provider/ })).toHaveProperty('checked', true);
  });

  it.each([
    ['not JSON', '{"version":1,"lines":['],
    ['of another version', JSON.stringify({ version: 0, items: [{ sku: 'SKU-0001', quantity: 1 }], token: 'tok_ok' })],
    [
      'with a wrong field',
      JSON.stringify({ version: 1, lines: [{ sku: 'SKU-0001', name: 'x', priceCents: 1999, quantity: 'one' }], payment: 'tok_ok', placement: null }),
    ],
    ['with an unknown payment token', JSON.stringify({ version: 1, lines: [], payment: 'tok_gold', placement: null })],
  ])('starts with an empty cart when the stored one is %s, and stores the next change', async (_, stored) => {
    sessionStorage.setItem('archbench.cart', stored);
    const server = stubServer(noOrders);
    signedIn();
    const user = userEvent.setup();
    render(<App fetch={server.fetch} />);
    expect(await screen.findByText(/^The cart is empty/)).toBeTruthy();
    expect(screen.getByRole('radio', { name: /Good card/ })).toHaveProperty('checked', true);

    await user.click(await screen.findByRole('button', { name: 'Add SKU-0001 Compact Kettle 1 to cart' }));
    expect(JSON.parse(sessionStorage.getItem('archbench.cart')!)).toMatchObject({ version: 1, lines: [{ sku: 'SKU-0001', quantity: 1 }], payment: 'tok_ok' });
  });

  /** Places the cart's order with POST /orders held open and goes to the report viewer; returns the held answer. */
  async function placeAndLeave(routes: Record<string, (call: Call) => Response | Promise<Response>> = {}) {
    const placed = later();
    const server = stubServer({ ...noOrders, 'POST /api/monolith/orders': placed.answer, ...routes });
    signedIn();
    const user = userEvent.setup();
    render(<App fetch={server.fetch} />);
    await user.click(await screen.findByRole('button', { name: 'Add SKU-0001 Compact Kettle 1 to cart' }));
    await user.click(screen.getByRole('button', { name: 'Place order' }));
    await goTo('Report viewer');
    return { placed, server };
  }

  it('takes what was ordered out of the stored cart, even when the answer comes while another view is shown', async () => {
    const { placed } = await placeAndLeave();
    await act(async () => {
      placed.send(json(order('CONFIRMED'), 201));
      await sleep(20);
    });

    await goTo('Order console');
    expect(await screen.findByText(/^The cart is empty/)).toBeTruthy();
    expect(JSON.parse(sessionStorage.getItem('archbench.cart')!)).toMatchObject({ lines: [], placement: null });
  });

  /** placeAndLeave, then back to the console; returns the held answer and the list requests made. */
  async function placeLeaveAndComeBack(routes: Record<string, (call: Call) => Response | Promise<Response>> = {}) {
    const { placed, server } = await placeAndLeave(routes);
    await goTo('Order console');
    await screen.findByRole('heading', { name: 'Your orders' });
    const lists = () => server.calls.filter((c) => c.method === 'GET' && c.url.startsWith('/api/monolith/orders?'));
    await waitFor(() => expect(lists()).toHaveLength(2));
    return { placed, lists };
  }

  it('lists an order whose placement is answered after the user came back to the console, without a Refresh', async () => {
    const { placed, lists } = await placeLeaveAndComeBack();
    expect(shownOrders()).toEqual([]);
    await act(async () => {
      placed.send(json(order('CONFIRMED'), 201));
      await sleep(20);
    });
    expect(document.querySelector('[data-order-id="ord_1"]')?.getAttribute('data-status')).toBe('CONFIRMED');
    expect(screen.getByTestId('announcer').textContent).toBe('Order ord_1 is confirmed.');
    expect(lists()).toHaveLength(2);
    expect(await screen.findByText(/^The cart is empty/)).toBeTruthy();
  });

  it('follows an order answered 202 PENDING after the user came back, until it is confirmed', async () => {
    const poll = later();
    const { placed } = await placeLeaveAndComeBack({ 'GET /api/monolith/orders/ord_1': poll.answer });
    await act(async () => {
      placed.send(json(order('PENDING'), 202));
      await sleep(20);
    });
    expect(document.querySelector('[data-order-id="ord_1"]')?.getAttribute('data-status')).toBe('PENDING');
    await act(async () => {
      poll.send(json(order('CONFIRMED', { updatedAt: '2025-01-01T10:00:05.000Z' })));
      await sleep(20);
    });
    expect(document.querySelector('[data-order-id="ord_1"]')?.getAttribute('data-status')).toBe('CONFIRMED');
  });

  it('keeps an order answered while the list was being read, when the list read predates it', async () => {
    const list = later();
    let lists = 0;
    const { placed } = await placeLeaveAndComeBack({
      // The first page (before leaving) comes at once; the one read on coming back is held.
      'GET /api/monolith/orders': () => (++lists === 1 ? json({ items: [], nextCursor: null }) : list.answer()),
    });
    await act(async () => {
      placed.send(json(order('CONFIRMED'), 201));
      await sleep(20);
    });
    await act(async () => {
      list.send(json({ items: [order('CONFIRMED', { id: 'ord_0' })], nextCursor: null }));
      await sleep(20);
    });
    expect(shownOrders()).toEqual(['ord_1', 'ord_0']);
  });

  it('resends the same Idempotency-Key after an uncertain failure, a view switch and a reload', async () => {
    const answers: (() => Response)[] = [
      () => {
        throw new TypeError('Failed to fetch');
      },
      () => json(order('CONFIRMED'), 201),
    ];
    const server = stubServer({ ...noOrders, 'POST /api/monolith/orders': () => answers.shift()!() });
    signedIn();
    const user = userEvent.setup();
    const first = render(<App fetch={server.fetch} />);
    await user.click(await screen.findByRole('button', { name: 'Add SKU-0001 Compact Kettle 1 to cart' }));
    await user.click(screen.getByRole('button', { name: 'Place order' }));
    expect((await screen.findByRole('alert')).textContent).toContain('Could not reach the server');
    await goTo('Concurrency lab');
    await goTo('Order console');
    first.unmount();

    render(<App fetch={server.fetch} />);
    await user.click(await screen.findByRole('button', { name: 'Place order' }));
    await waitFor(() => expect(document.querySelector('[data-order-id="ord_1"]')).not.toBeNull());
    const [firstKey, secondKey] = orderPosts(server.calls).map((c) => c.headers['idempotency-key']);
    expect(secondKey).toBe(firstKey);
    expect(JSON.parse(sessionStorage.getItem('archbench.cart')!)).toMatchObject({ lines: [], placement: null });
  });
});

describe('keyboard focus', () => {
  const noOrders = { ...base, ...SIGNED_IN, 'GET /api/monolith/orders': () => json({ items: [], nextCursor: null }) };

  it('moves focus to the catalog after sign-in and to the sign-in form after sign-out', async () => {
    const server = stubServer(noOrders);
    const user = userEvent.setup();
    render(<App fetch={server.fetch} />);
    await user.click(await screen.findByRole('button', { name: 'Sign in' }));
    await screen.findByTestId('signed-in-as');
    expect(document.activeElement).toBe(screen.getByRole('heading', { name: 'Catalog' }));

    await user.click(screen.getByRole('button', { name: 'Sign out' }));
    expect(document.activeElement).toBe(screen.getByRole('heading', { name: 'Sign in' }));
    await user.tab();
    expect(document.activeElement).toBe(screen.getByLabelText('Demo customer id'));
  });

  it('keeps focus on Place order while the order is placed, then moves it to the new order', async () => {
    const placed = later();
    const server = stubServer({ ...noOrders, 'POST /api/monolith/orders': placed.answer });
    signedIn();
    const user = userEvent.setup();
    render(<App fetch={server.fetch} />);
    await user.click(await screen.findByRole('button', { name: 'Add SKU-0001 Compact Kettle 1 to cart' }));
    await user.click(screen.getByRole('button', { name: 'Place order' }));
    // Not `disabled`: a disabled button loses focus (to <body> in browsers); a second press is ignored.
    const button = screen.getByRole('button', { name: 'Placing order…' });
    expect(button.getAttribute('aria-disabled')).toBe('true');
    expect(button).toHaveProperty('disabled', false);
    expect(document.activeElement).toBe(button);
    await user.keyboard('{Enter}');
    expect(orderPosts(server.calls)).toHaveLength(1);

    placed.send(json(order('CONFIRMED'), 201));
    await waitFor(() => expect(document.activeElement).toBe(document.querySelector('li[data-order-id="ord_1"]')));
  });

  it('leaves focus where the user moved it while the order was placed', async () => {
    const placed = later();
    const server = stubServer({ ...noOrders, 'POST /api/monolith/orders': placed.answer });
    signedIn();
    const user = userEvent.setup();
    render(<App fetch={server.fetch} />);
    await user.click(await screen.findByRole('button', { name: 'Add SKU-0001 Compact Kettle 1 to cart' }));
    await user.click(screen.getByRole('button', { name: 'Place order' }));
    await user.click(screen.getByLabelText('Search by SKU or name'));

    placed.send(json(order('CONFIRMED'), 201));
    await waitFor(() => expect(document.querySelector('li[data-order-id="ord_1"]')).not.toBeNull());
    await sleep(20);
    expect(document.activeElement).toBe(screen.getByLabelText('Search by SKU or name'));
  });

  it('keeps focus on Sign in while signing in and after a refused sign-in; a second press is ignored', async () => {
    const minted = later();
    const server = stubServer({ ...base, 'POST /dev/token': minted.answer });
    const user = userEvent.setup();
    render(<App fetch={server.fetch} />);
    await user.click(await screen.findByRole('button', { name: 'Sign in' }));
    // Not `disabled`: a disabled button loses focus (to <body> in browsers), and a refused sign-in left it there.
    const button = screen.getByRole('button', { name: 'Signing in…' });
    expect(button.getAttribute('aria-disabled')).toBe('true');
    expect(button).toHaveProperty('disabled', false);
    expect(document.activeElement).toBe(button);
    await user.keyboard('{Enter}');
    expect(server.calls.filter((c) => c.url === '/dev/token')).toHaveLength(1);

    minted.send(problem(403, 'forbidden', 'Demo sign-in is off', 'This server has a real AUTH_SECRET'));
    await screen.findByRole('alert');
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Sign in' }));
  });

  it('keeps focus on Cancel order while cancelling, then on the cancelled order; a second press sends nothing', async () => {
    const cancelled = later();
    const server = stubServer({
      ...base,
      'GET /api/monolith/orders': () => json({ items: [order('CONFIRMED')], nextCursor: null }),
      'POST /api/monolith/orders/ord_1/cancel': cancelled.answer,
    });
    signedIn();
    const user = userEvent.setup();
    render(<App fetch={server.fetch} />);
    await user.click(await screen.findByRole('button', { name: 'Cancel order ord_1' }));
    // Not `disabled`: a disabled button loses focus (to <body> in browsers).
    const button = screen.getByRole('button', { name: 'Cancel order ord_1' });
    expect(button.textContent).toBe('Cancelling…');
    expect(button.getAttribute('aria-disabled')).toBe('true');
    expect(button).toHaveProperty('disabled', false);
    expect(document.activeElement).toBe(button);
    await user.keyboard('{Enter}');
    expect(server.calls.filter((c) => c.url.endsWith('/cancel'))).toHaveLength(1);

    cancelled.send(json(order('CANCELLED')));
    await waitFor(() => expect(document.querySelector('li[data-order-id="ord_1"]')?.getAttribute('data-status')).toBe('CANCELLED'));
    await waitFor(() => expect(document.activeElement).toBe(document.querySelector('li[data-order-id="ord_1"]')));
  });

  it('keeps focus on Load more products while the page loads; a second press sends nothing', async () => {
    const pageTwo = later();
    const server = stubServer({
      ...base,
      'GET /api/monolith/products': (call) => (call.url.includes('cursor=') ? pageTwo.answer() : json({ items: PRODUCTS, nextCursor: 'page-2' })),
    });
    const user = userEvent.setup();
    render(<App fetch={server.fetch} />);
    const button = await screen.findByRole('button', { name: 'Load more products' });
    await user.click(button);
    expect(button.getAttribute('aria-disabled')).toBe('true');
    expect(button).toHaveProperty('disabled', false);
    expect(document.activeElement).toBe(button);
    await user.keyboard('{Enter}');
    expect(server.calls.filter((c) => c.url.includes('cursor=page-2'))).toHaveLength(1);

    pageTwo.send(json({ items: [{ ...PRODUCTS[0]!, sku: 'SKU-0003' }], nextCursor: 'page-3' }));
    await waitFor(() => expect(document.querySelector('tr[data-sku="SKU-0003"]')).not.toBeNull());
    expect(button.getAttribute('aria-disabled')).toBeNull();
    expect(document.activeElement).toBe(button);
  });

  it('moves focus to the first order of the last older page, which removes the button', async () => {
    const server = stubServer({
      ...base,
      'GET /api/monolith/orders': (call) =>
        call.url.includes('cursor=c1')
          ? json({ items: [order('CONFIRMED', { id: 'ord_1' })], nextCursor: null })
          : json({ items: [order('CONFIRMED', { id: 'ord_2' })], nextCursor: 'c1' }),
    });
    signedIn();
    const user = userEvent.setup();
    render(<App fetch={server.fetch} />);
    await user.click(await screen.findByRole('button', { name: 'Show older orders' }));
    await waitFor(() => expect(document.activeElement).toBe(document.querySelector('li[data-order-id="ord_1"]')));
  });
});

describe('what the live regions say', () => {
  /** Every text added to the element from now on, in order: what a polite live region speaks (additions and text changes). */
  function spoken(element: HTMLElement) {
    const said: string[] = [];
    const observer = new MutationObserver((records) => {
      for (const record of records) {
        const added = record.type === 'characterData' ? [record.target] : [...record.addedNodes];
        for (const node of added) if (node.textContent) said.push(node.textContent);
      }
    });
    observer.observe(element, { subtree: true, childList: true, characterData: true });
    return { said, stop: () => observer.disconnect() };
  }

  /** A signed-in console with no orders yet; records what its announcer says from the moment the catalog shows. */
  async function listenToConsole(routes: Record<string, (call: Call) => Response | Promise<Response>> = {}) {
    const server = stubServer({ ...base, 'GET /api/monolith/orders': () => json({ items: [], nextCursor: null }), ...routes });
    signedIn();
    const user = userEvent.setup();
    render(<App fetch={server.fetch} />);
    const kettle = await screen.findByRole('button', { name: 'Add SKU-0001 Compact Kettle 1 to cart' });
    return { user, kettle, announcer: spoken(screen.getByTestId('announcer')) };
  }

  it('says the cart’s count and total once after a burst of adds, not once per click', async () => {
    const { user, kettle, announcer } = await listenToConsole();
    await user.click(kettle);
    await user.click(kettle);
    await user.click(screen.getByRole('button', { name: 'Add SKU-0002 Classic Lamp 1 to cart' }));
    expect(announcer.said).toEqual([]);
    await waitFor(() => expect(announcer.said).toEqual(['Cart: 3 items, total €65.97.']), { timeout: 3000 });
    await sleep(1200);
    expect(announcer.said).toEqual(['Cart: 3 items, total €65.97.']);

    // A second burst with the same outcome is said again (a new node in the live region).
    await user.click(screen.getByRole('button', { name: 'Remove SKU-0002 from cart' }));
    await user.click(screen.getByRole('button', { name: 'Add SKU-0002 Classic Lamp 1 to cart' }));
    await waitFor(() => expect(announcer.said).toEqual(['Cart: 3 items, total €65.97.', 'Cart: 3 items, total €65.97.']), { timeout: 3000 });
    announcer.stop();
  });

  it('says the order, not the cart, when Place order comes within the burst', async () => {
    const { user, kettle, announcer } = await listenToConsole({ 'POST /api/monolith/orders': () => json(order('CONFIRMED'), 201) });
    await user.click(kettle);
    await user.click(screen.getByRole('button', { name: 'Place order' }));
    await waitFor(() => expect(announcer.said).toEqual(['Order ord_1 is confirmed.']));
    await sleep(1200);
    expect(announcer.said).toEqual(['Order ord_1 is confirmed.']);
    announcer.stop();
  });

  it('says the catalog’s match count once typing pauses, while the count on screen follows each keystroke', async () => {
    const server = stubServer(base);
    const user = userEvent.setup();
    render(<App fetch={server.fetch} />);
    await screen.findByRole('button', { name: 'Add SKU-0001 Compact Kettle 1 to cart' });
    const live = screen.getByTestId('catalog-count-spoken');
    await waitFor(() => expect(live.textContent).toBe('2 of 2 loaded products match.'), { timeout: 3000 });
    const region = spoken(live);
    await user.type(screen.getByLabelText('Search by SKU or name'), 'lamp');
    expect(screen.getByTestId('catalog-count').textContent).toBe('1 of 2 loaded products match.');
    expect(region.said).toEqual([]);
    await waitFor(() => expect(region.said).toEqual(['1 of 2 loaded products match.']), { timeout: 3000 });
    expect(live.getAttribute('aria-live')).toBe('polite');
    region.stop();
  });
});
