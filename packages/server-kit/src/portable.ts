// Runtime-neutral part of the public edge and the HTTP contract helpers: Fetch API, Hono and the
// shared error model only, no node:* modules, prom-client, pino or OpenTelemetry's Node context
// manager. The Node servers use it through ./edge and ./http; workerd imports it directly.
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { z } from 'zod';
import { buildOpenApiDocument } from '@archbench/contracts/openapi';
import { LIMITS, toFieldErrors } from '@archbench/contracts/schemas';
import type { Order } from '@archbench/contracts/schemas';
import { AppError } from '@archbench/domain/errors';
import { decodeCursor, isTerminal } from '@archbench/domain/orders';

/**
 * The response headers OWASP recommends for a JSON API: no sniffing, no framing, no referrer,
 * HTTPS pinning (ignored over plain HTTP) and a CSP that forbids any content, since an API
 * response is never a document.
 */
export const SECURITY_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['x-content-type-options', 'nosniff'],
  ['x-frame-options', 'DENY'],
  ['content-security-policy', "default-src 'none'; frame-ancestors 'none'"],
  ['referrer-policy', 'no-referrer'],
  ['strict-transport-security', 'max-age=15552000; includeSubDomains'],
];

/** The response headers a browser client may read across origins: the one list of every public server. */
export const EXPOSED_HEADERS = ['Location', 'Retry-After', 'Preference-Applied', 'Idempotent-Replayed', 'X-Request-Id', 'Allow'] as const;

/** The methods some route serves (PUT and DELETE: the admin provider switch); a preflight for another is refused by the browser. */
export const ALLOWED_METHODS = 'GET,HEAD,POST,PUT,DELETE,OPTIONS';
const EXPOSED = EXPOSED_HEADERS.join(',');
/** Health, readiness and metrics answer under any load. */
const UNGUARDED_PATHS = new Set(['/health', '/ready', '/metrics']);

/** Sets response headers before the handler answers; the Node edge passes a faster one. */
export type HeaderSetter = (c: Context, headers: ReadonlyArray<readonly [string, string]>) => void;

const setWithContext: HeaderSetter = (c, headers) => {
  for (const [name, value] of headers) c.header(name, value);
};

/** Reads a request header by its lowercase name; the Node edge passes a faster one. */
export type HeaderReader = (c: Context, name: string) => string | undefined;

const readWithContext: HeaderReader = (c, name) => c.req.header(name);

export interface PublicEdgeOptions {
  /** Origins allowed by CORS (the frontend console); empty or omitted: no CORS headers. */
  corsOrigins?: readonly string[];
  /** Requests in flight past which the server sheds with 503 + Retry-After; a function when it is known per request (workerd vars). */
  maxInFlight: number | (() => number);
  /** Largest request body, bytes; default the contract's limit. */
  maxBodyBytes?: number;
  retryAfterSeconds?: number;
}

function tooLarge(detail: string): AppError {
  // Answered before the body is read: close the connection so no client reuses it mid-body.
  return new AppError('payload-too-large', detail, { headers: { connection: 'close' } });
}

/**
 * The public edge of every archbench server as one middleware: security headers, CORS with one
 * list of exposed headers (preflights answered here), the body limit, then the overload guard.
 * One layer instead of four, header lists made once; a plain GET pays a header write, a set
 * lookup and a counter.
 *
 * Body limit, the same rule everywhere: it applies to requests that have a body, whatever the
 * method. A declared Content-Length over the limit is a 413 before anything is read (the body
 * is left to the adapter's fast path otherwise); a chunked body is counted while it streams;
 * a request with neither header has no body and passes.
 *
 * Install it inside observe()'s `use`, so errors become problem+json and /health, /ready and
 * /metrics get the headers too (they are never shed).
 * @example observe(app, { ..., use: [publicEdge({ corsOrigins: env.CORS_ORIGINS, maxInFlight: env.MAX_IN_FLIGHT })] })
 */
