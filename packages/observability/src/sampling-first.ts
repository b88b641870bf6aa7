// Internal: a Tracer that asks the sampler before the SDK makes anything, so a span that will not
// be recorded (9 requests in 10 under the production default) costs one random draw and one small
// object, and its ids only if something reads them.
import { randomFillSync } from 'node:crypto';
import { SamplingDecision, SpanKind, TraceFlags, context as contextApi, trace } from '@opentelemetry/api';
import type { Context, Span, SpanContext, SpanOptions, Tracer } from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import type { IdGenerator, Sampler } from '@opentelemetry/sdk-trace-base';
import { activeContext } from './context';
import { LightSpan } from './light-span';
import { PooledSpanContext } from './span-context';
import type { LightSpanSetup } from './light-span';

const POOL_BYTES = 8 * 1024;

/**
 * Random trace and span ids from a pool filled by the CSPRNG (one fill per ~340 traces), with a
 * one-shot preset trace id: the SamplingFirstTracer decides on a trace id, then has the SDK use
 * exactly that id, so the SDK's own sampling decision is the same one.
 */
export class PresetIdGenerator implements IdGenerator {
  #pool = Buffer.allocUnsafe(POOL_BYTES);
  #offset = POOL_BYTES;
  /** The trace id the next `generateTraceId` returns (then cleared). */
  preset: string | undefined;

