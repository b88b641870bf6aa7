import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { TERMINAL_STATUSES } from '@archbench/contracts/schemas';
import type { Order, PaymentToken, Product } from '@archbench/contracts/schemas';
import { createApiClient } from '../api/client';
import type { FetchLike } from '../api/client';
import type { BackendId, FrontendConfig } from '../api/config-schema';
import { ApiError, rejectionMessage } from '../api/problem';
import type { ProblemInfo } from '../api/problem';
import { ProblemView } from '../ui/ProblemView';
import { Cart } from './Cart';
import type { CartLine } from './Cart';
import { Catalog } from './Catalog';
import { OrderList } from './OrderList';
import { SignIn } from './SignIn';
import { loadSession, saveSession } from './session';
import type { Session } from './session';

const BACKEND_KEY = 'archbench.backend';
/** Seconds the server may hold a status poll open (Prefer: wait) before answering PENDING again. */
const POLL_WAIT_SECONDS = 10;

function asProblem(error: unknown, title: string): ProblemInfo {
  return error instanceof ApiError ? error.problem : { title, detail: error instanceof Error ? error.message : String(error), status: 0, code: 'unknown' };
}

function isTerminal(order: Order) {
  return TERMINAL_STATUSES.includes(order.status);
}

function announce(order: Order): string {
  if (order.status === 'REJECTED') return `Order ${order.id} was rejected. ${rejectionMessage(order.rejectionReason)}`;
  return `Order ${order.id} is ${order.status.toLowerCase()}.`;
}