export function publicEdge(options: PublicEdgeOptions, setHeaders: HeaderSetter = setWithContext, header: HeaderReader = readWithContext): MiddlewareHandler {
  const maxBytes = options.maxBodyBytes ?? LIMITS.maxBodyBytes;
  const origins = new Set(options.corsOrigins ?? []);
  const cors = origins.size > 0;
  const limit = options.maxInFlight;
  const overloadHeaders = { 'retry-after': String(options.retryAfterSeconds ?? 1) };
  const vary: ReadonlyArray<readonly [string, string]> = [['vary', 'Origin']];
  const chunked = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw tooLarge(`request body is over the ${maxBytes}-byte limit`);
    },
  });
  let inFlight = 0;

  return async function edge(c, next) {
    setHeaders(c, SECURITY_HEADERS);
    if (cors) {
      const origin = header(c, 'origin');
      const allowed = origin !== undefined && origins.has(origin);
      if (c.req.method === 'OPTIONS' && header(c, 'access-control-request-method') !== undefined) {
        // A preflight: answered here, never routed, shed or counted.
        const headers: Record<string, string> = { vary: 'Origin' };
        if (allowed) {
          headers['access-control-allow-origin'] = origin;
          headers['access-control-allow-methods'] = ALLOWED_METHODS;
          const asked = header(c, 'access-control-request-headers');
          if (asked !== undefined) headers['access-control-allow-headers'] = asked;
          headers['access-control-max-age'] = '600';
        }
        return c.body(null, 204, headers);
      }
      setHeaders(
        c,
        allowed
          ? [
              ['access-control-allow-origin', origin],
              ['access-control-expose-headers', EXPOSED],
              ['vary', 'Origin'],
            ]
          : vary,
      );
    }

    const length = header(c, 'content-length');
    if (length !== undefined) {
      const declared = Number(length);
      if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(`request body is ${declared} bytes; the limit is ${maxBytes}`);
    } else if (header(c, 'transfer-encoding') !== undefined) {
      // Chunked: no length to check up front, so the bytes are counted as they stream in.
      return guarded(c, () => chunked(c, next));
    }
    return guarded(c, next);
  };

  async function guarded(c: Context, next: () => Promise<unknown>): Promise<void> {
    if (UNGUARDED_PATHS.has(c.req.path)) {
      await next();
      return;
    }
    const max = typeof limit === 'number' ? limit : limit();
    if (inFlight >= max) throw new AppError('overloaded', `more than ${max} requests in flight; retry later`, { headers: overloadHeaders });
    inFlight++;
    try {
      await next();
    } finally {
      inFlight--;
    }
  }
}

/**
 * `GET /openapi.json`: the contract's document under this server's title, built on first request
 * (a cold start does not pay for it) and kept.
 * @example app.get('/openapi.json', openApiHandler('archbench order API (monolith)'))
 */
export function openApiHandler(title: string) {
  let document: string | undefined;
  return (c: Context) => c.body((document ??= JSON.stringify(buildOpenApiDocument({ title }))), 200, { 'content-type': 'application/json' });
}

/**
 * Waits for `promise` at most `ms`: its value, or undefined when the time ran out first. The
 * timer is cleared as soon as either side settles, so a `Prefer: wait=30` request that finished
 * early leaves no 30-second timer behind.
 * @example const settled = await within(running, waitSeconds * 1000)
 */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, ms, undefined);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;
