// Internal: the recording span archbench's tracer makes when spans go only to the OTLP protobuf
// processor. It keeps the data the SDK's SpanImpl keeps, with the same rules (attribute, event and
// link limits, value truncation, time arithmetic, status precedence, warnings after end), so the
// encoder writes the same bytes for it; what it leaves out is the SDK tracer's second sampler call,
// the attribute and link copies made before sampling, the span processor fan-out, self-metrics,
// and the per-span bookkeeping fields, which made a span several times dearer than its encoding.
import { SpanStatusCode, diag } from '@opentelemetry/api';
import type { Attributes, AttributeValue, Exception, HrTime, Link, Span, SpanContext, SpanKind, SpanStatus, TimeInput } from '@opentelemetry/api';
import {
  addHrTimes,
  hrTime,
  hrTimeDuration,
  isAttributeValue,
  isTimeInput,
  isTimeInputHrTime,
  millisToHrTime,
  otperformance,
  sanitizeAttributes,
} from '@opentelemetry/core';
import type { ReadableSpan, SpanLimits, TimedEvent } from '@opentelemetry/sdk-trace-base';

type Resource = ReadableSpan['resource'];
type Scope = ReadableSpan['instrumentationScope'];

/** What every light span of one tracer shares: where it belongs and where it goes when it ends. */
export interface LightSpanSetup {
  readonly resource: Resource;
  readonly scope: Scope;
  /** The provider's limits (the SDK's defaults and OTEL_*_LIMIT variables already applied). */
  readonly limits: SpanLimits;
  /** The one span processor; only `onEnd` is called (the protobuf processor does nothing on start). */
  readonly processor: { onEnd(span: ReadableSpan): void };
}

const hasOwn = Object.prototype.hasOwnProperty;
/** The epoch time of otperformance.now()'s zero: fixed for the process (a getter call each time it is read). */
const TIME_ORIGIN = otperformance.timeOrigin;

// Most spans have no links nor events, and every span starts unset, unended and without
// attributes: these shared, frozen values stand in until the span gets its own (seven allocations
// fewer per span).
const NO_LINKS: Link[] = Object.freeze([]) as unknown as Link[];
const NO_EVENTS: TimedEvent[] = Object.freeze([]) as unknown as TimedEvent[];
const UNSET: SpanStatus = Object.freeze({ code: SpanStatusCode.UNSET });
// Shared by spans without attributes until their first (a span given a block gets copies of its lists).
const NO_KEYS: string[] = Object.freeze([]) as unknown as string[];
const NO_VALUES: AttributeValue[] = Object.freeze([]) as unknown as AttributeValue[];
const NOT_ENDED: HrTime = Object.freeze([0, 0]) as unknown as HrTime;
const NO_DURATION: HrTime = Object.freeze([-1, -1]) as unknown as HrTime;

/**
 * A frozen attributes object that a span can take in one step: its defined entries, in the order
 * `setAttributes` would set them, all plain (a non-empty key not led by a digit nor `__proto__`, a
 * string, number or boolean value), and the longest string value.
 */
interface AttributeBlock {
  readonly keys: string[];
  readonly values: AttributeValue[];
  readonly longestString: number;
}

/**
 * Blocks by object, for frozen objects only; `null`: the object does not qualify. A frozen object
 * cannot change (nor be unfrozen), so once is enough, and a hit needs no Object.isFrozen (a call
 * into the runtime).
 */
const blocks = new WeakMap<object, AttributeBlock | null>();

/** The block of a frozen attributes object, null when it does not qualify or is not frozen. */
function blockOf(attributes: Attributes): AttributeBlock | null {
  const known = blocks.get(attributes);
  if (known !== undefined) return known;
  if (!Object.isFrozen(attributes)) return null;
  const keys: string[] = [];
  const values: AttributeValue[] = [];
  let longestString = 0;
  let plain = true;
  for (const key in attributes) {
    if (!hasOwn.call(attributes, key)) continue;
    const value = attributes[key];
    // What setAttribute skips without counting it.
    if (value == null) continue;
    const type = typeof value;
    const first = key.charCodeAt(0);
    if (key.length === 0 || key === '__proto__' || (first >= 48 && first <= 57) || (type !== 'string' && type !== 'number' && type !== 'boolean')) {
      plain = false;
      break;
    }
    keys.push(key);
    values.push(value);
    if (type === 'string') longestString = Math.max(longestString, (value as string).length);
  }
  const block = plain ? { keys, values, longestString } : null;
  blocks.set(attributes, block);
  return block;
}

