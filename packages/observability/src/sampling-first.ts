// Internal: a Tracer that asks the sampler before the SDK makes anything, so a span that will not
// be recorded (9 requests in 10 under the production default) costs two ids and one small object.
import { randomFillSync } from 'node:crypto';
import { SamplingDecision, SpanKind, TraceFlags, context as contextApi, trace } from '@opentelemetry/api';
import type { Context, Span, SpanContext, SpanOptions, TraceState, Tracer } from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import type { IdGenerator, Sampler } from '@opentelemetry/sdk-trace-base';
import { activeContext } from './context';
import { LightSpan } from './light-span';
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

  /**
   * What TraceIdRatioBasedSampler computes from the last trace id drawn here (the XOR of its four
   * 32-bit words), read from the bytes instead of parsed back from the hex.
   */
  lastAccumulation = 0;

  #hex(bytes: number): string {
    return this.hexAt(this.#draw(bytes), bytes);
  }

  /**
   * Reserves `bytes` non-zero random bytes of the pool and returns where they start; they stay
   * valid until the next draw (`UnsampledSpan` copies them out as numbers at once).
   */
  #draw(bytes: number): number {
    for (;;) {
      if (this.#offset + bytes > POOL_BYTES) {
        randomFillSync(this.#pool);
        this.#offset = 0;
      }
      const start = this.#offset;
      this.#offset += bytes;
      // All zeros is the invalid id; draw again (1 in 2^64 or 2^128).
      for (let i = start; i < start + bytes; i++) if (this.#pool[i] !== 0) return start;
    }
  }

  /** The 32-bit big-endian word of the pool at `at`. */
  word(at: number): number {
    const p = this.#pool;
    return ((p[at]! << 24) | (p[at + 1]! << 16) | (p[at + 2]! << 8) | p[at + 3]!) >>> 0;
  }

  /** Draws a trace id as bytes (see `word`), with `lastAccumulation` set for it; returns its offset. */
  drawTraceBytes(): number {
    const at = this.#draw(16);
    this.lastAccumulation = (this.word(at) ^ this.word(at + 4) ^ this.word(at + 8) ^ this.word(at + 12)) >>> 0;
    return at;
  }

  /** Draws a span id as bytes (see `word`); returns its offset. */
  drawSpanBytes(): number {
    return this.#draw(8);
  }

  /** The hex of pool bytes drawn last. */
  hexAt(at: number, bytes: number): string {
    return this.#pool.toString('hex', at, at + bytes);
  }

  /** A fresh trace id (never the preset), with `lastAccumulation` set for it. */
  drawTraceId(): string {
    return this.hexAt(this.drawTraceBytes(), 16);
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

const HEX_SCRATCH = Buffer.allocUnsafe(16);

function wordsHex(a: number, b: number, c?: number, d?: number): string {
  HEX_SCRATCH.writeUInt32BE(a, 0);
  HEX_SCRATCH.writeUInt32BE(b, 4);
  if (c === undefined || d === undefined) return HEX_SCRATCH.toString('hex', 0, 8);
  HEX_SCRATCH.writeUInt32BE(c, 8);
  HEX_SCRATCH.writeUInt32BE(d, 12);
  return HEX_SCRATCH.toString('hex', 0, 16);
}

/**
 * A non-recording span, as `trace.wrapSpanContext` makes, whose new ids are kept as numbers until
 * `spanContext()` is first read: most unsampled requests never read them (no log line, no
 * outgoing call), so the hex strings are not made for them.
 */
export class UnsampledSpan implements Span {
  #context: SpanContext | undefined;
  /** The trace id when it came as hex (from the parent); else t0..t3 hold it. */
  readonly #traceId: string | undefined;
  readonly #t0: number;
  readonly #t1: number;
  readonly #t2: number;
  readonly #t3: number;
  readonly #s0: number;
  readonly #s1: number;
  readonly #traceState: TraceState | undefined;

  constructor(traceId: string | undefined, t0: number, t1: number, t2: number, t3: number, s0: number, s1: number, traceState: TraceState | undefined) {
    this.#traceId = traceId;
    this.#t0 = t0;
    this.#t1 = t1;
    this.#t2 = t2;
    this.#t3 = t3;
    this.#s0 = s0;
    this.#s1 = s1;
    this.#traceState = traceState;
  }

  spanContext(): SpanContext {
    return (this.#context ??= {
      traceId: this.#traceId ?? wordsHex(this.#t0, this.#t1, this.#t2, this.#t3),
      spanId: wordsHex(this.#s0, this.#s1),
      traceFlags: TraceFlags.NONE,
      traceState: this.#traceState,
    });
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
 * the same trace id, so it decides the same way.
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
    const validParent = parent !== undefined && trace.isSpanContextValid(parent);
    let traceId: string;
    let record: boolean;
    let sampled = true;
    let traceState = validParent ? parent.traceState : undefined;
    if (validParent && this.parentDecides) {
      traceId = parent.traceId;
      record = (parent.traceFlags & TraceFlags.SAMPLED) !== 0;
      if (!record) return this.#unsampled(parent.traceId, -1, traceState);
    } else if (!validParent && this.#rootUpperBound !== undefined) {
      const at = this.ids.drawTraceBytes();
      record = this.ids.lastAccumulation < this.#rootUpperBound;
      if (!record) return this.#unsampled(undefined, at, undefined);
      traceId = this.ids.hexAt(at, 16);
    } else if (!validParent && this.rootRecords !== undefined) {
      if (!this.rootRecords) return this.#unsampled(undefined, this.ids.drawTraceBytes(), undefined);
      traceId = this.ids.generateTraceId();
      record = true;
    } else {
      traceId = validParent ? parent.traceId : this.ids.generateTraceId();
      const result = this.sampler.shouldSample(ctx, traceId, name, options.kind ?? SpanKind.INTERNAL, options.attributes ?? {}, options.links ?? []);
      record = result.decision !== SamplingDecision.NOT_RECORD;
      sampled = result.decision === SamplingDecision.RECORD_AND_SAMPLED;
      traceState = result.traceState ?? traceState;
      if (record && this.light !== undefined && result.attributes !== undefined) {
        // A sampler adding attributes: the SDK merges them; leave that to it.
        return this.#sdkSpan(name, options, ctx, validParent, traceId);
      }
    }
    if (!record) return this.#unsampled(traceId, -1, traceState);
    if (this.light !== undefined) {
      const spanContext = { traceId, spanId: this.ids.generateSpanId(), traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE, traceState };
      return new LightSpan(
        this.light,
        spanContext,
        name,
        options.kind ?? SpanKind.INTERNAL,
        validParent ? parent : undefined,
        options.attributes,
        options.links,
        options.startTime,
      );
    }
    return this.#sdkSpan(name, options, ctx, validParent, traceId);
  }

  /** A non-recording span in the trace `traceId`, or in the one drawn at `at` of the pool, with a new span id. */
  #unsampled(traceId: string | undefined, at: number, traceState: TraceState | undefined): Span {
    const ids = this.ids;
    const t0 = traceId === undefined ? ids.word(at) : 0;
    const t1 = traceId === undefined ? ids.word(at + 4) : 0;
    const t2 = traceId === undefined ? ids.word(at + 8) : 0;
    const t3 = traceId === undefined ? ids.word(at + 12) : 0;
    const s = ids.drawSpanBytes();
    return new UnsampledSpan(traceId, t0, t1, t2, t3, ids.word(s), ids.word(s + 4), traceState);
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