/** Stateless with `stream` unset, so one decoder serves every request. */
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** What readBody uses of node's IncomingMessage (typed here: workerd imports this module too). */
interface NodeRequestBody {
  readonly readableDidRead: boolean;
  readonly readableEnded: boolean;
  on(event: 'data', listener: (chunk: Uint8Array) => void): unknown;
  on(event: 'end' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  off(event: string, listener: (...args: never[]) => void): unknown;
}

/** Node's request under @hono/node-server (`c.env.incoming`), when nothing has read its body yet. */
function unreadNodeRequest(c: Context): NodeRequestBody | undefined {
  const incoming = (c.env as { incoming?: Partial<NodeRequestBody> } | undefined)?.incoming;
  return incoming !== undefined && typeof incoming.on === 'function' && incoming.readableDidRead === false ? (incoming as NodeRequestBody) : undefined;
}

/**
 * Reads node's request body into one buffer, with a running count against `maxBytes`. The web
 * Request's `arrayBuffer()` on the Node adapter reads the same chunks and then copies them into a
 * new ArrayBuffer (about 1.7 % of a `POST /orders` in a CPU profile); this keeps node's buffer.
 */
function readNodeRequest(incoming: NodeRequestBody, maxBytes: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    const stop = () => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
      incoming.off('close', onClose);
    };
    const onData = (chunk: Uint8Array) => {
      size += chunk.byteLength;
      if (size > maxBytes) {
        stop();
        reject(tooLarge(`request body is over the ${maxBytes}-byte limit`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
      resolve(joinChunks(chunks, size));
    };
    const onError = (error: Error) => {
      stop();
      reject(error);
    };
    const onClose = () => {
      if (incoming.readableEnded) return onEnd();
      stop();
      reject(new Error('the client closed the connection before the request body was read'));
    };
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
    incoming.on('close', onClose);
  });
}

/**
 * The body's bytes, never more than `maxBytes` in memory. A Content-Length over the limit is
 * refused up front. On Node the request is read straight from node's stream with a running count
 * (no web stream, no copy); elsewhere (workerd) a declared length is read by the runtime, and a
 * chunked body from the web stream with a running count.
 */
async function readBody(c: Context, maxBytes: number): Promise<Uint8Array | ArrayBuffer> {
  const length = c.req.header('content-length');
  if (length !== undefined) {
    const declared = Number(length);
    if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(`request body is ${declared} bytes; the limit is ${maxBytes}`);
  }
  const incoming = unreadNodeRequest(c);
  if (incoming !== undefined) return readNodeRequest(incoming, maxBytes);
  if (length !== undefined) return c.req.arrayBuffer();
  const stream = c.req.raw.body;
  if (stream === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw tooLarge(`request body is over the ${maxBytes}-byte limit`);
    }
    chunks.push(value);
  }
  return joinChunks(chunks, size);
}

/** The chunks of a body as one array (the one chunk itself when there is one). */
function joinChunks(chunks: readonly Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/**
 * Reads a JSON request body: 415 unless the content type is JSON and the body is not encoded
 * (a `Content-Encoding` other than identity: no topology decodes one, so a gzip body would read
 * as malformed JSON and a plain body labelled gzip as valid), 413 past the size limit (checked
 * on the bytes actually read, not only Content-Length), 400 for malformed JSON (deeply nested
 * input included), 422 with field errors when the schema rejects it.
 */
export async function readJson<S extends z.ZodType>(c: Context, schema: S, maxBytes: number = LIMITS.maxBodyBytes): Promise<z.infer<S>> {
  const type = c.req.header('content-type') ?? '';
  if (!JSON_TYPE.test(type)) {
    throw new AppError('unsupported-media-type', `expected Content-Type: application/json, got ${type ? JSON.stringify(type.slice(0, 100)) : 'none'}`);
  }
  const encoding = c.req.header('content-encoding');
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    throw new AppError('unsupported-media-type', `request bodies are read as sent: Content-Encoding ${JSON.stringify(encoding.slice(0, 100))} is not accepted`);
  }
  const buffer = await readBody(c, maxBytes);
  if (buffer.byteLength > maxBytes) {
    throw new AppError('payload-too-large', `request body is over the ${maxBytes}-byte limit`);
  }
  let data: unknown;
  try {
    data = JSON.parse(utf8Decoder.decode(buffer));
  } catch {
    throw new AppError('malformed-json', 'request body is not valid JSON');
  }
  return validate(schema, data);
}

/** Validates data with a schema or throws a 422 (or 400 for queries) problem naming each field. */
export function validate<S extends z.ZodType>(schema: S, data: unknown, code: 'validation-failed' | 'invalid-query' = 'validation-failed'): z.infer<S> {
  const result = schema.safeParse(data);
  if (!result.success) {
    const errors = toFieldErrors(result.error);
    const summary = errors
      .slice(0, 3)
      .map((e) => `${e.path}: ${e.message}`)
      .join('; ');
    throw new AppError(code, summary, { errors });
  }
  return result.data;
}

// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const CONTROL_CHARACTER = /[\x00-\x08\x0a-\x1f\x7f]/;
const utf8Encoder = new TextEncoder();

/** Headers a platform adds in front of the app (Cloudflare's), not sent by the client: not counted. */
const ADDED_BY_PLATFORM = /^(cf-|x-forwarded-|x-real-ip$)/;