/** A recording span with SpanImpl's behaviour, handed straight to the processor at end. */
export class LightSpan implements Span, ReadableSpan {
  name: string;
  readonly kind: SpanKind;
  readonly parentSpanContext: SpanContext | undefined;
  /**
   * The attributes in the order first set, as keys and values: what `attributes` holds, without
   * an object whose shape changes with every key set (a megamorphic store and lookup each).
   */
  attributeKeys: string[] = NO_KEYS;
  attributeValues: AttributeValue[] = NO_VALUES;
  /**
   * False once a key starts with a digit: an object lists array-index keys first, so only
   * `attributes` has the order the SDK's span (a plain object) gives them.
   */
  attributesInOrder = true;
  /**
   * The frozen object the first `attributeBlockSize` attributes were taken from in one step (see
   * setAttributes), while they are still exactly its entries: the encoder copies its bytes, encoded
   * once per object, instead of writing each attribute.
   */
  attributeBlock: Attributes | undefined = undefined;
  attributeBlockSize = 0;
  #attributes: Attributes | undefined;
  links: Link[] = NO_LINKS;
  events: TimedEvent[] = NO_EVENTS;
  readonly startTime: HrTime;
  endTime: HrTime = NOT_ENDED;
  status: SpanStatus = UNSET;
  droppedAttributesCount = 0;
  droppedEventsCount = 0;
  droppedLinksCount = 0;
  ended = false;
  duration: HrTime = NO_DURATION;
  readonly #setup: LightSpanSetup;
  readonly #context: SpanContext;
  /** New keys set, as the SDK counts them against the limit (`__proto__` included). */
  #attributeCount = 0;
  /** otperformance.now() at start; read only for a span not given its start time (NaN otherwise). */
  readonly #performanceStart: number;
  /**
   * Wall clock less the monotonic clock's epoch time, ms: what corrects performance timestamps.
   * A span not given its start time takes it at start, as the SDK's span does; a span given one
   * (the query observer's) takes it when a performance timestamp first needs it: NaN until then.
   */
  #performanceOffset: number;
  readonly #startTimeProvided: boolean;

  constructor(
    setup: LightSpanSetup,
    spanContext: SpanContext,
    name: string,
    kind: SpanKind,
    parentSpanContext: SpanContext | undefined,
    attributes: Attributes | undefined,
    links: Link[] | undefined,
    startTime: TimeInput | undefined,
  ) {
    this.#setup = setup;
    this.#context = spanContext;
    this.#startTimeProvided = startTime != null;
    // Clock reads cost 0.1-0.2 µs each on some VMs: a span given its start time (every query
    // span, ended with a given time too) reads none.
    const now = this.#startTimeProvided ? 0 : Date.now();
    this.#performanceStart = this.#startTimeProvided ? NaN : otperformance.now();
    this.#performanceOffset = this.#startTimeProvided ? NaN : now - (this.#performanceStart + TIME_ORIGIN);
    this.name = name;
    this.kind = kind;
    this.parentSpanContext = parentSpanContext;
    // The SDK tracer sanitizes links and attributes once before sampling (copying arrays), then
    // the span applies its limits; sanitizing is idempotent, so once here gives the same result.
    if (links !== undefined) for (const link of links) this.addLink(link);
    this.startTime = this.#time(startTime ?? now);
    // The SDK sanitizes these first (the same checks and warnings setAttribute makes) and copies
    // array values, which #truncate copies here too.
    if (attributes != null) this.setAttributes(attributes);
  }

  /** The attributes as an object (ReadableSpan's form), made when first read after a change. */
  get attributes(): Attributes {
    if (this.#attributes === undefined) {
      const object: Attributes = {};
      for (let i = 0; i < this.attributeKeys.length; i++) object[this.attributeKeys[i]!] = this.attributeValues[i];
      this.#attributes = object;
    }
    return this.#attributes;
  }

  get resource(): Resource {
    return this.#setup.resource;
  }

  get instrumentationScope(): Scope {
    return this.#setup.scope;
  }

  spanContext(): SpanContext {
    return this.#context;
  }

  isRecording(): boolean {
    return !this.ended;
  }