/** The order console: backend switch, sign-in, catalog, cart and the customer's live orders. */
export function OrderConsole({ config, fetch }: { config: FrontendConfig; fetch?: FetchLike }) {
  const [backend, setBackend] = useState<BackendId>(() => {
    const saved = globalThis.localStorage?.getItem(BACKEND_KEY);
    return config.backends.find((b) => b.id === saved)?.id ?? config.backends[0]!.id;
  });
  const [session, setSession] = useState<Session | null>(() => loadSession());
  const [health, setHealth] = useState<Partial<Record<BackendId, 'up' | 'down' | 'checking'>>>({});
  const [cart, setCart] = useState<CartLine[]>([]);
  const [payment, setPayment] = useState<PaymentToken>('tok_ok');
  const [placing, setPlacing] = useState(false);
  const [cartProblem, setCartProblem] = useState<ProblemInfo | null>(null);
  const [ordersProblem, setOrdersProblem] = useState<ProblemInfo | null>(null);
  const [orders, setOrders] = useState<Order[]>([]);
  const [cancelling, setCancelling] = useState<ReadonlySet<string>>(new Set());
  const [announcement, setAnnouncement] = useState('');
  const watching = useRef(new Map<string, AbortController>());
  const cartHeading = useRef<HTMLHeadingElement>(null);

  const api = useMemo(() => createApiClient({ backend, token: session?.token ?? null, fetch }), [backend, session, fetch]);

  useEffect(() => {
    for (const { id } of config.backends) {
      setHealth((h) => ({ ...h, [id]: 'checking' }));
      createApiClient({ backend: id, token: null, fetch })
        .health()
        .then(() => setHealth((h) => ({ ...h, [id]: 'up' })))
        .catch(() => setHealth((h) => ({ ...h, [id]: 'down' })));
    }
  }, [config, fetch]);

  const upsert = useCallback((order: Order) => {
    setOrders((current) => {
      const index = current.findIndex((o) => o.id === order.id);
      if (index === -1) return [order, ...current];
      const next = [...current];
      next[index] = order;
      return next;
    });
  }, []);

  const refresh = useCallback(async () => {
    if (!session) return;
    try {
      const page = await api.listOrders();
      setOrders(page.items);
      setOrdersProblem(null);
    } catch (error) {
      setOrdersProblem(asProblem(error, 'Could not load your orders'));
    }
  }, [api, session]);

  useEffect(() => {
    setOrders([]);
    void refresh();
  }, [refresh]);

  // Follow every pending order until it is terminal: long polls with Prefer: wait, so a status
  // change shows up as soon as the server knows it without hammering it.
  useEffect(() => {
    const live = watching.current;
    for (const order of orders) {
      if (isTerminal(order) || live.has(order.id)) continue;
      const controller = new AbortController();
      live.set(order.id, controller);
      void (async () => {
        let failures = 0;
        while (!controller.signal.aborted) {
          try {
            const latest = await api.getOrder(order.id, POLL_WAIT_SECONDS, controller.signal);
            if (controller.signal.aborted) return;
            if (isTerminal(latest)) {
              live.delete(order.id);
              upsert(latest);
              setAnnouncement(announce(latest));
              return;
            }
          } catch (error) {
            if (controller.signal.aborted) return;
            if (++failures >= 5) {
              live.delete(order.id);
              setOrdersProblem(asProblem(error, `Lost track of order ${order.id}`));
              return;
            }
            await new Promise((resolve) => setTimeout(resolve, 500 * failures));
          }
        }
      })();
    }
  }, [orders, api, upsert]);

  // Switching backend or customer abandons the polls of the previous one.
  useEffect(() => {
    const live = watching.current;
    return () => {
      for (const controller of live.values()) controller.abort();
      live.clear();
    };
  }, [api]);

  function chooseBackend(id: BackendId) {
    setBackend(id);
    globalThis.localStorage?.setItem(BACKEND_KEY, id);
    setCartProblem(null);
  }

  function signIn(next: Session) {
    saveSession(next);
    setSession(next);
  }

  function signOut() {
    saveSession(null);
    setSession(null);
    setOrders([]);
  }

  function addToCart(product: Product) {
    setCartProblem(null);
    setAnnouncement(`Added ${product.sku} ${product.name} to the cart.`);
    setCart((lines) => {
      const existing = lines.find((l) => l.sku === product.sku);
      if (existing) return lines.map((l) => (l.sku === product.sku ? { ...l, quantity: l.quantity + 1 } : l));
      return [...lines, { sku: product.sku, name: product.name, priceCents: product.priceCents, quantity: 1 }];
    });
  }

  async function place() {
    setPlacing(true);
    setCartProblem(null);
    try {
      const order = await api.placeOrder(
        { items: cart.map((l) => ({ sku: l.sku, quantity: l.quantity })), payment: { token: payment } },
        { idempotencyKey: crypto.randomUUID() },
      );
      upsert(order);
      setAnnouncement(announce(order));
      setCart([]);
    } catch (error) {
      setCartProblem(asProblem(error, 'The order could not be placed'));
    } finally {
      setPlacing(false);
    }
  }

  async function cancel(id: string) {
    setCancelling((s) => new Set(s).add(id));
    setOrdersProblem(null);
    try {
      const order = await api.cancelOrder(id);
      upsert(order);
      setAnnouncement(announce(order));
    } catch (error) {
      setOrdersProblem(asProblem(error, `Order ${id} could not be cancelled`));
    } finally {
      setCancelling((s) => {
        const next = new Set(s);
        next.delete(id);
        return next;
      });
    }
  }

  return (
    <div className="console">
      <section className="card" aria-labelledby="backend-h">
        <h2 id="backend-h">Backend</h2>
        <fieldset className="backend-switch">
          <legend className="visually-hidden">Backend to send requests to</legend>
          {config.backends.map((b) => (
            <label key={b.id} className="choice">
              <input type="radio" name="backend" value={b.id} checked={backend === b.id} onChange={() => chooseBackend(b.id)} />
              <strong>{b.label}</strong>{' '}
              <span className={`health health-${health[b.id] ?? 'checking'}`}>
                {health[b.id] === 'up' ? 'up' : health[b.id] === 'down' ? 'unreachable' : 'checking…'}
              </span>
              <span className="muted block">{b.description}</span>
            </label>
          ))}
        </fieldset>
      </section>
      <SignIn devLogin={config.devLogin} session={session} onSignIn={signIn} onSignOut={signOut} fetch={fetch} />
      <div className="grid-2">
        <Catalog api={api} onAdd={addToCart} onSkipToCart={() => cartHeading.current?.focus()} />
        <div>
          <Cart
            headingRef={cartHeading}
            lines={cart}
            payment={payment}
            busy={placing}
            signedIn={session !== null}
            problem={cartProblem}
            onQuantity={(sku, quantity) => setCart((lines) => lines.map((l) => (l.sku === sku ? { ...l, quantity } : l)))}
            onRemove={(sku) => setCart((lines) => lines.filter((l) => l.sku !== sku))}
            onPayment={setPayment}
            onPlace={() => void place()}
            onDismissProblem={() => setCartProblem(null)}
          />
          {session && (
            <>
              {ordersProblem && <ProblemView problem={ordersProblem} onDismiss={() => setOrdersProblem(null)} />}
              <OrderList orders={orders} cancelling={cancelling} onCancel={(id) => void cancel(id)} onRefresh={() => void refresh()} />
            </>
          )}
        </div>
      </div>
      <p className="visually-hidden" aria-live="polite" data-testid="announcer">
        {announcement}
      </p>
    </div>
  );
}
