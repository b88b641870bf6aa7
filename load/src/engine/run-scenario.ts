import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import {
  REQUEST_TIMEOUT_SECONDS,
  afterResponse,
  buildRequest,
  createVuState,
  needsBody,
  orderFields,
  pickRequest,
  responseFailure,
  statusKey,
} from '../scenarios/requests.ts';
import type { OrderFailure, VuState } from '../scenarios/requests.ts';
import { loadDurationSeconds, loadModelOf } from '../scenarios/definitions.ts';
import type { LoadModel, ScenarioDefinition } from '../scenarios/types.ts';
import { LatencyHistogram } from './histogram';
import { arrivalSchedule } from './schedule';

export interface RunScenarioOptions {
  /**
   * Where the topology answers, e.g. `http://127.0.0.1:4100`, or with a path prefix every request
   * path is appended to (`https://host/prod` sends `GET /prod/products`, as k6's `${baseUrl}${path}`).
   */
  baseUrl: string;
  scenario: ScenarioDefinition;
  /** Customer bearer tokens; VU n acts as customer n mod tokens.length. */
  tokens: string[];
  /** Called about once a second while running. */
  onProgress?: (progress: RunProgress) => void;
  /** Per-request timeout, ms (a timed-out request counts as a transport error, status 0); default REQUEST_TIMEOUT_SECONDS, as the k6 scripts. */
  requestTimeoutMs?: number;
  /**
   * Keep one event per request (time, kind, status, latency, order id): fault experiments need
   * the time line and the ids of accepted orders. Off for ordinary runs (a histogram suffices).
   */
  recordEvents?: boolean;
}

/**
 * One request of a run with `recordEvents`: `at` is ms from the start of the run to the request's
 * scheduled (open model) or send (closed model) time; `ms` its latency; for orders the id and
 * status the API answered with (absent when it gave none).
 */
export interface RequestEvent {
  at: number;
  kind: 'browse' | 'order';
  status: number;
  ok: boolean;
  ms: number;
  orderId?: string;
  orderStatus?: string;
  /**
   * An open-model iteration that was due but never sent (every VU busy, as when the system hangs
   * instead of refusing): a failure for the user who wanted it, with no latency to count (`ms` 0).
   * Its kind is drawn from the mix, as the request it would have been.
   */
  dropped?: true;
}

export interface RunProgress {
  scenario: string;
  elapsedSeconds: number;
  /** Requests completed so far, failed ones included. */
  requests: number;
  failed: number;
  /** Successful requests per second so far (as the results count throughput). */
  rps: number;
  /** false: the engine counts only at the end (k6 reports no live counts), so the figures above are not known yet. */
  counted?: boolean;
}

/** Figures of one run of one scenario (one round against one topology), histogram included. */
export interface SegmentResult {
  scenario: string;
  loadModel: LoadModel;
  startedAt: string;
  /** Seconds from the first scheduled request to the last response. */
  durationSeconds: number;
  requests: number;
  failed: number;
  /**
   * Responses by HTTP status (`0`: transport error); an order answered 201 that is not CONFIRMED
   * under `201 <failure>` (`201 rejected: payment_provider_error`, see ORDER_FAILURES).
   */
  statusCounts: Record<string, number>;
  /**
   * Of the requests without a response (status 0), those whose connection was refused or reset
   * (ECONNREFUSED, ECONNRESET, "other side closed"), not timed out: a target that is gone rather
   * than slow. Embedded engine only (k6 does not say).
   */
  connectionFailures?: number;
  dropped: number;
  /** POST /orders answered 201 with the order CONFIRMED. */
  ordersPlaced: number;
  /** Encoded HdrHistogram of latencies (µs); absent for k6 runs, which only report percentiles. */
  histogram?: string;
  latencyMs: { p50: number; p90: number; p95: number; p99: number; max: number; mean?: number };
  /** Threshold outcomes when the engine evaluated them itself (k6); else computed from the histogram. */
  thresholds?: { metric: string; expression: string; passed: boolean }[];
  /** Every request, with `recordEvents` (embedded engine only). */
  events?: RequestEvent[];
}

interface Tally {
  requests: number;
  failed: number;
  ordersPlaced: number;
  /** By HTTP status, and by `201 <failure>` for orders that were not placed (statusKey). */
  statusCounts: Map<string, number>;
  connectionFailures: number;
  histogram: LatencyHistogram;
  lastCompletion: number;
  events: RequestEvent[] | undefined;
  start: number;
}