  setAttribute(key: string, value: AttributeValue | undefined): this {
    if (value == null || this.#endedWarn()) return this;
    if (key.length === 0) {
      diag.warn(`Invalid attribute key: ${key}`);
      return this;
    }
    const type = typeof value;
    if (type !== 'string' && type !== 'number' && type !== 'boolean' && !isAttributeValue(value)) {
      diag.warn(`Invalid attribute value set for key: ${key}`);
      return this;
    }
    const keys = this.attributeKeys;
    const at = keys.indexOf(key);
    if (at !== -1) {
      this.attributeValues[at] = this.#truncate(value);
      if (at < this.attributeBlockSize) this.attributeBlock = undefined;
    } else {
      const limit = this.#setup.limits.attributeCountLimit;
      if (limit !== undefined && this.#attributeCount >= limit) {
        this.droppedAttributesCount++;
        return this;
      }
      this.#attributeCount++;
      // The SDK's plain object takes this as its prototype (or ignores it), yet counts it against
      // the limit: never an attribute, but counted the same.
      if (key === '__proto__') return this;
      const first = key.charCodeAt(0);
      if (first >= 48 && first <= 57) this.attributesInOrder = false;
      if (keys === NO_KEYS) {
        this.attributeKeys = [key];
        this.attributeValues = [this.#truncate(value)];
      } else {
        keys.push(key);
        this.attributeValues.push(this.#truncate(value));
      }
    }
    this.#attributes = undefined;
    return this;
  }

  setAttributes(attributes: Attributes): this {
    // The first attributes of a span from a frozen object (a query shape's, a route's): taken in one
    // step when setting them one by one would keep them all unchanged (within the limits, no key
    // the SDK treats specially), as the SDK's span ends up holding them.
    if (this.#attributeCount === 0 && !this.ended) {
      const block = blockOf(attributes);
      if (block !== null && this.#withinLimits(block)) {
        // The span has no attributes yet: copies of the block's lists are its lists.
        this.attributeKeys = block.keys.slice();
        this.attributeValues = block.values.slice();
        this.#attributeCount = block.keys.length;
        this.attributeBlock = attributes;
        this.attributeBlockSize = block.keys.length;
        this.#attributes = undefined;
        return this;
      }
    }
    for (const key in attributes) if (hasOwn.call(attributes, key)) this.setAttribute(key, attributes[key]);
    return this;
  }

  addEvent(name: string, attributesOrStartTime?: Attributes | TimeInput, timeStamp?: TimeInput): this {
    if (this.#endedWarn()) return this;
    const { eventCountLimit, attributePerEventCountLimit } = this.#setup.limits;
    if (eventCountLimit === 0) {
      diag.warn('No events allowed.');
      this.droppedEventsCount++;
      return this;
    }
    if (eventCountLimit !== undefined && this.events.length >= eventCountLimit) {
      if (this.droppedEventsCount === 0) diag.debug('Dropping extra events.');
      if (this.events.length > 0) this.events.shift();
      this.droppedEventsCount++;
    }
    if (isTimeInput(attributesOrStartTime)) {
      if (!isTimeInput(timeStamp)) timeStamp = attributesOrStartTime;
      attributesOrStartTime = undefined;
    }
    const { attributes, dropped } = this.#limited(sanitizeAttributes(attributesOrStartTime), attributePerEventCountLimit);
    if (this.events === NO_EVENTS) this.events = [];
    this.events.push({ name, attributes, time: this.#time(timeStamp), droppedAttributesCount: dropped });
    return this;
  }

  addLink(link: Link): this {
    if (this.#endedWarn()) return this;
    const { linkCountLimit, attributePerLinkCountLimit } = this.#setup.limits;
    if (linkCountLimit === 0) {
      this.droppedLinksCount++;
      return this;
    }
    if (linkCountLimit !== undefined && this.links.length >= linkCountLimit) {
      if (this.droppedLinksCount === 0) diag.debug('Dropping extra links.');
      if (this.links.length > 0) this.links.shift();
      this.droppedLinksCount++;
    }
    const { attributes, dropped, count } = this.#limited(sanitizeAttributes(link.attributes), attributePerLinkCountLimit);
    const processed: Link = { context: link.context };
    if (count > 0) processed.attributes = attributes;
    if (dropped > 0) processed.droppedAttributesCount = dropped;
    if (this.links === NO_LINKS) this.links = [];
    this.links.push(processed);
    return this;
  }

  addLinks(links: Link[]): this {
    for (const link of links) this.addLink(link);
    return this;
  }

  setStatus(status: SpanStatus): this {
    if (this.#endedWarn()) return this;
    if (status.code === SpanStatusCode.UNSET || this.status.code === SpanStatusCode.OK) return this;
    const next: SpanStatus = { code: status.code };
    if (status.code === SpanStatusCode.ERROR) {
      if (typeof status.message === 'string') next.message = status.message;
      else if (status.message != null) diag.warn(`Dropping invalid status.message of type '${typeof status.message}', expected 'string'`);
    }
    this.status = next;
    return this;
  }

  updateName(name: string): this {
    if (this.#endedWarn()) return this;
    this.name = name;
    return this;
  }

  end(endTime?: TimeInput): void {
    if (this.ended) {
      diag.error(`${this.name} ${this.#context.traceId}-${this.#context.spanId} - You can only call end() on a span once.`);
      return;
    }
    this.endTime = this.#time(endTime);
    this.duration = hrTimeDuration(this.startTime, this.endTime);
    if (this.duration[0] < 0) {
      diag.warn('Inconsistent start and end time, startTime > endTime. Setting span duration to 0ms.', this.startTime, this.endTime);
      this.endTime = this.startTime.slice() as HrTime;
      this.duration = [0, 0];
    }
    if (this.droppedEventsCount > 0) diag.warn(`Dropped ${this.droppedEventsCount} events because eventCountLimit reached`);
    if (this.droppedLinksCount > 0) diag.warn(`Dropped ${this.droppedLinksCount} links because linkCountLimit reached`);
    this.ended = true;
    this.#setup.processor.onEnd(this);
  }

  recordException(exception: Exception, time?: TimeInput): void {
    const attributes: Attributes = {};
    if (typeof exception === 'string') attributes['exception.message'] = exception;
    else if (exception) {
      if (exception.code) attributes['exception.type'] = exception.code.toString();
      else if (exception.name) attributes['exception.type'] = exception.name;
      if (exception.message) attributes['exception.message'] = exception.message;
      if (exception.stack) attributes['exception.stacktrace'] = exception.stack;
    }
    if (attributes['exception.type'] || attributes['exception.message']) this.addEvent('exception', attributes, time);
    else diag.warn(`Failed to record an exception ${String(exception)}`);
  }

  /** SpanImpl's time rules: performance timestamps corrected to the epoch, else relative to the start. */
  #time(input: TimeInput | undefined): HrTime {
    if (typeof input === 'number') {
      // The SDK takes a number up to otperformance.now() for a performance timestamp, and any other
      // for epoch milliseconds. One above the time origin (an epoch time in ms) is always the latter
      // (otperformance.now() stays below it for decades of uptime), so that needs no clock read.
      if (input <= TIME_ORIGIN && input <= otperformance.now()) return hrTime(input + this.#offset());
      return millisToHrTime(input);
    }
    if (input instanceof Date) return millisToHrTime(input.getTime());
    if (isTimeInputHrTime(input)) return input;
    if (this.#startTimeProvided) return millisToHrTime(Date.now());
    return addHrTimes(this.startTime, millisToHrTime(otperformance.now() - this.#performanceStart));
  }

  /** The performance offset, taken now for a span given its start time (see #performanceOffset). */
  #offset(): number {
    if (Number.isNaN(this.#performanceOffset)) this.#performanceOffset = Date.now() - (otperformance.now() + TIME_ORIGIN);
    return this.#performanceOffset;
  }

  /** Whether setting a block's entries one by one would keep them all, as they are (count and value length limits). */
  #withinLimits(block: AttributeBlock): boolean {
    const { attributeCountLimit, attributeValueLengthLimit } = this.#setup.limits;
    if (attributeCountLimit !== undefined && block.keys.length > attributeCountLimit) return false;
    return attributeValueLengthLimit !== undefined && attributeValueLengthLimit > 0 && block.longestString <= attributeValueLengthLimit;
  }

  #limited(sanitized: Attributes, limit: number | undefined): { attributes: Attributes; dropped: number; count: number } {
    const attributes: Attributes = {};
    let dropped = 0;
    let count = 0;
    for (const key in sanitized) {
      if (!hasOwn.call(sanitized, key)) continue;
      if (limit !== undefined && count >= limit) {
        dropped++;
        continue;
      }
      attributes[key] = this.#truncate(sanitized[key]!);
      count++;
    }
    return { attributes, dropped, count };
  }

  #truncate(value: AttributeValue): AttributeValue {
    const limit = this.#setup.limits.attributeValueLengthLimit ?? 0;
    if (limit <= 0) {
      diag.warn(`Attribute value limit must be positive, got ${limit}`);
      return value;
    }
    if (typeof value === 'string') return value.length <= limit ? value : value.substring(0, limit);
    if (Array.isArray(value)) return value.map((v: unknown) => (typeof v === 'string' && v.length > limit ? v.substring(0, limit) : v)) as AttributeValue;
    return value;
  }

  #endedWarn(): boolean {
    if (this.ended) {
      const { traceId, spanId } = this.#context;
      const error = new Error(`Operation attempted on ended Span {traceId: ${traceId}, spanId: ${spanId}}`);
      diag.warn(`Cannot execute the operation on ended Span {traceId: ${traceId}, spanId: ${spanId}}`, error);
    }
    return this.ended;
  }
}
