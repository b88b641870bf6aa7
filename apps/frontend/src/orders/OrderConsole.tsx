import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { TERMINAL_STATUSES } from '@archbench/contracts/schemas';
import type { Order, Product } from '@archbench/contracts/schemas';
import { PLACE_ORDER_TIMEOUT_MS, createApiClient } from '../api/client';
import type { ApiClient, FetchLike } from '../api/client';
import type { BackendId, FrontendConfig } from '../api/config-schema';
import { newIdempotencyKey } from '../api/idempotency-key';
import { ApiError, rejectionMessage } from '../api/problem';
import type { ProblemInfo } from '../api/problem';
import { ProblemView } from '../ui/ProblemView';
import { formatEuros } from '../ui/format';
import { ANNOUNCE_AFTER_MS } from '../ui/use-settled';
import { Cart, cartTotals } from './Cart';
import type { CartLine } from './Cart';
import { Catalog } from './Catalog';
import { OrderList } from './OrderList';
import { SignIn } from './SignIn';
import { placementUnderWay, readCart, underWayHere, updateCart, useCartInMemoryOnly, useStoredCart } from './cart-store';
import type { Placement, StoredCart } from './cart-store';
import { onPlaced, onUnplaced, publishPlaced, publishUnplaced } from './placed-orders';
import { isInProgress, resendWhileInProgress } from './resend-in-progress';
import { loadSession, saveSession } from './session';
import type { Session } from './session';

const BACKEND_KEY = 'archbench.backend';
/** Seconds the server may hold a status poll open (Prefer: wait) before answering PENDING again. */
const POLL_WAIT_SECONDS = 10;
/** Shown in the cart, and said once, while a resend waits for the earlier request with the same key. */
export const EARLIER_ORDER_STILL_PLACED = 'Your earlier order is still being placed…';

function asProblem(error: unknown, title: string): ProblemInfo {
  return error instanceof ApiError ? error.problem : { title, detail: error instanceof Error ? error.message : String(error), status: 0, code: 'unknown' };
}

/** Like asProblem, but under the given title, the server's own title moving into the detail. */
function titledProblem(error: unknown, title: string): ProblemInfo {
  if (!(error instanceof ApiError)) return asProblem(error, title);
  const { problem } = error;
  return { ...problem, title, detail: problem.detail ? `${problem.title}: ${problem.detail}` : problem.title };
}

/**
 * Whether a failed placement certainly placed no order, so that a new attempt needs a new
 * Idempotency-Key: a 4xx answer, except 408 and 429 (nothing is known of the attempt) and
 * 409 idempotency-in-progress (the first attempt is still running). A network error, a
 * proxy's 502, a 5xx or a timeout may come after the order was placed: the retry must send
 * the same key, so that the server answers with that order instead of placing a second one.
 */
function placedNothing(error: unknown): boolean {
  if (!(error instanceof ApiError)) return false;
  const { status, code } = error.problem;
  return status >= 400 && status < 500 && status !== 408 && status !== 429 && code !== 'idempotency-in-progress';
}

/**
 * A move of keyboard focus to `target` once the next render is on screen, made only if focus is
 * then lost (on <body>, where a removed control leaves it) or still inside `from`.
 */
interface FocusRequest {
  target: () => HTMLElement | null | undefined;
  from: () => Element | null | undefined;
}

/** The orders of one customer on one backend: `api` is the client they were read with. */
interface OrdersOf {
  api: ApiClient | null;
  items: Order[];
  /** The cursor of the next older page; null when the oldest order is shown. */
  nextCursor: string | null;
}

const NO_ORDERS: OrdersOf = { api: null, items: [], nextCursor: null };

function isTerminal(order: Order) {
  return TERMINAL_STATUSES.includes(order.status);
}

/** What the cart holds, said once after a burst of adds. */
function cartAnnouncement(lines: readonly CartLine[]): string {
  const { items, cents } = cartTotals(lines);
  return `Cart: ${items} item${items === 1 ? '' : 's'}, total ${formatEuros(cents)}.`;
}

/**
 * What another backend's or customer's view says when an order of the cart, placed there before the
 * user switched, is answered: worded from its status. Its lines left the cart whatever the status,
 * as in the view it was placed from (a rejected order's lines are gone there too).
 */
