/**
 * The function boundaries of the serverless app, in one place: which workers exist, what each
 * binds and which queue each consumes. The local launcher builds miniflare's options from it and
 * a test holds the wrangler configs (what a deploy uses) to the same names and settings.
 */
export const COMPATIBILITY_DATE = '2025-09-01';
/** node:crypto, Buffer and node:timers for the shared contract and domain packages. */
export const COMPATIBILITY_FLAGS = ['nodejs_compat'] as const;

export const QUEUES = {
  /** Commands to the payment step of the order saga: charge a placed order, refund a cancelled one. */
  payments: 'archbench-payments',
  /** Order events (OrderConfirmed, OrderCancelled) for shipping. */
  orderEvents: 'archbench-order-events',
  /** Messages that failed every retry, from either queue. */
  deadLetters: 'archbench-dead-letters',
} as const;

export const D1_DATABASE = { binding: 'DB', name: 'archbench' } as const;

/** Consumer settings, the same locally and on Cloudflare. */
export const CONSUMER_SETTINGS = {
  maxBatchSize: 10,
  /** Seconds a partial batch may wait; 0 hands every message over at once (the saga is latency-bound). */
  maxBatchTimeout: 0,
  /** Attempts after the first before a message goes to the dead-letter queue. */
  maxRetries: 3,
  /** Seconds before a failed message is delivered again. */
  retryDelay: 1,
} as const;

export type WorkerName = 'api' | 'payments' | 'shipping';

export interface WorkerDefinition {
  name: WorkerName;
  /** Entry module, relative to apps/serverless. */
  entry: string;
  /** Script name on Cloudflare. */
  scriptName: string;
  /** Queue binding name -> queue it produces to. */
  producers: Record<string, string>;
  /** Queues it consumes, with the dead-letter queue of each (none for the dead-letter queue itself). */
  consumers: Array<{ queue: string; deadLetterQueue?: string }>;
  /** Service binding name -> worker it calls (only for GET /metrics aggregation). */
  services: Record<string, WorkerName>;
  /** Cron Triggers of its `scheduled` handler (the local launcher fires them itself). */
  crons: string[];
}

export const WORKERS: readonly WorkerDefinition[] = [
  {
    name: 'api',
    entry: 'src/workers/api/index.ts',
    scriptName: 'archbench-api',
    producers: { PAYMENTS_QUEUE: QUEUES.payments, EVENTS_QUEUE: QUEUES.orderEvents },
    consumers: [{ queue: QUEUES.deadLetters }],
    services: { PAYMENTS_WORKER: 'payments', SHIPPING_WORKER: 'shipping' },
    crons: [],
  },
  {
    name: 'payments',
    entry: 'src/workers/payments/index.ts',
    scriptName: 'archbench-payments',
    // PAYMENTS_QUEUE: the refund of a capture that arrived after its order was rejected goes to
    // its own queue, as a cancel's refund does.
    producers: { PAYMENTS_QUEUE: QUEUES.payments, EVENTS_QUEUE: QUEUES.orderEvents },
    consumers: [{ queue: QUEUES.payments, deadLetterQueue: QUEUES.deadLetters }],
    services: {},
    // The sweeps that resume saga work a queue lost (src/workers/payments/reconcile.ts): PENDING
    // orders and refunds every minute, everything daily.
    crons: ['* * * * *', '0 3 * * *'],
  },
  {
    name: 'shipping',
    entry: 'src/workers/shipping/index.ts',
    scriptName: 'archbench-shipping',
    producers: {},
    consumers: [{ queue: QUEUES.orderEvents, deadLetterQueue: QUEUES.deadLetters }],
    services: {},
    crons: [],
  },
];