interface SendResult {
  status: number;
  kind: string;
  ok: boolean;
  /** Why it failed (responseFailure); undefined when ok. */
  failure: OrderFailure | 'status' | undefined;
  orderId?: string;
  orderStatus?: string;
  /** No response because the connection was refused or reset (not a timeout). */
  connectionFailed?: boolean;
}

/**
 * Whether a request that got no response failed on its connection (refused, reset, closed by the
 * other side) rather than by a timeout or anything else.
 * @example connectionFailed(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })) // true
 */
export function connectionFailed(error: unknown): boolean {
  for (let e = error as { code?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (e.code === 'ECONNREFUSED' || e.code === 'ECONNRESET' || e.code === 'EPIPE') return true;
    if (typeof e.message === 'string' && /other side closed/i.test(e.message)) return true;
  }
  return false;
}

async function send(pool: Pool, pathPrefix: string, vu: VuState, scenario: ScenarioDefinition, timeoutMs: number, keepOrder: boolean): Promise<SendResult> {
  const kind = pickRequest(scenario.mix, vu.random);
  const spec = buildRequest(kind, vu);
  let status = 0;
  let body: string | null = null;
  let text: string | null = null;
  let lostConnection = false;
  try {
    const response = await pool.request({
      method: spec.method,
      path: `${pathPrefix}${spec.path}`,
      headers: spec.headers,
      body: spec.body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    status = response.statusCode;
    // Reading the whole body is part of the request, as in k6's http_req_duration.
    text = await response.body.text();
    body = needsBody(kind) ? text : null;
  } catch (error) {
    status = 0;
    text = null;
    lostConnection = connectionFailed(error);
  }
  afterResponse(kind, vu, status, body);
  // An order's body is read only as far as needed: its status (a 201 is placed only when CONFIRMED),
  // and with keepOrder (fault experiments) its id, for the audit of the real state.
  const failure = responseFailure(kind, status, kind === 'place-order' ? text : null);
  const result: SendResult = { status, kind, ok: failure === undefined, failure };
  if (lostConnection) result.connectionFailed = true;
  if (keepOrder && kind === 'place-order' && text !== null && (status === 201 || status === 202 || status === 200)) {
    const order = orderFields(text);
    if (order.id !== undefined) result.orderId = order.id;
    if (order.status !== undefined) result.orderStatus = order.status;
  }
  return result;
}

function record(tally: Tally, result: SendResult, latencyMs: number, startedAt: number) {
  tally.requests++;
  if (!result.ok) tally.failed++;
  if (result.ok && result.kind === 'place-order') tally.ordersPlaced++;
  const key = statusKey(result.status, result.failure);
  tally.statusCounts.set(key, (tally.statusCounts.get(key) ?? 0) + 1);
  if (result.connectionFailed) tally.connectionFailures++;
  tally.histogram.recordMs(latencyMs);
  tally.lastCompletion = performance.now();
  if (tally.events) {
    const event: RequestEvent = {
      at: Math.round((startedAt - tally.start) * 10) / 10,
      kind: result.kind === 'place-order' ? 'order' : 'browse',
      status: result.status,
      ok: result.ok,
      ms: Math.round(latencyMs * 100) / 100,
    };
    if (result.orderId !== undefined) event.orderId = result.orderId;
    if (result.orderStatus !== undefined) event.orderStatus = result.orderStatus;
    tally.events.push(event);
  }
}

/**
 * Runs one scenario against a base URL and returns its figures.
 *
 * Open model (arrival-rate executors): iteration i is due at a fixed time from the schedule; it
 * runs on a free VU, and its latency counts from the *due* time, so time spent waiting for a
 * connection, or for this process's own event loop, is charged to the request (no coordinated
 * omission). When all `maxVUs` are busy the iteration is dropped and counted, as k6 does with every
 * VU pre-allocated (which is how toK6Options maps it).
 * Closed model (constant-vus): each VU sends back to back; latency is from send to last byte.
 * @example await runScenario({ baseUrl: 'http://127.0.0.1:3000', scenario: browse(50, 5), tokens })
 */
export async function runScenario(options: RunScenarioOptions): Promise<SegmentResult> {
  const { scenario } = options;
  const load = scenario.load;
  const timeoutMs = options.requestTimeoutMs ?? REQUEST_TIMEOUT_SECONDS * 1000;
  const maxVUs = load.executor === 'constant-vus' ? load.vus : load.maxVUs;
  // undici's Pool takes an origin only: a path prefix of the base URL goes in front of every path.
  const base = new URL(options.baseUrl);
  if (base.search !== '' || base.hash !== '') throw new Error(`base URL ${options.baseUrl} must not have a query or fragment`);
  const pathPrefix = base.pathname.replace(/\/+$/, '');
  // One connection per VU, as k6 keeps one connection per VU: a VU never waits for another's socket.
  const pool = new Pool(base.origin, { connections: maxVUs, pipelining: 1, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 60_000 });
  const startedAt = new Date().toISOString();
  const start = performance.now();
  const keep = options.recordEvents === true;
  const tally: Tally = {
    requests: 0,
    failed: 0,
    ordersPlaced: 0,
    statusCounts: new Map(),
    connectionFailures: 0,
    histogram: new LatencyHistogram(),
    lastCompletion: start,
    events: keep ? [] : undefined,
    start,
  };
  const durationMs = loadDurationSeconds(load) * 1000;
  let dropped = 0;

  const progressTimer = options.onProgress
    ? setInterval(() => {
        const elapsedSeconds = (performance.now() - start) / 1000;
        options.onProgress!({
          scenario: scenario.name,
          elapsedSeconds,
          requests: tally.requests,
          failed: tally.failed,
          rps: elapsedSeconds > 0 ? (tally.requests - tally.failed) / elapsedSeconds : 0,
        });
      }, 1000)
    : undefined;

  try {
    if (load.executor === 'constant-vus') {
      const end = start + durationMs;
      const vus = Array.from({ length: load.vus }, (_, i) => createVuState(i + 1, options.tokens));
      await Promise.all(
        vus.map(async (vu) => {
          while (performance.now() < end) {
            const sentAt = performance.now();
            const result = await send(pool, pathPrefix, vu, scenario, timeoutMs, keep);
            record(tally, result, performance.now() - sentAt, sentAt);
          }
        }),
      );
    } else {
      const schedule = arrivalSchedule(load);
      const free: VuState[] = Array.from({ length: load.preAllocatedVUs }, (_, i) => createVuState(i + 1, options.tokens));
      let created = free.length;
      const inFlight = new Set<Promise<void>>();
      const iterate = (vu: VuState, dueAt: number) => {
        const task = send(pool, pathPrefix, vu, scenario, timeoutMs, keep).then((result) => {
          record(tally, result, performance.now() - dueAt, dueAt);
          free.push(vu);
          inFlight.delete(task);
        });
        inFlight.add(task);
      };
      let index = 0;
      let firedWithoutYield = 0;
      for (;;) {
        const offset = schedule(index);
        if (offset === null) break;
        const dueAt = start + offset * 1000;
        const wait = dueAt - performance.now();
        if (wait > 1) {
          await sleep(wait);
          firedWithoutYield = 0;
        } else if (++firedWithoutYield >= 16) {
          // Behind schedule: still let responses be processed, or VUs would never come back.
          await yieldToLoop();
          firedWithoutYield = 0;
        }
        // Every iteration already due goes out now; late ones keep their original due time.
        let vu = free.pop();
        if (!vu && created < load.maxVUs) vu = createVuState(++created, options.tokens);
        if (vu) iterate(vu, dueAt);
        else {
          dropped++;
          if (tally.events) {
            const kind = pickRequest(scenario.mix, Math.random) === 'place-order' ? 'order' : 'browse';
            tally.events.push({ at: Math.round((dueAt - start) * 10) / 10, kind, status: 0, ok: false, ms: 0, dropped: true });
          }
        }
        index++;
      }
      await Promise.all(inFlight);
    }
  } finally {
    if (progressTimer) clearInterval(progressTimer);
    await pool.close().catch(() => undefined);
  }

  const durationSeconds = Math.max((tally.lastCompletion - start) / 1000, durationMs / 1000, 0.001);
  const statusCounts: Record<string, number> = {};
  for (const [key, count] of [...tally.statusCounts].sort((a, b) => parseInt(a[0], 10) - parseInt(b[0], 10) || a[0].localeCompare(b[0])))
    statusCounts[key] = count;
  return {
    scenario: scenario.name,
    loadModel: loadModelOf(load),
    startedAt,
    durationSeconds,
    requests: tally.requests,
    failed: tally.failed,
    statusCounts,
    connectionFailures: tally.connectionFailures,
    dropped,
    ordersPlaced: tally.ordersPlaced,
    histogram: tally.histogram.encode(),
    latencyMs: tally.histogram.summary(),
    ...(tally.events ? { events: tally.events } : {}),
  };
}
