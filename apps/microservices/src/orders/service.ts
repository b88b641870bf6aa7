import { setTimeout as sleep } from 'node:timers/promises';
import type { CreateOrderRequest, Order, OrderStatus, PaymentToken, RejectionReason } from '@archbench/contracts/schemas';
import { newId } from '@archbench/domain/ids';
import { canCancel, isTerminal, requestHash } from '@archbench/domain/orders';
import { AppError, DependencyError } from '@archbench/domain/errors';
import type { Logger } from '@archbench/observability/logging';
import { isUniqueViolation } from '@archbench/server-kit/db';
import { within } from '@archbench/server-kit/portable';
import { retryPolicy } from '../shared/retry';
import { PoisonMessageError } from '../shared/messages';
import type { ChargeOutcome, ServiceEvent } from '../shared/messages';
import { PoisonCommandError } from '../shared/transport';
import type { SendOptions, Transport } from '../shared/transport';
import type { OutboxRelay } from './outbox-relay';
import type { Db, OrdersRepository, SagaRow } from './repository';
import { deadlineOf, isActive } from './saga';
import type { SagaState } from './saga';

export interface OrdersDeps {
  repo: OrdersRepository;
  transport: Transport;
  relay: OutboxRelay;
  logger: Logger;
  /** Business outcomes and compensations, for metrics. */
  onOutcome?: (outcome: 'confirmed' | 'rejected' | 'cancelled') => void;
  onCompensation?: () => void;
  /** How long a customer cancel waits for its refund and restock before answering, ms. */
  cancelWaitMs?: number;
  /** SAGA_DEADLINE_MS: time from an order's creation after which a saga that has not finished gives up. */
  deadlineMs?: number;
}

/** A saga step's command did not get its answer before the saga's deadline. */
class DeadlinePassed extends Error {
  override readonly name = 'DeadlinePassed';
}
const DEADLINE = Symbol('deadline');
/**
 * A request whose Idempotency-Key another request holds while it reserves waits for that order
 * this long at least (the whole `Prefer: wait` when longer), reading the key every
 * FIRST_REQUEST_POLL_MS, before it answers 409 idempotency-in-progress.
 */
const FIRST_REQUEST_WAIT_MS = 2000;
const FIRST_REQUEST_POLL_MS = 20;
/** How often `Prefer: wait` reads an order whose saga this process is not driving, ms. */
const WAIT_POLL_MS = 100;
/** Claims of a free-looking key that lost to another request before this one answers idempotency-in-progress. */
const CLAIM_ATTEMPTS = 3;
/** How a saga step sends: one transport attempt, the saga's loop retries (see `command`). */
const SAGA_SEND: SendOptions = { attempts: 1 };

export interface PlaceResult {
  order: Order;
  /** True when the Idempotency-Key matched an earlier request. */
  replayed: boolean;
}

const REASONS: Record<Exclude<ChargeOutcome, 'SUCCEEDED'>, { paymentStatus: string; reason: RejectionReason }> = {
  DECLINED: { paymentStatus: 'DECLINED', reason: 'payment_declined' },
  FAILED: { paymentStatus: 'FAILED', reason: 'payment_provider_error' },
  UNAVAILABLE: { paymentStatus: 'FAILED', reason: 'payment_provider_unavailable' },
  EXPIRED: { paymentStatus: 'FAILED', reason: 'payment_provider_unavailable' },
};

/**
 * Orders and the orchestrated saga that places and cancels them.
 *
 * Place: RESERVING (reserve command, synchronous, so unknown SKUs and missing stock answer the
 * POST as in the monolith) → PAYING (order PENDING) → CONFIRMED (+ OrderConfirmed in the outbox)
 * or RELEASING (compensation: release stock) → REJECTED. A reserve that fails in transport goes
 * ABORTING → ABORTED (release). Cancel: CONFIRMED → CANCELLING (refund, release) → CANCELLED
 * (+ OrderCancelled). Every state is persisted before its command is sent, every command id is
 * derived from the order id, so a saga can be driven again after a crash (`resume`) with no
 * second effect anywhere. The table of moves is SAGA_TRANSITIONS (saga.ts).
 *
 * Deadline: an order still PENDING `deadlineMs` after its creation is REJECTED at once
 * (`payment_provider_unavailable`) and the saga turns to EXPIRING, which voids the charge
 * (refunding it if it had captured) and releases the stock, each whenever its service answers.
 * Charges carry the deadline as `notAfter`, so payments never starts one after it.
 */
