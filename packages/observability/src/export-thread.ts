// Internal: the OTLP/HTTP POSTs of OtlpProtobufSpanExporter to an `https:` receiver, made from a
// worker thread (an `http:` one gets them from otlp-socket.ts, ADR 0011). Also the retry loop
// both share.
//
// Why a thread: node's HTTP client shares its code with the HTTP server (OutgoingMessage,
// IncomingMessage, streams, timers). A server that also POSTs its spans makes V8 see client
// objects in the server's functions: their inline caches turn polymorphic or megamorphic and
// some stop being inlined, so every request pays, not only the export (ADR 0009: about 4k
// instructions per GET under the production default). In a thread of its own the client has its
// own isolate and its own feedback. The main thread encodes the batch and hands the bytes over
// (transferred, not copied); the thread POSTs and retries. The thread costs about 15 MB.
import type { Worker } from 'node:worker_threads';

/** What the thread is told once, at start. */
export interface ExportThreadConfig {
  /** Full traces URL, e.g. `http://127.0.0.1:4318/v1/traces`. */
  url: string;
  headers: Record<string, string>;
  /** Longest time one export may take, retries included, ms. */
  timeoutMs: number;
}

/** The outcome of one export, retries included. */
export type ExportOutcome = { ok: true } | { ok: false; error: Error };

