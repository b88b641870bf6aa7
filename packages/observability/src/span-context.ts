// Internal: the span context of the spans archbench's tracer makes (sampling-first.ts). Its ids
// are random bytes drawn from the id pool and kept as 16-bit numbers, which V8 stores inside the
// object (a 32-bit word would need a heap number of its own): the OTLP encoder writes them as
// bytes directly, where a hex id costs it about a thousand instructions to read back, and the hex
// strings of the SpanContext interface are made only when something reads them (a log line, a
// traceparent header), which most spans never do.
import type { SpanContext, TraceState } from '@opentelemetry/api';

const HEX_SCRATCH = Buffer.allocUnsafe(16);

function halvesHex(halves: readonly number[]): string {
  for (let i = 0; i < halves.length; i++) HEX_SCRATCH.writeUInt16BE(halves[i]!, 2 * i);
  return HEX_SCRATCH.toString('hex', 0, 2 * halves.length);
}

/** The 16-bit big-endian number at `at` of `bytes`. */
function half(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 8) | bytes[at + 1]!;
}

/**
 * A valid SpanContext (non-zero ids, made by archbench's id pool) whose span id, and trace id
 * unless it came as hex from a parent made elsewhere, are kept as bytes and turned into hex on
 * first read. Being made only from the pool, it never needs the API's hex validity check.
 */
export class PooledSpanContext implements SpanContext {
  readonly traceFlags: number;
  readonly traceState: TraceState | undefined;
  /** The trace id's bytes are t0–t7; false when it was given as hex (a remote or foreign parent). */
  readonly traceBytesKnown: boolean;
  readonly #t0: number;
  readonly #t1: number;
  readonly #t2: number;
  readonly #t3: number;
  readonly #t4: number;
  readonly #t5: number;
  readonly #t6: number;
  readonly #t7: number;
  readonly #s0: number;
  readonly #s1: number;
  readonly #s2: number;
  readonly #s3: number;
  #traceId: string | undefined;
  #spanId: string | undefined;

  /**
   * @param trace the trace: a context to share it with, the pool offset of its 16 bytes, or its hex
   * @param pool the id pool the offsets point into
   * @param spanAt the pool offset of the span id's 8 bytes
   */
  constructor(trace: PooledSpanContext | number | string, pool: Uint8Array, spanAt: number, traceFlags: number, traceState: TraceState | undefined) {
    this.traceFlags = traceFlags;
    this.traceState = traceState;
    if (typeof trace === 'number') {
      this.traceBytesKnown = true;
      this.#t0 = half(pool, trace);
      this.#t1 = half(pool, trace + 2);
      this.#t2 = half(pool, trace + 4);
      this.#t3 = half(pool, trace + 6);
      this.#t4 = half(pool, trace + 8);
      this.#t5 = half(pool, trace + 10);
      this.#t6 = half(pool, trace + 12);
      this.#t7 = half(pool, trace + 14);
      this.#traceId = undefined;
    } else if (typeof trace === 'string') {
      this.traceBytesKnown = false;
      this.#t0 = this.#t1 = this.#t2 = this.#t3 = this.#t4 = this.#t5 = this.#t6 = this.#t7 = 0;
      this.#traceId = trace;
    } else {
      this.traceBytesKnown = trace.traceBytesKnown;
      this.#t0 = trace.#t0;
      this.#t1 = trace.#t1;
      this.#t2 = trace.#t2;
      this.#t3 = trace.#t3;
      this.#t4 = trace.#t4;
      this.#t5 = trace.#t5;
      this.#t6 = trace.#t6;
      this.#t7 = trace.#t7;
      this.#traceId = trace.#traceId;
    }
    this.#s0 = half(pool, spanAt);
    this.#s1 = half(pool, spanAt + 2);
    this.#s2 = half(pool, spanAt + 4);
    this.#s3 = half(pool, spanAt + 6);
    this.#spanId = undefined;
  }

  get traceId(): string {
    return (this.#traceId ??= halvesHex([this.#t0, this.#t1, this.#t2, this.#t3, this.#t4, this.#t5, this.#t6, this.#t7]));
  }

  get spanId(): string {
    return (this.#spanId ??= halvesHex([this.#s0, this.#s1, this.#s2, this.#s3]));
  }

  /** Writes the trace id's 16 bytes at `at` (only when traceBytesKnown). */
  writeTraceId(buf: Uint8Array, at: number): void {
    writeHalf(buf, at, this.#t0);
    writeHalf(buf, at + 2, this.#t1);
    writeHalf(buf, at + 4, this.#t2);
    writeHalf(buf, at + 6, this.#t3);
    writeHalf(buf, at + 8, this.#t4);
    writeHalf(buf, at + 10, this.#t5);
    writeHalf(buf, at + 12, this.#t6);
    writeHalf(buf, at + 14, this.#t7);
  }

  /** Writes the span id's 8 bytes at `at`. */
  writeSpanId(buf: Uint8Array, at: number): void {
    writeHalf(buf, at, this.#s0);
    writeHalf(buf, at + 2, this.#s1);
    writeHalf(buf, at + 4, this.#s2);
    writeHalf(buf, at + 6, this.#s3);
  }
}

function writeHalf(buf: Uint8Array, at: number, value: number): void {
  buf[at] = value >> 8;
  buf[at + 1] = value & 0xff;
}