function placedElsewhereAnnouncement(order: Order, where: string): string {
  if (order.status === 'REJECTED') return `An order placed earlier ${where} was declined: its lines left the cart. ${rejectionMessage(order.rejectionReason)}`;
  if (order.status === 'PENDING') return `An order placed earlier ${where} was accepted and is being processed: its lines left the cart.`;
  if (order.status === 'CANCELLED') return `An order placed earlier ${where} was cancelled: its lines left the cart.`;
  return `An order placed earlier ${where} went through: its lines left the cart.`;
}

/** What a view says of a placement the user left that ended with no order. */
function unplacedAnnouncement(problem: ProblemInfo, nothingPlaced: boolean, where: string): string {
  // The title only: a problem's detail advises the view it happened in ("press Place order again"),
  // which here would send the cart to another backend or customer, as a second order.
  const what = problem.title;
  return nothingPlaced
    ? `The order of this cart ${where} could not be placed: ${what}. Place order works again.`
    : `The order of this cart ${where} could not be confirmed: ${what}. Place order works again; to learn its fate rather than order twice, place it again there.`;
}

/** The problem a failed placement shows. */
function placementProblem(error: unknown): ProblemInfo {
  if (isInProgress(error)) {
    return {
      ...error.problem,
      title: 'Your order is still being processed',
      detail: 'The server is still working on this order. Wait a moment and place it again: you will get its result, not a second order.',
    };
  }
  return asProblem(error, 'The order could not be placed');
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
  // Kept in sessionStorage (cart-store): a switch to another view unmounts the console.
  const storedCart = useStoredCart();
  const { lines: cart, payment, placement } = storedCart;
  const cartNotStored = useCartInMemoryOnly();
  /**
   * The placement being sent (or resent) now, kept in the cart store, not in this view: it goes on
   * when the user switches backend or customer or leaves the console, and until it is answered
   * (or its resends give up) no view may send this cart again (another backend or customer does
   * not know its key, and would place a second order).
   */
  const underWay = placementUnderWay(storedCart);
  /**
   * The placement under way in this view: aborted when the user leaves the console or switches
   * backend or customer. The placement itself goes on (its resends too) and still settles the
   * stored cart, but moves no focus and shows no status or problem in the view the user is in now.
   */
  const placementShown = useRef<AbortController | null>(null);
  const [cartProblem, setCartProblem] = useState<ProblemInfo | null>(null);
  const [ordersProblem, setOrdersProblem] = useState<ProblemInfo | null>(null);
  const [ordersOf, setOrdersOf] = useState<OrdersOf>(NO_ORDERS);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [cancelling, setCancelling] = useState<ReadonlySet<string>>(new Set());
  // Each announcement is a new node in the live region, so the same words said twice are spoken twice.
  const [announcement, setAnnouncementState] = useState({ text: '', n: 0 });
  const setAnnouncement = useCallback((text: string) => setAnnouncementState((a) => ({ text, n: a.n + 1 })), []);
  /** The cart's announcement, due once the adds of a burst stop (ANNOUNCE_AFTER_MS without another). */
  const cartAnnouncementDue = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(cartAnnouncementDue.current), []);
  const watching = useRef(new Map<string, AbortController>());
  const listing = useRef<AbortController | null>(null);
  /** The ids of orders placements were answered with while the first page is read: that page may predate them. */
  const placedDuringListing = useRef<Set<string> | null>(null);
  /** The older page being read ("Show older orders"); a refresh, a switch and sign-out abort it. */
  const olderListing = useRef<AbortController | null>(null);
  const cartHeading = useRef<HTMLHeadingElement>(null);
  const catalogHeading = useRef<HTMLHeadingElement>(null);
  const signInHeading = useRef<HTMLHeadingElement>(null);
  const ordersHeading = useRef<HTMLHeadingElement>(null);
  /**
   * Where keyboard focus goes, set when the control that has it disappears (sign-in, sign-out) or
   * an order is placed. State, not a ref: it is committed in the same render as the update it
   * goes with (the new order, the signed-in console), while the cart store's updates render on
   * their own, earlier (useSyncExternalStore updates are synchronous).
   */
  const [focusRequest, setFocusRequest] = useState<FocusRequest | null>(null);

  useEffect(() => {
    const request = focusRequest;
    if (!request) return;
    const active = document.activeElement;
    // Focus that the user has moved elsewhere meanwhile (e.g. into the search field) stays there.
    if (active && active !== document.body && !request.from()?.contains(active)) return;
    request.target()?.focus();
  }, [focusRequest]);

  /** The order's item in the list, if it is shown. */
  const orderItem = (id: string) =>
    [...(ordersHeading.current?.closest('section')?.querySelectorAll<HTMLElement>('li[data-order-id]') ?? [])].find((li) => li.dataset.orderId === id);

  const api = useMemo(() => createApiClient({ backend, token: session?.token ?? null, fetch }), [backend, session, fetch]);
  const currentApi = useRef(api);
  useEffect(() => {
    currentApi.current = api;
  }, [api]);
  const backendLabel = useCallback((id: string) => config.backends.find((b) => b.id === id)?.label ?? id, [config]);
  /** Whether a placement was sent from this view's backend and customer (one stored before they were kept counts as any). */
  const sentFromHere = (p: Placement) => (p.backend ?? backend) === backend && (p.customerId ?? session?.customerId) === session?.customerId;
  const placingHere = underWay !== null && sentFromHere(underWay);
  /** Why Place order waits in this view: an order of this cart is being placed for another backend or customer. */
  const placingElsewhere =
    underWay && !placingHere
      ? `An order of this cart is still being placed on ${backendLabel(underWay.backend ?? backend)} for ${underWay.customerId ?? 'another customer'}… Place order works again once that order is answered, or after ${PLACE_ORDER_TIMEOUT_MS / 1000} s without an answer; reloading the page frees it at once (that order's answer is then lost: place it again there to learn its fate).`
      : null;
  /** A placement whose outcome is unknown (no answer, or the resends gave up) was sent for another backend or customer. */
  const uncertainElsewhere =
    placement && !underWay && placement.backend && !sentFromHere(placement)
      ? `An earlier order of this cart may have gone through on ${backendLabel(placement.backend)} for ${placement.customerId ?? 'another customer'}: its answer never came. To get its result rather than a second order, place it again there; placing it here may order it twice.`
      : null;

  // Only orders read from the current backend and customer are shown (and followed).
  const orders = ordersOf.api === api ? ordersOf.items : [];
  const olderCursor = ordersOf.api === api ? ordersOf.nextCursor : null;

  useEffect(() => {
    for (const { id } of config.backends) {
      setHealth((h) => ({ ...h, [id]: 'checking' }));
      createApiClient({ backend: id, token: null, fetch })
        .health()
        .then(() => setHealth((h) => ({ ...h, [id]: 'up' })))
        .catch(() => setHealth((h) => ({ ...h, [id]: 'down' })));
    }
  }, [config, fetch]);

  /**
   * Puts an order read from `source` into the list, unless the list now is another backend's or
   * customer's, or shows a later state of it (a placement's answer may come after the polls').
   */
  const upsert = useCallback((source: ApiClient, order: Order) => {
    setOrdersOf((current) => {
      if (current.api !== source) return current;
      const index = current.items.findIndex((o) => o.id === order.id);
      if (index === -1) return { ...current, items: [order, ...current.items] };
      if (Date.parse(current.items[index]!.updatedAt) > Date.parse(order.updatedAt)) return current;
      const items = [...current.items];
      items[index] = order;
      return { ...current, items };
    });
  }, []);

  // A new refresh, a switch of backend or customer and sign-out abandon the list being read:
  // a late answer of the previous backend must not replace the current one's orders.
  // A refresh reloads the first page: older pages shown or being read are dropped with it.
  const refresh = useCallback(async () => {
    listing.current?.abort();
    listing.current = null;
    olderListing.current?.abort();
    olderListing.current = null;
    setLoadingOlder(false);
    if (!session) return;
    const controller = new AbortController();
    listing.current = controller;
    const placed = new Set<string>();
    placedDuringListing.current = placed;
    try {
      const page = await api.listOrders(null, controller.signal);
      if (controller.signal.aborted) return;
      // An order placed while the page was read stays listed, newest first, if the page is older than it.
      setOrdersOf((current) => {
        const listed = new Set(page.items.map((o) => o.id));
        const newer = current.api === api ? current.items.filter((o) => placed.has(o.id) && !listed.has(o.id)) : [];
        return { api, items: [...newer, ...page.items], nextCursor: page.nextCursor };
      });
      setOrdersProblem(null);
    } catch (error) {
      if (controller.signal.aborted) return;
      setOrdersProblem(asProblem(error, 'Could not load your orders'));
    } finally {
      if (listing.current === controller) listing.current = null;
      if (placedDuringListing.current === placed) placedDuringListing.current = null;
    }
  }, [api, session]);

  // A placement's answer is listed by whichever console is shown when it comes, for the backend
  // and customer it was placed with: the console that sent it may have been left and come back to.
  useEffect(
    () =>
      onPlaced(({ backend: placedOn, token, customerId, order, tookLines }) => {
        if (placedOn !== api.backend || token !== session?.token) {
          // Another backend's or customer's order, placed before the user switched: not listed
          // here, but the cart shown here changed, and the user is told why.
          if (tookLines) setAnnouncement(placedElsewhereAnnouncement(order, `on ${backendLabel(placedOn)} for ${customerId}`));
          return;
        }
        placedDuringListing.current?.add(order.id);
        upsert(api, order);
        setAnnouncement(announce(order));
      }),
    [api, session, upsert, setAnnouncement, backendLabel],
  );

  // A placement the user left that ended with no order frees Place order in every view: the view
  // of its backend and customer shows why (the problem is an alert), another one says it once.
  useEffect(
    () =>
      onUnplaced(({ backend: placedOn, token, customerId, problem, placedNothing: nothingPlaced }) => {
        if (placedOn === api.backend && token === session?.token) setCartProblem(problem);
        else setAnnouncement(unplacedAnnouncement(problem, nothingPlaced, `on ${backendLabel(placedOn)} for ${customerId}`));
      }),
    [api, session, setAnnouncement, backendLabel],
  );

  useEffect(() => {
    setOrdersOf({ ...NO_ORDERS, api });
    setOrdersProblem(null);
    void refresh();
  }, [api, refresh]);

  useEffect(
    () => () => {
      listing.current?.abort();
      olderListing.current?.abort();
    },
    [],
  );

  /** Appends the next older page, unless the list was refreshed or is now another backend's or customer's. */
  async function showOlder() {
    const cursor = olderCursor;
    if (!cursor || olderListing.current) return;
    const source = api;
    const controller = new AbortController();
    olderListing.current = controller;
    setLoadingOlder(true);
    try {
      const page = await source.listOrders(cursor, controller.signal);
      if (controller.signal.aborted) return;
      // The last page removes the button: focus moves on to the first order it brought.
      if (page.nextCursor === null) {
        const first = page.items.find((o) => !orders.some((shown) => shown.id === o.id));
        setFocusRequest({
          target: () => (first ? orderItem(first.id) : undefined) ?? ordersHeading.current,
          from: () => ordersHeading.current?.closest('section'),
        });
      }
      setOrdersOf((current) => {
        if (current.api !== source || current.nextCursor !== cursor) return current;
        const known = new Set(current.items.map((o) => o.id));
        return { api: source, items: [...current.items, ...page.items.filter((o) => !known.has(o.id))], nextCursor: page.nextCursor };
      });
      setOrdersProblem(null);
      setAnnouncement(page.items.length === 1 ? 'Showing 1 older order.' : `Showing ${page.items.length} older orders.`);
    } catch (error) {
      if (controller.signal.aborted) return;
      setOrdersProblem(titledProblem(error, 'Could not load older orders'));
    } finally {
      if (olderListing.current === controller) {
        olderListing.current = null;
        setLoadingOlder(false);
      }
    }
  }

  // Follow every pending order until it is terminal: long polls with Prefer: wait, so a status
  // change shows up as soon as the server knows it without hammering it.
  // An order is followed only on the backend it was read from: right after a switch, this effect
  // sees the new client with the previous backend's list, which must not be polled there.
  useEffect(() => {
    if (ordersOf.api !== api) return;
    const live = watching.current;
    for (const order of ordersOf.items) {
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
              upsert(api, latest);
              setAnnouncement(announce(latest));
              return;
            }
          } catch (error) {
            if (controller.signal.aborted) return;
            if (++failures >= 5) {
              live.delete(order.id);
              setOrdersProblem(titledProblem(error, `Lost track of order ${order.id}`));
              return;
            }
            await new Promise((resolve) => setTimeout(resolve, 500 * failures));
          }
        }
      })();
    }
  }, [ordersOf, api, upsert, setAnnouncement]);

  // Switching backend or customer abandons the polls of the previous one. A placement still under
  // way there is not abandoned (the server may have placed its order): it finishes out of sight,
  // taking its lines and key out of the cart, and every view waits for it (cart-store).
  // Leaving the console (unmount) does the same.
  useEffect(() => {
    const live = watching.current;
    const shown = placementShown;
    return () => {
      for (const controller of live.values()) controller.abort();
      live.clear();
      shown.current?.abort();
      shown.current = null;
    };
  }, [api]);

  function setLines(change: (lines: CartLine[]) => CartLine[]) {
    updateCart((c) => ({ ...c, lines: change(c.lines) }));
  }

  function chooseBackend(id: BackendId) {
    setBackend(id);
    globalThis.localStorage?.setItem(BACKEND_KEY, id);
    setCartProblem(null);
    setOrdersProblem(null);
  }

  function signIn(next: Session) {
    // The sign-in form goes away: on to the catalog, where ordering starts.
    setFocusRequest({ target: () => catalogHeading.current, from: () => signInHeading.current?.closest('section') });
    saveSession(next);
    setSession(next);
  }

  function signOut() {
    // The Sign out button goes away: to the sign-in form that replaces it.
    setFocusRequest({ target: () => signInHeading.current, from: () => signInHeading.current?.closest('section') });
    saveSession(null);
    setSession(null);
    setOrdersOf(NO_ORDERS);
    setOrdersProblem(null);
  }

  function addToCart(product: Product) {
    setCartProblem(null);
    // Not one announcement per click: the cart's count and total once the clicks stop.
    clearTimeout(cartAnnouncementDue.current);
    cartAnnouncementDue.current = setTimeout(() => setAnnouncement(cartAnnouncement(readCart().lines)), ANNOUNCE_AFTER_MS);
    setLines((lines) => {
      const existing = lines.find((l) => l.sku === product.sku);
      if (existing) return lines.map((l) => (l.sku === product.sku ? { ...l, quantity: l.quantity + 1 } : l));
      return [...lines, { sku: product.sku, name: product.name, priceCents: product.priceCents, quantity: 1 }];
    });
  }

  async function place() {
    // Sent once at a time, from any view: a second send before the first is answered could reach
    // another backend or customer, which does not know its key, and place a second order.
    if (!session || placementUnderWay(readCart())) return;
    const placedFor = { backend: api.backend, customerId: session.customerId };
    // The order's own announcement says what happened to the cart's lines.
    clearTimeout(cartAnnouncementDue.current);
    setCartProblem(null);
    const ordered = cart.map((l) => ({ sku: l.sku, quantity: l.quantity }));
    const body = { items: ordered, payment: { token: payment } };
    // A retry of the same cart and payment, for the same backend and customer, resends the key of
    // the attempt whose outcome is unknown. It is stored with the cart, so a view switch or a
    // reload in between does not lose it. Another backend or customer does not know it: a new key.
    const request = JSON.stringify(body);
    const earlier = readCart().placement;
    const key = earlier?.request === request && sentFromHere(earlier) ? earlier.key : newIdempotencyKey();
    updateCart((c) => ({ ...c, placement: { request, key, ...placedFor, underWay: underWayHere(false) } }));
    /** Whether the stored cart still holds this placement (no newer one replaced it, it is not settled). */
    const holds = (c: StoredCart): c is StoredCart & { placement: Placement } => c.placement?.key === key;
    /** Forgets the key once this attempt's outcome is certain (unless a newer attempt replaced it). */
    const settled = (c: StoredCart): StoredCart => (holds(c) ? { ...c, placement: null } : c);
    const shown = new AbortController();
    placementShown.current?.abort();
    placementShown.current = shown;
    /** Whether the user left this placement's view: another backend or customer, or another view. */
    const left = () => shown.signal.aborted;
    try {
      // 409 idempotency-in-progress: the first request with this key (sent before a reload, say)
      // is still being placed. The same request and key are sent again until it answers with
      // that order, a bounded number of times, so the user need not press Place order again.
      // Leaving does not stop or abort them: only their answer tells what became of the order.
      const order = await resendWhileInProgress(() => api.placeOrder(body, { idempotencyKey: key }), {
        onInProgress: (resend) => {
          updateCart((c) => (holds(c) && c.placement.underWay ? { ...c, placement: { ...c.placement, underWay: underWayHere(true) } } : c));
          if (left()) return;
          if (resend === 1) setAnnouncement('Your earlier order is still being placed. It is shown here once the server has it.');
        },
      });
      // Only what was ordered leaves the cart, and only while the cart still holds this placement:
      // lines added while it was being placed stay. Stored even when the user left meanwhile
      // (another view, backend or customer), where every view waited for this answer.
      let tookLines = false;
      updateCart((c) => {
        if (!holds(c)) return c;
        const lines = c.lines.flatMap((line) => {
          const done = ordered.find((o) => o.sku === line.sku)?.quantity ?? 0;
          if (done === 0) return [line];
          return line.quantity > done ? [{ ...line, quantity: line.quantity - done }] : [];
        });
        tookLines = lines.length !== c.lines.length || lines.some((line, i) => line.quantity !== c.lines[i]!.quantity);
        return { ...c, lines, placement: null };
      });
      // The ordered lines (maybe the whole cart, disabling Place order) go away: on to the new order,
      // unless the user is elsewhere now (focus stays where it is in the view they switched to).
      if (!left()) setFocusRequest({ target: () => orderItem(order.id) ?? ordersHeading.current, from: () => cartHeading.current?.closest('section') });
      // Listed and announced by the console showing this backend and customer; another one says
      // that the cart it shows lost the order's lines.
      publishPlaced({ backend: placedFor.backend, token: session.token, customerId: placedFor.customerId, order, tookLines });
    } catch (error) {
      const nothingPlaced = placedNothing(error);
      if (nothingPlaced) updateCart(settled);
      // Answered or given up: no longer under way. An uncertain outcome keeps the key for the next attempt.
      updateCart((c) => (holds(c) && c.placement.underWay ? { ...c, placement: { ...c.placement, underWay: null } } : c));
      // Left: the console shown now (this one on another backend or customer, or another instance)
      // is told, since every view kept Place order waiting for this placement.
      if (left()) publishUnplaced({ ...placedFor, token: session.token, problem: placementProblem(error), placedNothing: nothingPlaced });
      else setCartProblem(placementProblem(error));
    } finally {
      // Answered or given up: no longer under way (see above for a failure).
      updateCart((c) => (holds(c) && c.placement.underWay ? { ...c, placement: { ...c.placement, underWay: null } } : c));
      if (placementShown.current === shown) placementShown.current = null;
    }
  }

  async function cancel(id: string) {
    if (cancelling.has(id)) return;
    setCancelling((s) => new Set(s).add(id));
    setOrdersProblem(null);
    try {
      const order = await api.cancelOrder(id);
      // A cancelled order has no Cancel button any more: focus stays with the order.
      setFocusRequest({ target: () => orderItem(id), from: () => orderItem(id) });
      upsert(api, order);
      setAnnouncement(announce(order));
    } catch (error) {
      if (currentApi.current === api) setOrdersProblem(asProblem(error, `Order ${id} could not be cancelled`));
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
      <SignIn devLogin={config.devLogin} session={session} onSignIn={signIn} onSignOut={signOut} fetch={fetch} headingRef={signInHeading} />
      <div className="grid-2">
        <Catalog api={api} onAdd={addToCart} onSkipToCart={() => cartHeading.current?.focus()} headingRef={catalogHeading} />
        <div>
          <Cart
            headingRef={cartHeading}
            lines={cart}
            payment={payment}
            busy={placingHere}
            status={underWay?.underWay?.resending ? EARLIER_ORDER_STILL_PLACED : null}
            waitingFor={placingElsewhere}
            note={uncertainElsewhere}
            signedIn={session !== null}
            problem={cartProblem}
            notStored={cartNotStored}
            onQuantity={(sku, quantity) => setLines((lines) => lines.map((l) => (l.sku === sku ? { ...l, quantity } : l)))}
            onRemove={(sku) => setLines((lines) => lines.filter((l) => l.sku !== sku))}
            onPayment={(token) => updateCart((c) => ({ ...c, payment: token }))}
            onPlace={() => void place()}
            onDismissProblem={() => setCartProblem(null)}
          />
          {session && (
            <>
              {ordersProblem && <ProblemView problem={ordersProblem} onDismiss={() => setOrdersProblem(null)} />}
              <OrderList
                orders={orders}
                cancelling={cancelling}
                onCancel={(id) => void cancel(id)}
                onRefresh={() => void refresh()}
                hasOlder={olderCursor !== null}
                loadingOlder={loadingOlder}
                onShowOlder={() => void showOlder()}
                headingRef={ordersHeading}
              />
            </>
          )}
        </div>
      </div>
      <p className="visually-hidden" aria-live="polite" data-testid="announcer">
        <span key={announcement.n}>{announcement.text}</span>
      </p>
    </div>
  );
}
