import { act, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Order } from '@archbench/contracts/schemas';
import { App } from '../App';
import { PLACE_ORDER_TIMEOUT_MS } from '../api/client';

// The console against a real HTTP server through the real fetch (not a stub), which places
// orders by Idempotency-Key as the API does: a request closed before its answer is seen, and the
// orders counted are the ones the server placed.
// Type-checked by tsconfig.node.json (Node's types), not by tsconfig.json.

const PRODUCTS = [
  { sku: 'SKU-0001', name: 'Compact Kettle 1', priceCents: 1999, currency: 'EUR', stock: 100 },
  { sku: 'SKU-0002', name: 'Classic Lamp 1', priceCents: 2599, currency: 'EUR', stock: 100 },
];

interface Placement {
  items: { sku: string; quantity: number }[];
  payment?: { token: string };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json', ...headers }).end(JSON.stringify(body));
}

async function bodyOf(req: IncomingMessage): Promise<Placement> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return JSON.parse(text) as Placement;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const servers: Server[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  window.history.replaceState(null, '', '/');
  await Promise.all(
    servers.splice(0).map((server) => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    }),
  );
});

/**
 * A monolith and a microservices backend on a free port. The monolith places orders by
 * Idempotency-Key: the first key it sees is taken as one whose first request (sent before a
 * reload, say) is still being placed, so it answers 409 idempotency-in-progress and holds the
 * resends until `finishPlacing()`, which places the order and answers them with it (replayed).
 * Any other new key places an order at once; a known key answers its order again. The
 * microservices place every new key at once (`microservicesOrders`): they never saw the monolith's.
 * A tok_decline payment places a REJECTED order. With `holdPosts`, the monolith answers no
 * placement until `answerHeld` (a stalled connection, say).
 */