/**
 * The 431 `headers-too-large` problem, one message for both places that refuse such a request:
 * `answerUnparsable` in ./serve (node's parser refused it) and nodeHeaderRules (workerd).
 */
export function headersTooLarge(): AppError {
  return new AppError('headers-too-large', `the request line and headers are over the ${LIMITS.maxHeaderBytes}-byte limit`);
}

/**
 * The header rules that node's HTTP parser holds the Node topologies to (see `answerUnparsable`
 * in ./serve), for a runtime that does not (workerd): the request target and headers under
 * LIMITS.maxHeaderBytes, counted as node counts them (the target's bytes plus every header's
 * name and value, measured against node 24: a request whose count reaches the limit is refused),
 * else 431 `headers-too-large`; no control character but tab in a header value, else 400
 * `malformed-request`. So a request refused by one topology is refused by all, with the same
 * problem. Not for Node servers: their parser has refused such requests already.
 */
export function nodeHeaderRules(): MiddlewareHandler {
  return async function headerRules(c, next) {
    const url = new URL(c.req.url);
    let bytes = utf8Encoder.encode(url.pathname + url.search).length;
    for (const [name, value] of c.req.raw.headers) {
      if (CONTROL_CHARACTER.test(value)) throw new AppError('malformed-request', `the ${name} header holds a control character`);
      if (!ADDED_BY_PLATFORM.test(name)) bytes += name.length + utf8Encoder.encode(value).length;
    }
    if (bytes >= LIMITS.maxHeaderBytes) throw headersTooLarge();
    await next();
  };
}

/** Longest Idempotency-Key accepted (the contract's limit). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = LIMITS.maxIdempotencyKeyLength;

/**
 * An Idempotency-Key as the contract accepts it: 1 to 200 printable ASCII characters (a UUID,
 * say; the IETF draft makes it a structured-field string). Bytes beyond ASCII are refused rather
 * than read: Node reads a header byte by byte (Latin-1) and workerd as UTF-8, replacing invalid
 * sequences with U+FFFD, so one key would be two lengths, and distinct keys one, depending on the
 * topology. The comma too: Node and workerd join two Idempotency-Key headers into one value
 * `a, b`, which would otherwise be taken for one key that neither header sent.
 */
const IDEMPOTENCY_KEY = new RegExp(`^[\\x20-\\x2b\\x2d-\\x7e]{1,${LIMITS.maxIdempotencyKeyLength}}$`);

function invalidIdempotencyKey(message: string): AppError {
  return new AppError('validation-failed', `Idempotency-Key ${message}`, { errors: [{ path: 'header.Idempotency-Key', message }] });
}

/** The request's Idempotency-Key, or undefined; 422 when it is empty, too long, not printable ASCII or holds a comma. */
export function readIdempotencyKey(c: Context): string | undefined {
  const key = c.req.header('idempotency-key');
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
    if (key.includes(',')) throw invalidIdempotencyKey('must be one value without a comma (duplicate Idempotency-Key headers are joined with commas)');
    throw invalidIdempotencyKey(`must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters`);
  }
  return key;
}

/** Decodes a page cursor of the query string; 400 invalid-query when it was sent but is not one of ours. */
export function readCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const value = decodeCursor(cursor);
  if (value === undefined) throw new AppError('invalid-query', 'cursor is not valid');
  return value;
}

/**
 * Answers POST /orders as the contract says: 200 for an idempotent replay, 201 when the order
 * reached a terminal status, else 202; with Location, Preference-Applied and Idempotent-Replayed.
 */
export function placedOrderResponse(
  c: Context,
  placed: { order: Order; replayed: boolean },
  waitSeconds: number | undefined,
  setHeaders: HeaderSetter = setWithContext,
) {
  const headers: Array<readonly [string, string]> = [['location', `/orders/${placed.order.id}`]];
  if (waitSeconds !== undefined) headers.push(['preference-applied', `wait=${waitSeconds}`]);
  if (placed.replayed) headers.push(['idempotent-replayed', 'true']);
  setHeaders(c, headers);
  return c.json(placed.order, placed.replayed ? 200 : isTerminal(placed.order.status) ? 201 : 202);
}