export function createOrders({ repo, transport, relay, logger, onOutcome, onCompensation, cancelWaitMs = 10_000, deadlineMs = 60_000 }: OrdersDeps) {
  /** Sagas being driven by this process, by order id (so `Prefer: wait` can await them). */
  const driving = new Map<string, Promise<void>>();
  /** Orders whose POST is still reserving: the sweeper leaves them alone. */
  const reserving = new Set<string>();
  let stopping = false;

  /**
   * Sends a saga command until it gets a reply; commands are idempotent, so resending is safe.
   * With a deadline, throws DeadlinePassed once it is reached (an attempt still running then is
   * abandoned; its late reply is ignored). A command the receiver refused as poison
   * (PoisonCommandError, on either transport) ends the retries only with `finalOnPoison` (the
   * charge: the order is rejected at once). A compensation (release, void, refund) is resent
   * until it is taken, poison or not: giving it up would keep stock held or money taken, and a
   * service that refuses it is fixed by a deploy, after which the next copy is taken.
   *
   * One retry layer: this loop owns the retries of a saga step, and `send` gets SAGA_SEND (one
   * transport attempt), so the HTTP client and the AMQP send do not retry underneath it. Only the
   * saga knows when to stop (the deadline, a stopping process) and it retries for as long as that
   * allows, so transport retries would only multiply the calls a struggling dependency receives
   * (INTERNAL_ATTEMPTS per saga attempt). The POST's ReserveStock is not a saga step: the request
   * waits for it, so the transport's bounded INTERNAL_ATTEMPTS own its retries, and the saga does
   * not resend it (a failed reserve is compensated by ABORTING instead).
   */
  async function command<T>(
    send: (options: SendOptions) => Promise<T>,
    what: string,
    deadline?: number,
    { finalOnPoison = false }: { finalOnPoison?: boolean } = {},
  ): Promise<T> {
    // Until it answers: only the deadline, a stopping process or (with finalOnPoison) a poison
    // refusal ends a saga command's retries.
    const commandRetry = retryPolicy({
      attempts: Infinity,
      retryable: (error) => !(error instanceof DeadlinePassed) && !(finalOnPoison && error instanceof PoisonCommandError) && !stopping,
      firstDelayMs: 100,
      maxDelayMs: 2000,
    });
    const once = async (): Promise<T> => {
      if (deadline === undefined) return await send(SAGA_SEND);
      if (Date.now() >= deadline) throw new DeadlinePassed(`${what}: saga deadline passed`);
      const sending = send(SAGA_SEND);
      sending.catch(() => undefined); // an abandoned attempt must not become an unhandled rejection
      const timer = new AbortController();
      const result = await Promise.race([sending, sleep(deadline - Date.now(), DEADLINE, { signal: timer.signal }).catch(() => undefined)]).finally(() =>
        timer.abort(),
      );
      if (result === DEADLINE) throw new DeadlinePassed(`${what}: saga deadline passed`);
      return result as T;
    };
    commandRetry.onRetry((event) => {
      if (!('error' in event) || (event.attempt !== 1 && event.attempt % 10 !== 0)) return;
      if (event.error instanceof PoisonCommandError)
        logger.error(
          { err: event.error, attempt: event.attempt, commandId: event.error.commandId },
          `${what} refused as poison (dead-lettered); resent until the service takes it`,
        );
      else logger.warn({ err: event.error, attempt: event.attempt }, `${what} failed; retrying`);
    });
    return commandRetry.execute(once);
  }

  async function step(saga: SagaRow): Promise<SagaState | undefined> {
    const id = saga.order_id;
    switch (saga.state as SagaState) {
      case 'RESERVING':
        // Only after a crash or a failed POST: the reservation may or may not exist, give it back,
        // and the Idempotency-Key the POST claimed with it (no order will have it).
        await repo.transaction(async (trx) => {
          if (await repo.setSaga(trx, id, 'ABORTING', 'RESERVING')) await repo.releaseKey(trx, saga.customer_id, id);
        });
        return 'ABORTING';
      case 'ABORTING':
        await command((once) => transport.send({ type: 'ReleaseStock', id: `release:${id}`, orderId: id }, once), `release ${id}`);
        await repo.setSaga(repo.db, id, 'ABORTED', 'ABORTING');
        onCompensation?.();
        return 'ABORTED';
      case 'PAYING': {
        const token = saga.payment_token as PaymentToken;
        const amountCents = Number(saga.total_cents);
        const deadline = deadlineOf(saga.created_at, deadlineMs);
        let reply;
        try {
          reply = await command(
            (once) => transport.send({ type: 'ChargePayment', id: `charge:${id}`, orderId: id, token, amountCents, notAfter: deadline }, once),
            `charge ${id}`,
            deadline,
            { finalOnPoison: true },
          );
        } catch (error) {
          // A charge payments refused as poison is given up at once, as on the deadline: the order
          // ends as it would when the deadline passed (what the AMQP path did before a poison reply).
          if (error instanceof PoisonCommandError) return expire(saga, error);
          if (!(error instanceof DeadlinePassed)) throw error;
          return expire(saga);
        }
        if (reply.outcome === 'SUCCEEDED') {
          await repo.transaction(async (trx) => {
            if (!(await repo.setSaga(trx, id, 'CONFIRMED', 'PAYING', { charge_outcome: 'SUCCEEDED' }))) return;
            await repo.setOrderStatus(trx, id, 'PENDING', { status: 'CONFIRMED', paymentStatus: 'CAPTURED' });
            await repo.addToOutbox(trx, { type: 'OrderConfirmed', orderId: id, customerId: saga.customer_id, totalCents: amountCents });
          });
          void relay.kick();
          onOutcome?.('confirmed');
          return 'CONFIRMED';
        }
        await repo.setSaga(repo.db, id, 'RELEASING', 'PAYING', { charge_outcome: reply.outcome });
        return 'RELEASING';
      }
      case 'RELEASING': {
        const { paymentStatus, reason } = REASONS[(saga.charge_outcome ?? 'FAILED') as keyof typeof REASONS] ?? REASONS.FAILED;
        const reject = (trx: Db) => repo.setOrderStatus(trx, id, 'PENDING', { status: 'REJECTED', paymentStatus, rejectionReason: reason });
        const release = (once: SendOptions) => transport.send({ type: 'ReleaseStock', id: `release:${id}`, orderId: id }, once);
        let rejected = false;
        try {
          // Normally the order turns REJECTED only once its stock is back...
          await command(release, `release ${id}`, deadlineOf(saga.created_at, deadlineMs));
        } catch (error) {
          if (!(error instanceof DeadlinePassed)) throw error;
          // ...but past the deadline the customer gets the answer now; the stock follows when inventory
          // answers. Counted now: the release may take long (inventory down, or refusing it), and a
          // driver after a restart finds the order already REJECTED and would never count it.
          if (await reject(repo.db)) {
            logger.warn({ orderId: id }, 'saga deadline passed while releasing stock; order rejected, release continues');
            onOutcome?.('rejected');
          }
          await command(release, `release ${id}`);
        }
        await repo.transaction(async (trx) => {
          const move = await repo.setSagaRejecting(trx, id, 'REJECTED', 'RELEASING');
          if (!move.moved) return;
          if (await reject(trx)) rejected = true;
          // Only when payments announced a late capture's refund (normally never: declines pay nothing more).
          if (move.lateRefund) await repo.applyLateRefund(trx, id);
        });
        onCompensation?.();
        if (rejected) onOutcome?.('rejected');
        return 'REJECTED';
      }
      case 'EXPIRING': {
        // The order is already REJECTED; give back what the saga may still hold, for as long as it
        // takes, both at once: an inventory that is down (or refuses the release) does not hold up
        // the refund of a charge that captured, nor a hung payments the stock.
        const [voiding, releasing] = await Promise.allSettled([
          command((once) => transport.send({ type: 'VoidPayment', id: `void:${id}`, orderId: id }, once), `void ${id}`),
          command((once) => transport.send({ type: 'ReleaseStock', id: `release:${id}`, orderId: id }, once), `release ${id}`),
        ]);
        if (voiding.status === 'rejected') throw voiding.reason;
        if (releasing.status === 'rejected') throw releasing.reason;
        const voided = voiding.value;
        await repo.transaction(async (trx) => {
          const move = await repo.setSagaRejecting(trx, id, 'EXPIRED', 'EXPIRING');
          if (!move.moved) return;
          await repo.setPaymentStatus(trx, id, 'REJECTED', voided.outcome === 'REFUNDED' ? 'REFUNDED' : 'FAILED');
          // A void that found nothing captured may have overtaken a late capture payments announced since.
          if (move.lateRefund) await repo.applyLateRefund(trx, id);
        });
        onCompensation?.();
        return 'EXPIRED';
      }
      case 'CANCELLING': {
        const amountCents = Number(saga.total_cents);
        await command(async (once) => {
          const reply = await transport.send({ type: 'RefundPayment', id: `refund:${id}`, orderId: id, amountCents }, once);
          if (reply.outcome === 'FAILED') throw new Error(`refund of ${id} failed`);
          return reply;
        }, `refund ${id}`);
        await command((once) => transport.send({ type: 'ReleaseStock', id: `release:${id}`, orderId: id }, once), `release ${id}`);
        await repo.transaction(async (trx) => {
          if (!(await repo.setSaga(trx, id, 'CANCELLED', 'CANCELLING'))) return;
          await repo.setOrderStatus(trx, id, 'CONFIRMED', { status: 'CANCELLED', paymentStatus: 'REFUNDED' });
          await repo.addToOutbox(trx, { type: 'OrderCancelled', orderId: id, customerId: saga.customer_id });
        });
        void relay.kick();
        onOutcome?.('cancelled');
        return 'CANCELLED';
      }
      default:
        return undefined; // terminal
    }
  }

  /**
   * PAYING past the deadline, or its charge refused as poison (`poison`): the order is REJECTED now
   * (its payment status stays PENDING until the void says what happened) and EXPIRING compensates.
   */
  async function expire(saga: SagaRow, poison?: PoisonCommandError): Promise<SagaState> {
    const id = saga.order_id;
    const expired = await repo.transaction(async (trx) => {
      const move = await repo.setSagaRejecting(trx, id, 'EXPIRING', 'PAYING', { charge_outcome: 'EXPIRED' });
      if (!move.moved) return false;
      await repo.setOrderStatus(trx, id, 'PENDING', { status: 'REJECTED', paymentStatus: 'PENDING', rejectionReason: REASONS.EXPIRED.reason });
      if (move.lateRefund) await repo.applyLateRefund(trx, id);
      return true;
    });
    if (expired) {
      if (poison)
        logger.error({ orderId: id, commandId: poison.commandId }, 'charge refused as poison (dead-lettered); order rejected, stock release and void follow');
      else logger.warn({ orderId: id, deadlineMs }, 'saga deadline passed before the payment was settled; order rejected, stock release and void follow');
      onOutcome?.('rejected');
    }
    return 'EXPIRING';
  }

  /** Drives a saga to a terminal state; one driver per saga in this process. */
  function drive(orderId: string): Promise<void> {
    const existing = driving.get(orderId);
    if (existing) return existing;
    const run = (async () => {
      for (;;) {
        const saga = await repo.saga(orderId);
        if (!saga || stopping) return;
        const next = await step(saga);
        if (next === undefined || !isActive(next)) return;
      }
    })()
      .catch((error: unknown) => {
        if (!stopping) logger.error({ err: error, orderId }, 'saga step failed; the sweeper resumes it');
      })
      .finally(() => driving.delete(orderId));
    driving.set(orderId, run);
    return run;
  }

  /**
   * `Prefer: wait`: until the order is terminal or the wait is over. While this process drives its
   * saga, the driver is awaited; otherwise (a driver that failed and left the saga to the sweeper,
   * a saga another process drives) the order is read every WAIT_POLL_MS.
   */
  async function waitFor(order: Order, waitSeconds: number | undefined): Promise<Order> {
    if (!waitSeconds) return order;
    return waitUntil(order, Date.now() + waitSeconds * 1000);
  }

  /** waitFor with the end of the wait as an instant (Date.now() ms): the order once terminal, else as it is then. */
  async function waitUntil(order: Order, deadline: number): Promise<Order> {
    for (let current = order; ;) {
      const left = deadline - Date.now();
      if (isTerminal(current.status) || left <= 0) return current;
      const running = driving.get(order.id);
      if (running) await within(running, left);
      else await sleep(Math.min(WAIT_POLL_MS, left));
      current = (await repo.load(order.id)) ?? current;
    }
  }

  return {
    async place(customerId: string, body: CreateOrderRequest, options: { idempotencyKey?: string; waitSeconds?: number }): Promise<PlaceResult> {
      const key = options.idempotencyKey;
      const idempotency = key === undefined ? undefined : { key, hash: requestHash(body) };
      const replay = async (): Promise<PlaceResult | undefined> => {
        if (idempotency === undefined) return undefined;
        const started = Date.now();
        const waitMs = (options.waitSeconds ?? 0) * 1000;
        for (;;) {
          const existing = await repo.idempotencyKey(customerId, idempotency.key);
          if (!existing) return undefined;
          if (existing.request_hash !== idempotency.hash) {
            throw new AppError('idempotency-key-reused', 'this Idempotency-Key was used with a different request body');
          }
          const order = await repo.load(existing.order_id);
          if (order) {
            const left = options.waitSeconds === undefined ? undefined : Math.max(0, started + waitMs - Date.now()) / 1000;
            return { order: await waitFor(order, left), replayed: true };
          }
          // The first request holds the key and is still reserving: its order appears, or the key
          // is given back when it is refused (then this one places the order itself).
          if (Date.now() - started >= Math.max(FIRST_REQUEST_WAIT_MS, waitMs)) {
            throw new AppError('idempotency-in-progress', 'a request with this Idempotency-Key is in progress');
          }
          await sleep(FIRST_REQUEST_POLL_MS);
        }
      };
      /** Ends a saga whose order will never exist, and gives back the key it claimed. */
      const abandon = async (id: string, to: 'REFUSED' | 'ABORTING') => {
        if (idempotency === undefined) await repo.setSaga(repo.db, id, to, 'RESERVING');
        else
          await repo.transaction(async (trx) => {
            if (await repo.setSaga(trx, id, to, 'RESERVING')) await repo.releaseKey(trx, customerId, id);
          });
      };

      const id = newId('ord');
      reserving.add(id);
      try {
        // The key is claimed with the saga, before any stock is reserved: a copy of this request
        // sent at the same time finds the key and answers as a replay instead of reserving too
        // (and being refused for stock this order took).
        for (let attempt = 1; ; attempt++) {
          const earlier = await replay();
          if (earlier) return earlier;
          try {
            await repo.insertSaga(
              { order_id: id, customer_id: customerId, state: 'RESERVING', items: JSON.stringify(body.items), payment_token: body.payment.token },
              idempotency,
            );
            break;
          } catch (error) {
            // Another request claimed the key between the look and the claim: replay it (again).
            if (idempotency === undefined || !isUniqueViolation(error)) throw error;
            if (attempt >= CLAIM_ATTEMPTS) throw new AppError('idempotency-in-progress', 'a request with this Idempotency-Key is in progress');
          }
        }
        let reply;
        try {
          // Not a saga step: the request waits for it, so the transport's INTERNAL_ATTEMPTS are its one retry layer.
          reply = await transport.send({ type: 'ReserveStock', id: `reserve:${id}`, orderId: id, items: body.items });
        } catch (error) {
          // The reservation may have happened: compensate in the background, answer 502 now.
          await abandon(id, 'ABORTING');
          void drive(id);
          throw error instanceof AppError ? error : new DependencyError('inventory', 'inventory did not answer', { cause: error });
        }
        if (!reply.ok) {
          await abandon(id, 'REFUSED');
          if (reply.code === 'already-released') throw new AppError('internal-error', reply.detail);
          throw new AppError(reply.code, reply.detail, reply.errors ? { errors: reply.errors } : {});
        }
        const totalCents = reply.items.reduce((sum, item) => sum + item.quantity * item.unitPriceCents, 0);
        try {
          await repo.transaction(async (trx) => {
            await repo.insertOrder(trx, { id, customerId, token: body.payment.token, totalCents, items: reply.items });
            await repo.setSaga(trx, id, 'PAYING', 'RESERVING', { total_cents: totalCents });
          });
        } catch (error) {
          await abandon(id, 'ABORTING');
          void drive(id);
          throw error;
        }
      } finally {
        reserving.delete(id);
      }
      const running = drive(id);
      if (!options.waitSeconds) return { order: (await repo.load(id))!, replayed: false };
      const deadline = Date.now() + options.waitSeconds * 1000;
      await within(running, options.waitSeconds * 1000);
      // The driver also returns when a step failed and left the saga to the sweeper (or to another
      // process): then the order is polled for what is left of the wait, as GET does.
      return { order: await waitUntil((await repo.load(id))!, deadline), replayed: false };
    },

    async get(customerId: string, id: string, waitSeconds?: number): Promise<Order> {
      const order = await repo.load(id, customerId);
      if (!order) throw new AppError('not-found', `no order ${id.slice(0, 60)}`);
      return waitFor(order, waitSeconds);
    },

    list(customerId: string, limit: number, status?: OrderStatus, beforeId?: string) {
      return repo.list(customerId, limit, status, beforeId);
    },

    /** Customer cancel of a confirmed order: refund and restock, then CANCELLED. */
    async cancel(customerId: string, id: string): Promise<Order> {
      const order = await repo.load(id, customerId);
      if (!order) throw new AppError('not-found', `no order ${id.slice(0, 60)}`);
      if (!canCancel(order.status)) throw new AppError('order-not-cancellable', `order is ${order.status}; only CONFIRMED orders can be cancelled`);
      if (!(await repo.setSaga(repo.db, id, 'CANCELLING', 'CONFIRMED'))) throw new AppError('order-not-cancellable', 'order was cancelled concurrently');
      await Promise.race([drive(id), sleep(cancelWaitMs)]);
      const after = (await repo.load(id))!;
      if (after.status !== 'CANCELLED') {
        throw new DependencyError('payments', 'the refund or restock is taking longer than expected; the cancellation completes in the background');
      }
      return after;
    },

    /**
     * Drives every unfinished saga this process is not already driving: at start (resume after a
     * crash) and periodically (a driver that gave up). Returns how many it picked up.
     */
    async sweep(): Promise<number> {
      let picked = 0;
      // Every page, not just the first: sagas stuck on a dead dependency must not hide newer ones
      // from the sweep (they would miss their deadline after a restart).
      for (let after: string | undefined; ;) {
        const sagas = await repo.activeSagas(500, after);
        for (const saga of sagas) {
          if (driving.has(saga.order_id) || reserving.has(saga.order_id)) continue;
          picked++;
          void drive(saga.order_id);
        }
        if (sagas.length < 500) return picked;
        after = sagas[sagas.length - 1]!.order_id;
      }
    },

    sagaCounts: () => repo.sagaCounts(),

    /**
     * Events for the orders service (EVENT_SUBSCRIBERS): LateCaptureRefunded, payments' word that
     * it captured a charge it had answered FAILED and refunds it. A REJECTED order's payment status
     * becomes REFUNDED, as in the monolith; one the saga has not rejected yet gets it when it does
     * (`recordLateRefund`). At least once, in any order: applying it again changes nothing.
     */
    async handleEvent(event: ServiceEvent): Promise<void> {
      if (event.type !== 'LateCaptureRefunded') throw new PoisonMessageError(`orders does not take ${event.type}`);
      const result = await repo.recordLateRefund(event.orderId);
      if (result === 'unknown') logger.warn({ orderId: event.orderId, eventId: event.id }, 'late capture refunded for an order this service does not know');
      else logger.info({ orderId: event.orderId, applied: result === 'refunded' }, "payments refunded a late capture; the order's payment shows REFUNDED");
    },

    /** Stops driving (graceful shutdown); unfinished sagas are resumed at next start. */
    async drain(timeoutMs = 5000): Promise<void> {
      await Promise.race([Promise.allSettled([...driving.values()]), sleep(timeoutMs)]);
      stopping = true;
    },
  };
}

export type Orders = ReturnType<typeof createOrders>;