async function backends({ holdPosts = false } = {}) {
  const orders: { key: string; order: Order }[] = [];
  const microservicesPosts: string[] = [];
  const microservicesOrders: { key: string; order: Order }[] = [];
  let beingPlaced: { key: string; body: Placement; held: ServerResponse[] } | null = null;
  let resendsHeld = 0;
  let resendsClosedUnanswered = 0;
  let resendArrived!: () => void;
  const resendUnderWay = new Promise<void>((resolve) => (resendArrived = resolve));
  const heldPosts: ServerResponse[] = [];
  let postArrived!: () => void;
  const postHeld = new Promise<void>((resolve) => (postArrived = resolve));

  const place = (key: string, body: Placement, on = orders, prefix = 'ord'): Order => {
    const now = new Date().toISOString();
    const items = body.items.map(({ sku, quantity }) => ({ sku, quantity, unitPriceCents: PRODUCTS.find((p) => p.sku === sku)!.priceCents }));
    const declined = body.payment?.token === 'tok_decline';
    const order: Order = {
      id: `${prefix}_${on.length + 1}`,
      customerId: 'bob',
      status: declined ? 'REJECTED' : 'CONFIRMED',
      items,
      totalCents: items.reduce((sum, i) => sum + i.quantity * i.unitPriceCents, 0),
      currency: 'EUR',
      paymentStatus: declined ? 'DECLINED' : 'CAPTURED',
      rejectionReason: declined ? 'payment_declined' : null,
      createdAt: now,
      updatedAt: now,
    };
    on.unshift({ key, order });
    return order;
  };

  const server = createServer((req, res) => {
    void (async () => {
      const route = `${req.method} ${req.url?.split('?')[0]}`;
      const key = String(req.headers['idempotency-key']);
      if (route === 'GET /config.json') {
        send(res, 200, {
          backends: [
            { id: 'monolith', label: 'Modular monolith', description: 'one process' },
            { id: 'microservices', label: 'Microservices', description: 'several processes' },
          ],
          devLogin: true,
        });
      } else if (route.endsWith('/health')) send(res, 200, { status: 'ok', service: 'x' });
      else if (route.endsWith('/products')) send(res, 200, { items: PRODUCTS, nextCursor: null });
      else if (route === 'GET /api/monolith/orders') send(res, 200, { items: orders.map((o) => o.order), nextCursor: null });
      else if (route === 'GET /api/microservices/orders') send(res, 200, { items: microservicesOrders.map((o) => o.order), nextCursor: null });
      else if (route === 'POST /api/microservices/orders') {
        microservicesPosts.push(key);
        const body = await bodyOf(req);
        const known = microservicesOrders.find((o) => o.key === key);
        if (known) send(res, 201, known.order, { 'idempotent-replayed': 'true' });
        else send(res, 201, place(key, body, microservicesOrders, 'ms'));
      } else if (route === 'POST /api/monolith/orders') {
        const body = await bodyOf(req);
        const known = orders.find((o) => o.key === key);
        if (holdPosts) {
          heldPosts.push(res);
          postArrived();
        } else if (known) send(res, 201, known.order, { 'idempotent-replayed': 'true' });
        else if (!beingPlaced && orders.length === 0) {
          beingPlaced = { key, body, held: [] };
          send(res, 409, { title: 'Request in progress', status: 409, detail: 'in progress', code: 'idempotency-in-progress' }, { 'retry-after': '0' });
        } else if (beingPlaced?.key === key) {
          resendsHeld++;
          res.on('close', () => {
            if (!res.writableFinished) resendsClosedUnanswered++;
          });
          beingPlaced.held.push(res);
          resendArrived();
        } else send(res, 201, place(key, body));
      } else send(res, 404, { title: 'Not found', status: 404, detail: route, code: 'not-found' });
    })();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    fetch: (input: string, init?: RequestInit) => fetch(`http://127.0.0.1:${port}${input}`, init),
    orders,
    microservicesPosts,
    microservicesOrders,
    resendUnderWay,
    resendsHeld: () => resendsHeld,
    resendsClosedUnanswered: () => resendsClosedUnanswered,
    postHeld,
    heldPosts,
    /** Answers the held placements (holdPosts) with a problem. */
    answerHeld(status: number, problem: object) {
      for (const res of heldPosts.splice(0)) if (res.writable) send(res, status, problem);
    },
    /** The earlier request's order is placed: the held resends get it. */
    finishPlacing() {
      const { key, body, held } = beingPlaced!;
      const order = place(key, body);
      for (const res of held) if (res.writable) send(res, 201, order, { 'idempotent-replayed': 'true' });
      beingPlaced = null;
    },
  };
}

/** Follows a link of the view navigation, as a click on it does in a browser. */
async function goTo(view: 'Order console' | 'Report viewer') {
  const href = screen.getByRole('link', { name: view }).getAttribute('href')!;
  await act(async () => {
    window.history.replaceState(null, '', `/${href}`);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  });
}

const storedCart = () => JSON.parse(sessionStorage.getItem('archbench.cart') ?? 'null') as { lines: unknown[]; placement: unknown } | null;

/** The stored cart's lines, as "quantity × SKU". */
const storedLines = () => ((storedCart()?.lines ?? []) as { sku: string; quantity: number }[]).map(({ sku, quantity }) => `${quantity} × ${sku}`);

/** What each order holds, as "quantity × SKU". */
const itemsOf = (placed: { order: Order }[]) => placed.map(({ order }) => order.items.map(({ sku, quantity }) => `${quantity} × ${sku}`));

/** Records what the console's live region says from now on. */
function recordAnnouncements(): string[] {
  const said: string[] = [];
  const announcer = screen.getByTestId('announcer');
  new MutationObserver(() => said.push(announcer.textContent ?? '')).observe(announcer, { childList: true, subtree: true, characterData: true });
  return said;
}

describe('a placement resent while in progress, when the user leaves it', () => {
  it.each(['switches backend', 'goes to another view'] as const)(
    'still settles the cart when the user %s mid-resend, shows no order there, and orders nothing twice',
    async (how) => {
      const server = await backends();
      sessionStorage.setItem(
        'archbench.session',
        JSON.stringify({ customerId: 'bob', token: 'a.b.c', expiresAt: new Date(Date.now() + 3600_000).toISOString() }),
      );
      const user = userEvent.setup();
      render(<App fetch={server.fetch} />);
      await user.click(await screen.findByRole('button', { name: 'Add SKU-0001 Compact Kettle 1 to cart' }));
      await user.click(screen.getByRole('button', { name: 'Place order' }));
      await server.resendUnderWay;
      expect(screen.getByTestId('placing-status').textContent).toBe('Your earlier order is still being placed…');

      let said: string[] = [];
      if (how === 'switches backend') {
        await user.click(screen.getByRole('radio', { name: /Microservices/ }));
        // The new view does not send the cart while the monolith's placement is unresolved, and says why.
        await screen.findByRole('button', { name: 'Place order' });
        expect(screen.getByRole('button', { name: 'Place order' }).getAttribute('aria-disabled')).toBe('true');
        expect(screen.getByTestId('placing-elsewhere').textContent).toMatch(/^An order of this cart is still being placed on Modular monolith for bob…/);
        expect(screen.queryByTestId('placing-status')).toBeNull();
        // Focus in the cart, where a placement's answer would take it from, onto the new order.
        await user.click(screen.getByRole('radio', { name: /Good card/ }));
        said = recordAnnouncements();
      } else {
        await goTo('Report viewer');
      }
      await sleep(300);
      server.finishPlacing();

      // The order is placed: its line and key leave the stored cart, whatever view is shown.
      await waitFor(() => expect(storedCart()).toMatchObject({ lines: [], placement: null }));
      await sleep(100);
      expect(server.resendsHeld()).toBe(1);
      expect(server.resendsClosedUnanswered()).toBe(0);
      if (how === 'switches backend') {
        // Nothing of it in the other backend's view: not listed, not said, and focus stays put.
        expect(document.querySelector('[data-order-id="ord_1"]')).toBeNull();
        expect(said.filter((text) => text.includes('ord_1') || text.includes('still being placed'))).toEqual([]);
        // Only that the cart shown lost the order's lines.
        expect(said).toEqual(['An order placed earlier on Modular monolith for bob went through: its lines left the cart.']);
        expect(screen.queryByTestId('placing-elsewhere')).toBeNull();
        expect(document.activeElement).toBe(screen.getByRole('radio', { name: /Good card/ }));
        await user.click(screen.getByRole('radio', { name: /Modular monolith/ }));
      } else {
        await goTo('Order console');
      }

      // Back on the backend and customer it was placed for: the order is listed and the cart empty.
      await waitFor(() => expect(document.querySelector('[data-order-id="ord_1"]')).not.toBeNull());
      expect(screen.getByRole('button', { name: 'Place order' })).toHaveProperty('disabled', true);
      // The user goes on shopping: the next order holds only what was added since.
      await user.click(await screen.findByRole('button', { name: 'Add SKU-0002 Classic Lamp 1 to cart' }));
      await user.click(screen.getByRole('button', { name: 'Place order' }));
      await waitFor(() => expect(document.querySelector('[data-order-id="ord_2"]')).not.toBeNull());

      expect(server.orders.map(({ order }) => order.items.map(({ sku, quantity }) => `${quantity} × ${sku}`))).toEqual([['1 × SKU-0002'], ['1 × SKU-0001']]);
      expect(server.microservicesPosts).toEqual([]);
      expect(storedCart()).toMatchObject({ lines: [], placement: null });
    },
  );

  it('keeps another backend from ordering the cart again while it is being placed, and takes only its own lines out of the cart, saying so', async () => {
    const server = await backends();
    sessionStorage.setItem(
      'archbench.session',
      JSON.stringify({ customerId: 'bob', token: 'a.b.c', expiresAt: new Date(Date.now() + 3600_000).toISOString() }),
    );
    const user = userEvent.setup();
    render(<App fetch={server.fetch} />);
    const addKettle = async () => user.click(await screen.findByRole('button', { name: 'Add SKU-0001 Compact Kettle 1 to cart' }));
    await addKettle();
    await user.click(screen.getByRole('button', { name: 'Place order' }));
    await server.resendUnderWay;

    // On the microservices, the same cart (its key unknown there) would be a second order: Place order
    // waits, says for what, and sends nothing, with the lamp added or not.
    await user.click(screen.getByRole('radio', { name: /Microservices/ }));
    const placeOrder = await screen.findByRole('button', { name: 'Place order' });
    expect(placeOrder.getAttribute('aria-disabled')).toBe('true');
    expect(screen.getByTestId('placing-elsewhere').textContent).toMatch(/still being placed on Modular monolith for bob/);
    await user.click(placeOrder);
    await user.click(await screen.findByRole('button', { name: 'Add SKU-0002 Classic Lamp 1 to cart' }));
    await user.click(screen.getByRole('button', { name: 'Place order' }));
    expect(screen.getByRole('button', { name: 'Place order' }).getAttribute('aria-disabled')).toBe('true');
    // The user goes on adding: two more kettles.
    await addKettle();
    await addKettle();
    await sleep(300);
    expect(server.microservicesPosts).toEqual([]);
    expect(storedLines()).toEqual(['3 × SKU-0001', '1 × SKU-0002']);
    const said = recordAnnouncements();

    // The monolith's order is answered: only its one kettle leaves the cart, and the user is told.
    server.finishPlacing();
    await waitFor(() => expect(storedCart()).toMatchObject({ placement: null }));
    expect(storedLines()).toEqual(['2 × SKU-0001', '1 × SKU-0002']);
    await waitFor(() => expect(said).toContain('An order placed earlier on Modular monolith for bob went through: its lines left the cart.'));
    expect(screen.queryByTestId('placing-elsewhere')).toBeNull();

    // Now the microservices order what the user added since, once.
    await user.click(screen.getByRole('button', { name: 'Place order' }));
    await waitFor(() => expect(document.querySelector('[data-order-id="ms_1"]')).not.toBeNull());
    expect(itemsOf(server.orders)).toEqual([['1 × SKU-0001']]);
    expect(itemsOf(server.microservicesOrders)).toEqual([['2 × SKU-0001', '1 × SKU-0002']]);
    expect(storedCart()).toMatchObject({ lines: [], placement: null });
  });

  it('says in another backend how an order placed earlier ended: a declined one was declined, not "went through"', async () => {
    const server = await backends();
    sessionStorage.setItem(
      'archbench.session',
      JSON.stringify({ customerId: 'bob', token: 'a.b.c', expiresAt: new Date(Date.now() + 3600_000).toISOString() }),
    );
    const user = userEvent.setup();
    render(<App fetch={server.fetch} />);
    await user.click(await screen.findByRole('button', { name: 'Add SKU-0001 Compact Kettle 1 to cart' }));
    await user.click(screen.getByRole('radio', { name: /Declined card/ }));
    await user.click(screen.getByRole('button', { name: 'Place order' }));
    await server.resendUnderWay;
    await user.click(screen.getByRole('radio', { name: /Microservices/ }));
    await screen.findByRole('button', { name: 'Place order' });
    const said = recordAnnouncements();

    server.finishPlacing();
    await waitFor(() => expect(storedCart()).toMatchObject({ placement: null }));
    // As in the monolith's own view, the rejected order's lines left the cart.
    expect(storedLines()).toEqual([]);
    await waitFor(() => expect(said).toHaveLength(1));
    expect(said[0]).toMatch(/^An order placed earlier on Modular monolith for bob was declined: its lines left the cart\. Payment declined/);
  });
});

describe('a placement that ends with no order, when the user left it', () => {
  const signedIn = () =>
    sessionStorage.setItem(
      'archbench.session',
      JSON.stringify({ customerId: 'bob', token: 'a.b.c', expiresAt: new Date(Date.now() + 3600_000).toISOString() }),
    );

  it('gives up on a stalled placement, frees Place order in every view and says so there, keeping its key', async () => {
    // The placement's timeout, shortened: the server never answers it (a stalled connection).
    const timeout = AbortSignal.timeout.bind(AbortSignal);
    vi.spyOn(AbortSignal, 'timeout').mockImplementation((ms) => timeout(ms === PLACE_ORDER_TIMEOUT_MS ? 400 : ms));
    const server = await backends({ holdPosts: true });
    signedIn();
    const user = userEvent.setup();
    render(<App fetch={server.fetch} />);
    await user.click(await screen.findByRole('button', { name: 'Add SKU-0001 Compact Kettle 1 to cart' }));
    await user.click(screen.getByRole('button', { name: 'Place order' }));
    await server.postHeld;
    const key = (storedCart()?.placement as { key: string }).key;

    await user.click(screen.getByRole('radio', { name: /Microservices/ }));
    const placeOrder = await screen.findByRole('button', { name: 'Place order' });
    expect(placeOrder.getAttribute('aria-disabled')).toBe('true');
    // The reason says what frees it.
    expect(screen.getByTestId('placing-elsewhere').textContent).toMatch(
      /once that order is answered, or after 60 s without an answer; reloading the page frees it/,
    );
    const said = recordAnnouncements();

    await waitFor(() => expect(screen.getByRole('button', { name: 'Place order' }).getAttribute('aria-disabled')).toBeNull());
    expect(said).toEqual([
      // The title only: the detail's "press Place order again" would send the cart here, to another customer.
      expect.stringMatching(/^The order of this cart on Modular monolith for bob could not be confirmed: No answer to the order\. Place order works again;/),
    ]);
    // Uncertain: the key stays with its backend and customer, and the cart keeps its lines.
    expect(storedCart()).toMatchObject({ lines: [{ sku: 'SKU-0001', quantity: 1 }], placement: { key, backend: 'monolith', underWay: null } });
    expect(screen.getByTestId('placed-elsewhere').textContent).toMatch(/may have gone through on Modular monolith for bob/);
    expect(server.microservicesPosts).toEqual([]);
  });

  it('shows the view the user came back to why Place order is free again', async () => {
    const server = await backends({ holdPosts: true });
    signedIn();
    const user = userEvent.setup();
    render(<App fetch={server.fetch} />);
    await user.click(await screen.findByRole('button', { name: 'Add SKU-0001 Compact Kettle 1 to cart' }));
    await user.click(screen.getByRole('button', { name: 'Place order' }));
    await server.postHeld;
    await goTo('Report viewer');
    await goTo('Order console');
    expect((await screen.findByRole('button', { name: 'Placing order…' })).getAttribute('aria-disabled')).toBe('true');

    server.answerHeld(422, { title: 'Invalid order', status: 422, detail: 'SKU-0001 is out of stock', code: 'validation-failed' });
    await screen.findByRole('button', { name: 'Place order' });
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toMatch(/Invalid order/);
    expect(alert.textContent).toMatch(/SKU-0001 is out of stock/);
    // A definite 4xx placed nothing: the key is forgotten.
    expect(storedCart()).toMatchObject({ placement: null });
  });
});
