// Internal: the pieces of request context that tracing, logging and the HTTP client share.
// Kept in one module so none of them imports another's runtime code in a cycle.
import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import { ROOT_CONTEXT, context, createContextKey, trace } from '@opentelemetry/api';
import type { Context, Span, TextMapGetter, TextMapSetter } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

/** Where the request id of the current request lives in the active context. */
export const REQUEST_ID_KEY = createContextKey('archbench.request_id');

/** The key `trace.setSpan` uses (the API makes keys with Symbol.for, so this is the same symbol). */
const SPAN_KEY = createContextKey('OpenTelemetry Context Key SPAN');

/**
 * The context of one server request: its request id and server span over the caller's context.
 * Reads like `parent.setValue(REQUEST_ID_KEY, id).setValue(SPAN_KEY, span)` but allocates one
 * object instead of two contexts with a Map each, per request; anything that derives a context
 * from it gets an ordinary one.
 */
export class RequestContext implements Context {
  constructor(
    readonly requestId: string,
    readonly span: Span | undefined,
    readonly parent: Context = ROOT_CONTEXT,
  ) {}

  getValue(key: symbol): unknown {
    if (key === REQUEST_ID_KEY) return this.requestId;
    if (key === SPAN_KEY && this.span !== undefined) return this.span;
    // The root context holds nothing, ever (contexts are immutable): no map lookup for the usual
    // request without a caller's context (isTracingSuppressed asks once per span).
    return this.parent === ROOT_CONTEXT ? undefined : this.parent.getValue(key);
  }

  setValue(key: symbol, value: unknown): Context {
    return this.#plain().setValue(key, value);
  }

  deleteValue(key: symbol): Context {
    return this.#plain().deleteValue(key);
  }

  #plain(): Context {
    const withId = this.parent.setValue(REQUEST_ID_KEY, this.requestId);
    return this.span === undefined ? withId : withId.setValue(SPAN_KEY, this.span);
  }
}

/**
 * Used directly rather than through the global propagation API, so two tracer setups in one
 * process (tests) agree on the format without depending on which registered first.
 */
export const propagator = new W3CTraceContextPropagator();

/** Reads and writes header tables: plain objects (AMQP) with string or Buffer values. */
export const recordGetter: TextMapGetter<Record<string, unknown>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    if (typeof value === 'string') return value;
    if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
    return undefined;
  },
};

export const recordSetter: TextMapSetter<Record<string, unknown>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

let contextManagerInstalled = false;
/** The context manager installed here, while it is the global one. */
let manager: AsyncLocalStorageContextManager | undefined;
/** Its AsyncLocalStorage (a field the OpenTelemetry class keeps public in JS), for withContext. */
let storage: AsyncLocalStorage<Context> | undefined;

/**
 * Installs the AsyncLocalStorage context manager once per process; without one,
 * `context.with` does not carry the active span across awaits.
 */
export function ensureContextManager(): void {
  if (contextManagerInstalled) return;
  contextManagerInstalled = true;
  const ours = new AsyncLocalStorageContextManager().enable();
  // Returns false when something else installed one first; that one is used then.
  if (context.setGlobalContextManager(ours)) {
    manager = ours;
    const field = (ours as unknown as { _asyncLocalStorage?: unknown })._asyncLocalStorage;
    storage = field instanceof AsyncLocalStorage ? (field as AsyncLocalStorage<Context>) : undefined;
  }
}

/**
 * `context.active()`, asked of the installed manager directly: the API looks its manager up on
 * `globalThis` and checks its version on every call (a megamorphic load and a set lookup), and
 * the request path asks several times per request. Archbench never unregisters its manager.
 */
export function activeContext(): Context {
  return manager !== undefined ? manager.active() : context.active();
}

/** AsyncResource options: no destroy hook to register for a resource that only scopes one call. */
const SCOPE_ONLY = { requireManualDestroy: true } as const;

/** Makes `ctx` the active context for the rest of the call that runInAsyncScope scopes (see withContext). */
function enterAndCall<T>(this: AsyncLocalStorage<Context>, ctx: Context, fn: () => T): T {
  this.enterWith(ctx);
  return fn();
}

/**
 * `context.with(ctx, fn)` through the installed manager's AsyncLocalStorage directly (see
 * activeContext; the manager's `with` also copies its arguments into a rest array each call).
 *
 * Same semantics as `storage.run(ctx, fn)`: there `run` builds two context frames on Node 24
 * (each a copy of the current one), one to enter and one to restore the caller's store. An
 * AsyncResource captures the caller's frame as it is and puts exactly that frame back when
 * `runInAsyncScope` returns, so only the entering frame is built. It has a cost of its own inside
 * a server: `runInAsyncScope` pushes onto node's JavaScript stack of async resources above the
 * HTTP parser's native entry, and when the parser's callback returns node's C++ trims that array
 * through V8's generic property path (about 1.1k instructions per request). Counted without the
 * GC, `run` executes 0.3k-0.7k fewer instructions per `GET` in all, but three side-by-side runs
 * did not find it faster (×1.02-×1.035 of this way's CPU on the default; observability bench
 * README, "Twenty-fourth pass"), so this way stays.
 */
export function withContext<T>(ctx: Context, fn: () => T): T {
  if (storage !== undefined) return new AsyncResource('archbench.context', SCOPE_ONLY).runInAsyncScope(enterAndCall<T>, storage, ctx, fn);
  return manager !== undefined ? manager.with(ctx, fn) : context.with(ctx, fn);
}

/** Trace, span and request id of the active context, for log lines and outgoing headers. */
export function activeIds(ctx: Context = activeContext()): { traceId?: string; spanId?: string; requestId?: string } {
  const span = trace.getSpan(ctx);
  const requestId = ctx.getValue(REQUEST_ID_KEY) as string | undefined;
  if (!span) return requestId === undefined ? {} : { requestId };
  const sc = span.spanContext();
  return { traceId: sc.traceId, spanId: sc.spanId, requestId };
}