/** Retry-After as milliseconds: seconds or an HTTP date (the spec's two forms). */
export function parseRetryAfter(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** One try at a POST: done, or why not and whether trying again may help. */
export type Attempt = { ok: true } | { ok: false; retryable: boolean; retryInMs?: number; message: string; code?: string };

/** What is worth another try, as the official exporter says: these statuses and connection errors. */
export const RETRYABLE = { statuses: [429, 502, 503, 504], networkErrors: ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT'] } as const;

/**
 * Retries as `@opentelemetry/exporter-trace-otlp-proto` does: up to 5 attempts with exponential
 * backoff (1 s ×1.5, ±20 % jitter, at most 5 s, or the receiver's Retry-After) while the attempt
 * says it is retryable, all within `timeoutMs`. `post(ms)` makes one attempt within `ms`. The waits
 * do not keep the process (or thread) alive, as the official exporter's unref'd timer; `onBackoff`
 * hears when one starts and ends. Sent to the export thread as source text (see threadMain), so it
 * uses only its arguments and globals.
 */
export async function sendWithRetries(
  post: (timeoutMs: number) => Promise<Attempt>,
  timeoutMs: number,
  onBackoff: (waiting: boolean) => void,
): Promise<Attempt> {
  const MAX_ATTEMPTS = 5;
  const MAX_BACKOFF_MS = 5000;
  const deadline = Date.now() + timeoutMs;
  let backoff = 1000;
  let result = await post(timeoutMs);
  for (let attempt = 1; !result.ok && result.retryable && attempt < MAX_ATTEMPTS; attempt++) {
    const jittered = Math.max(Math.min(backoff * (1 + (Math.random() * 2 - 1) * 0.2), MAX_BACKOFF_MS), 0);
    backoff *= 1.5;
    const wait = result.retryInMs ?? jittered;
    if (wait > deadline - Date.now()) return result;
    onBackoff(true);
    await new Promise((resolve) => setTimeout(resolve, wait).unref());
    onBackoff(false);
    result = await post(deadline - Date.now());
  }
  return result;
}

/**
 * What the thread says about an export: its outcome (`done`), or that it is waiting out a retry
 * backoff (`backoff`: true while waiting), during which it does not keep the process alive.
 */
type Reply =
  | { id: number; kind: 'done'; ok: true }
  | { id: number; kind: 'done'; ok: false; message: string; code: string | undefined }
  | { id: number; kind: 'backoff'; waiting: boolean };

/**
 * The thread's program. It is sent as source text (`String(threadMain)`), so it may use only its
 * arguments, globals and node's built-in modules (`process.getBuiltinModule`, which works whether
 * the thread's source is read as a script or, under `--input-type=module`, as a module): no import
 * of this module is visible in the thread.
 * Retries as sendWithRetries says, on the statuses and connection errors RETRYABLE lists.
 */
function threadMain(retryAfterMs: (value: string | undefined) => number | undefined, retrying: typeof sendWithRetries, retryable: typeof RETRYABLE): void {
  const { parentPort, workerData } = process.getBuiltinModule('node:worker_threads');
  const http = process.getBuiltinModule('node:http');
  const https = process.getBuiltinModule('node:https');
  const config = workerData as ExportThreadConfig;
  const port = parentPort!;
  const url = new URL(config.url);
  const secure = url.protocol === 'https:';
  const agent = secure ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  const request = secure ? (https.request as typeof http.request) : http.request;
  const RETRYABLE_STATUS = new Set<number>(retryable.statuses);
  const RETRYABLE_NETWORK_ERRORS = new Set<string>(retryable.networkErrors);

  function post(body: Uint8Array, timeoutMs: number): Promise<Attempt> {
    return new Promise((resolve) => {
      const req = request(url, { method: 'POST', agent, headers: { ...config.headers, 'content-length': String(body.byteLength) } }, (res) => {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => {
          if (status >= 300) chunks.push(chunk);
        });
        res.on('error', (error: NodeJS.ErrnoException) => resolve({ ok: false, retryable: false, message: error.message, code: error.code }));
        res.on('end', () => {
          if (status >= 200 && status < 300) resolve({ ok: true });
          else {
            const text = Buffer.concat(chunks).toString('utf8').slice(0, 500);
            const header = res.headers['retry-after'];
            resolve({
              ok: false,
              retryable: RETRYABLE_STATUS.has(status),
              retryInMs: retryAfterMs(Array.isArray(header) ? header[0] : header),
              message: `OTLP export to ${url.href} answered ${status}${text ? `: ${text}` : ''}`,
            });
          }
        });
      });
      req.setTimeout(Math.max(1, timeoutMs), () => {
        req.destroy();
        resolve({ ok: false, retryable: true, message: `OTLP export to ${url.href} timed out` });
      });
      req.on('error', (error: NodeJS.ErrnoException) =>
        resolve({
          ok: false,
          retryable: RETRYABLE_NETWORK_ERRORS.has(error.code ?? ''),
          message: `OTLP export to ${url.href} failed: ${error.message}`,
          code: error.code,
        }),
      );
      req.end(body);
    });
  }

  // As the official exporter's backoff timer, a wait does not keep the process alive (the
  // main thread unrefs the thread while every export it holds is waiting).
  const send = (id: number, body: Uint8Array): Promise<Attempt> =>
    retrying(
      (timeoutMs) => post(body, timeoutMs),
      config.timeoutMs,
      (waiting) => port.postMessage({ id, kind: 'backoff', waiting } satisfies Reply),
    );

  port.on('message', (message: { id: number; body: Uint8Array }) => {
    // A throw while making the request (a header node refuses, say) fails this export, not the thread.
    void send(message.id, message.body)
      .catch((error: unknown): Attempt => ({ ok: false, retryable: false, message: error instanceof Error ? error.message : String(error) }))
      .then((result) => {
        const reply: Reply = result.ok
          ? { id: message.id, kind: 'done', ok: true }
          : { id: message.id, kind: 'done', ok: false, message: result.message, code: result.code };
        port.postMessage(reply);
      });
  });
}

// `__name`: what esbuild's keepNames (tsx, vitest) wraps nested functions in; the thread has no
// such helper, so it gets one that keeps the function as it is.
const SOURCE = `const __name = (target) => target;\n(${String(threadMain)})(${String(parseRetryAfter)}, ${String(sendWithRetries)}, ${JSON.stringify(RETRYABLE)});`;

/**
 * One worker thread POSTing export requests for one exporter. Started at the first export; it
 * keeps the process alive only while an export is being sent (as a pending HTTP request would),
 * not while none is nor while a retry waits.
 */
export class ExportThread {
  readonly #config: ExportThreadConfig;
  /** The running thread and the exports it has not answered yet (by id). */
  #running: Running | undefined;
  #next = 0;
  #closed = false;

  constructor(config: ExportThreadConfig) {
    this.#config = config;
  }

  /** POSTs `body` (retrying as threadMain says); never rejects. `body` is handed over: do not use it after. */
  send(body: Uint8Array): Promise<ExportOutcome> {
    if (this.#closed) return Promise.resolve({ ok: false, error: new Error('the OTLP export thread is closed') });
    const running = (this.#running ??= this.#start());
    const id = this.#next++;
    return new Promise((resolve) => {
      running.waiting.set(id, resolve);
      running.keepAlive();
      // A body with an ArrayBuffer of its own moves to the thread; a view into a larger one (node's
      // pool of small buffers) is copied.
      const own = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength && body.buffer instanceof ArrayBuffer;
      try {
        running.worker.postMessage({ id, body }, own ? [body.buffer as ArrayBuffer] : []);
      } catch (error) {
        running.waiting.delete(id);
        running.keepAlive();
        resolve({ ok: false, error: error instanceof Error ? error : new Error(String(error)) });
      }
    });
  }

  /** Stops the thread for good; exports it has not answered fail, later ones fail at once. */
  async close(): Promise<void> {
    this.#closed = true;
    const running = this.#running;
    this.#running = undefined;
    if (running !== undefined) await running.worker.terminate();
  }

  #start(): Running {
    // Loaded here, not imported: node's worker module costs about 2 MB of memory in every process
    // that loads it, and a server that exports no spans never needs it.
    const { Worker } = process.getBuiltinModule('node:worker_threads');
    const worker = new Worker(SOURCE, { eval: true, workerData: this.#config, name: 'archbench OTLP export' });
    const waiting = new Map<number, (outcome: ExportOutcome) => void>();
    const backingOff = new Set<number>();
    // Alive while an export is being sent; not while none is, nor while all wait out a backoff.
    const keepAlive = () => (waiting.size > backingOff.size ? worker.ref() : worker.unref());
    const running: Running = { worker, waiting, keepAlive };
    worker.on('message', (reply: Reply) => {
      if (reply.kind === 'backoff') {
        if (reply.waiting) backingOff.add(reply.id);
        else backingOff.delete(reply.id);
        keepAlive();
        return;
      }
      const resolve = waiting.get(reply.id);
      if (resolve === undefined) return;
      waiting.delete(reply.id);
      backingOff.delete(reply.id);
      keepAlive();
      resolve(reply.ok ? { ok: true } : { ok: false, error: Object.assign(new Error(reply.message), reply.code === undefined ? {} : { code: reply.code }) });
    });
    // A thread that dies fails what it held; the next export starts another.
    const fail = (error: Error) => {
      if (this.#running === running) this.#running = undefined;
      const pending = [...waiting.values()];
      waiting.clear();
      backingOff.clear();
      for (const resolve of pending) resolve({ ok: false, error });
    };
    worker.on('error', (error) => fail(new Error(`the OTLP export thread failed: ${error.message}`)));
    worker.on('exit', (code) => fail(new Error(`the OTLP export thread stopped (exit code ${code})`)));
    // After the listeners: adding a 'message' listener refs the thread's port again.
    keepAlive();
    return running;
  }
}

interface Running {
  worker: Worker;
  waiting: Map<number, (outcome: ExportOutcome) => void>;
  /** Refs the thread while an export is being sent, unrefs it otherwise. */
  keepAlive: () => void;
}