  #hex(bytes: number): string {
    return this.#hexAt(this.#draw(bytes), bytes);
  }

  /**
   * Reserves `bytes` non-zero random bytes of the pool and returns where they start; they stay
   * valid until the next draw (a PooledSpanContext copies them out at once).
   */
  #draw(bytes: number): number {
    for (;;) {
      const start = this.#reserve(bytes);
      // All zeros is the invalid id; draw again (1 in 2^64 or 2^128).
      for (let i = start; i < start + bytes; i++) if (this.#pool[i] !== 0) return start;
    }
  }

  /** Reserves `bytes` random bytes of the pool, any value; returns where they start. */
  #reserve(bytes: number): number {
    if (this.#offset + bytes > POOL_BYTES) {
      randomFillSync(this.#pool);
      this.#offset = 0;
    }
    const start = this.#offset;
    this.#offset += bytes;
    return start;
  }

  /** The pool the offsets returned by the draws point into (refilled in place). */
  get pool(): Buffer {
    return this.#pool;
  }

  /** The 32-bit big-endian word of the pool at `at`. */
  #word(at: number): number {
    const p = this.#pool;
    return ((p[at]! << 24) | (p[at + 1]! << 16) | (p[at + 2]! << 8) | p[at + 3]!) >>> 0;
  }

  /**
   * A uniformly random 32-bit number: a root span's sampling draw, which becomes its trace id's
   * accumulation when the ids are made (drawRootBytesFor).
   */
  drawAccumulation(): number {
    return this.#word(this.#reserve(4));
  }

  /**
   * Draws the ids of a root span whose trace id has the given accumulation (the XOR of its four
   * 32-bit words, what the ratio sampler compares): three random words, and the fourth that makes
   * the XOR come out, then an 8-byte span id; neither id all zeros. For an accumulation drawn
   * uniformly (drawAccumulation) the trace id is uniformly random, and the ratio sampler decides
   * on it as it was decided on the accumulation. Returns the trace id's offset.
   */
  drawRootBytesFor(accumulation: number): number {
    for (;;) {
      const at = this.#reserve(24);
      const p = this.#pool;
      const last = (accumulation ^ this.#word(at) ^ this.#word(at + 4) ^ this.#word(at + 8)) >>> 0;
      p[at + 12] = last >>> 24;
      p[at + 13] = (last >>> 16) & 0xff;
      p[at + 14] = (last >>> 8) & 0xff;
      p[at + 15] = last & 0xff;
      let span = 0;
      for (let i = at + 16; i < at + 24; i++) span |= p[i]!;
      // All zeros needs accumulation 0 and three zero words (1 in 2^96 of those): draw again.
      if (span === 0 || (last | this.#word(at) | this.#word(at + 4) | this.#word(at + 8)) === 0) continue;
      return at;
    }
  }

  /** Draws a span id as bytes; returns its offset. */
  drawSpanBytes(): number {
    return this.#draw(8);
  }

  /** The hex of pool bytes drawn last. */
  #hexAt(at: number, bytes: number): string {
    return this.#pool.toString('hex', at, at + bytes);
  }

  generateTraceId(): string {
    const preset = this.preset;
    if (preset !== undefined) {
      this.preset = undefined;
      return preset;
    }
    return this.#hex(16);
  }

  generateSpanId(): string {
    return this.#hex(8);
  }
}

/** The context of a root span with fresh ids whose trace id has the given accumulation (see drawRootBytesFor). */
function rootSpanContext(ids: PresetIdGenerator, accumulation: number, traceFlags: number): PooledSpanContext {
  const at = ids.drawRootBytesFor(accumulation);
  return new PooledSpanContext(at, ids.pool, at + 16, traceFlags, undefined);
}

/**
 * A non-recording span, as `trace.wrapSpanContext` makes, over a context whose ids become hex only
 * when read. A root span the ratio sampler turned down gets no ids until something reads its
 * context (a log line, a traceparent, a child span): most such requests never do, and then only its
 * sampling draw was made.
 */
export class UnsampledSpan implements Span {
  #context: PooledSpanContext | undefined;
  /** For a deferred root: where its ids will come from, and the accumulation its trace id must have. */
  readonly #ids: PresetIdGenerator | undefined;
  readonly #accumulation: number;

  constructor(context: PooledSpanContext | undefined, ids?: PresetIdGenerator, accumulation = 0) {
    this.#context = context;
    this.#ids = ids;
    this.#accumulation = accumulation;
  }

  spanContext(): SpanContext {
    return (this.#context ??= rootSpanContext(this.#ids!, this.#accumulation, TraceFlags.NONE));
  }

  setAttribute(): this {
    return this;
  }
  setAttributes(): this {
    return this;
  }
  addEvent(): this {
    return this;
  }
  addLink(): this {
    return this;
  }
  addLinks(): this {
    return this;
  }
  setStatus(): this {
    return this;
  }
  updateName(): this {
    return this;
  }
  end(): void {}
  isRecording(): boolean {
    return false;
  }
  recordException(): void {}
}

/**
 * Wraps the SDK's tracer for a deterministic sampler (the samplers named by OTEL_TRACES_SAMPLER:
 * their decision depends only on the parent and the trace id). It asks the sampler first, with the
 * trace id the span would get; a span that is not to be recorded becomes a non-recording span
 * carrying those ids, exactly what the SDK would return, without the SDK's attribute sanitizing,
 * link copying, self-metrics and id generation. A span to be recorded is made by the SDK, handed
 * the same trace id, so it decides the same way, or, when spans go only to the protobuf
 * processor, as a LightSpan.
 */
export class SamplingFirstTracer implements Tracer {
  /** For a root span under a trace-id-ratio sampler: the SDK's bound, compared with the id's accumulation directly. */
  readonly #rootUpperBound: number | undefined;

  /**
   * @param rootRatio the ratio of the TraceIdRatioBasedSampler deciding root spans, when the
   *   sampler is `traceidratio` or `parentbased_traceidratio` (decided from the id's bytes then)
   */
  constructor(
    private readonly sdk: Tracer,
    private readonly sampler: Sampler,
    private readonly ids: PresetIdGenerator,
    rootRatio?: number,
    /** The sampler is one of the `parentbased_*` ones with default delegates: a valid parent's sampled flag decides. */
    private readonly parentDecides = false,
    /** When spans go only to the protobuf processor: recorded spans are LightSpans, not the SDK's. */
    private readonly light?: LightSpanSetup,
    /** The sampler's decision for every root span, when it is a constant (always_on/off and their parent-based forms). */
    private readonly rootRecords?: boolean,
  ) {
    if (rootRatio !== undefined) {
      // TraceIdRatioBasedSampler's normalisation and bound, as in @opentelemetry/sdk-trace-base.
      const ratio = typeof rootRatio !== 'number' || Number.isNaN(rootRatio) ? 0 : rootRatio >= 1 ? 1 : rootRatio <= 0 ? 0 : rootRatio;
      this.#rootUpperBound = ratio === 1 ? 0x100000000 : Math.floor(ratio * 0xffffffff);
    }
  }

  startSpan(name: string, options: SpanOptions = {}, ctx: Context = activeContext()): Span {
    if (options.root) ctx = trace.deleteSpan(ctx);
    if (isTracingSuppressed(ctx)) return this.sdk.startSpan(name, options, ctx);
    const parent = trace.getSpanContext(ctx);
    // A context made here is valid by construction; any other is checked as the SDK checks it.
    const validParent = parent !== undefined && (parent instanceof PooledSpanContext || trace.isSpanContextValid(parent));
    const ids = this.ids;
    if (validParent && this.parentDecides) {
      const sampled = (parent.traceFlags & TraceFlags.SAMPLED) !== 0;
      if (sampled && this.light === undefined) return this.#sdkSpan(name, options, ctx, true, parent.traceId);
      const trace = parent instanceof PooledSpanContext ? parent : parent.traceId;
      const own = new PooledSpanContext(trace, ids.pool, ids.drawSpanBytes(), sampled ? TraceFlags.SAMPLED : TraceFlags.NONE, parent.traceState);
      return sampled ? this.#lightSpan(name, options, own, parent) : new UnsampledSpan(own);
    }
    if (this.rootRecords !== undefined && validParent) {
      // always_on / always_off (not parent-based, or the parent would have decided above): the
      // same decision for a child as for a root, in the parent's trace with its tracestate.
      if (this.rootRecords && this.light === undefined) return this.#sdkSpan(name, options, ctx, true, parent.traceId);
      const trace = parent instanceof PooledSpanContext ? parent : parent.traceId;
      const own = new PooledSpanContext(trace, ids.pool, ids.drawSpanBytes(), this.rootRecords ? TraceFlags.SAMPLED : TraceFlags.NONE, parent.traceState);
      return this.rootRecords ? this.#lightSpan(name, options, own, parent) : new UnsampledSpan(own);
    }
    if (!validParent && (this.#rootUpperBound !== undefined || this.rootRecords !== undefined)) {
      // A root span decided on the accumulation its trace id will have (ratio) or always the same
      // way (always_on/off); one turned down gets its ids only when they are read.
      const accumulation = ids.drawAccumulation();
      const record = this.#rootUpperBound !== undefined ? accumulation < this.#rootUpperBound : this.rootRecords!;
      if (!record) return new UnsampledSpan(undefined, ids, accumulation);
      const own = rootSpanContext(ids, accumulation, TraceFlags.SAMPLED);
      if (this.light !== undefined) return this.#lightSpan(name, options, own, undefined);
      return this.#sdkSpan(name, options, ctx, false, own.traceId);
    }
    const traceId = validParent ? parent.traceId : ids.generateTraceId();
    const result = this.sampler.shouldSample(ctx, traceId, name, options.kind ?? SpanKind.INTERNAL, options.attributes ?? {}, options.links ?? []);
    const record = result.decision !== SamplingDecision.NOT_RECORD;
    const sampled = result.decision === SamplingDecision.RECORD_AND_SAMPLED;
    const traceState = result.traceState ?? (validParent ? parent.traceState : undefined);
    // A sampler adding attributes: the SDK merges them; leave that to it.
    if (record && (this.light === undefined || result.attributes !== undefined)) return this.#sdkSpan(name, options, ctx, validParent, traceId);
    const own = new PooledSpanContext(traceId, ids.pool, ids.drawSpanBytes(), sampled ? TraceFlags.SAMPLED : TraceFlags.NONE, traceState);
    if (!record) return new UnsampledSpan(own);
    return this.#lightSpan(name, options, own, validParent ? parent : undefined);
  }

  #lightSpan(name: string, options: SpanOptions, spanContext: PooledSpanContext, parent: SpanContext | undefined): Span {
    return new LightSpan(this.light!, spanContext, name, options.kind ?? SpanKind.INTERNAL, parent, options.attributes, options.links, options.startTime);
  }

  #sdkSpan(name: string, options: SpanOptions, ctx: Context, validParent: boolean, traceId: string): Span {
    if (!validParent) this.ids.preset = traceId;
    try {
      return this.sdk.startSpan(name, options, ctx);
    } finally {
      this.ids.preset = undefined;
    }
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, ctx: Context, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, a2: F | SpanOptions, a3?: F | Context, a4?: F): ReturnType<F> {
    let options: SpanOptions = {};
    let ctx: Context = activeContext();
    let fn: F;
    if (typeof a2 === 'function') fn = a2;
    else if (typeof a3 === 'function') {
      options = a2;
      fn = a3;
    } else {
      options = a2;
      ctx = a3 ?? ctx;
      fn = a4!;
    }
    const span = this.startSpan(name, options, ctx);
    return contextApi.with(trace.setSpan(ctx, span), fn as (s: Span) => ReturnType<F>, undefined, span);
  }
}
