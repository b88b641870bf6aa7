// Internal: the OTLP/HTTP POSTs of OtlpProtobufSpanExporter, made from a worker thread.
//
// Why a thread: node's HTTP client shares its code with the HTTP server (OutgoingMessage,
// IncomingMessage, streams, timers). A server that also POSTs its spans makes V8 see client
// objects in the server's functions: their inline caches turn polymorphic or megamorphic and
// some stop being inlined, so every request pays, not only the export. Measured under callgrind
// on the monolith's GET (docs/adr/0009-otlp-export-thread.md): the default (10 % sampled) spent
// about 4k instructions per request more with the POSTs than with the same spans encoded and
// dropped, though its POSTs themselves come once per ~2,500 requests. In a thread of its own the
// client has its own isolate and its own feedback. The main thread encodes the batch and hands
// the bytes over (transferred, not copied); the thread POSTs and retries.
import { Worker } from 'node:worker_threads';

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

type Reply = { id: number; ok: true } | { id: number; ok: false; message: string };

/**
 * The thread's program. It is sent as source text (`String(threadMain)`), so it may use only its
 * arguments, globals and node's built-in modules (`process.getBuiltinModule`, which works whether
 * the thread's source is read as a script or, under `--input-type=module`, as a module): no import
 * of this module is visible in the thread.
 * Retries as `@opentelemetry/exporter-trace-otlp-proto` does: up to 5 attempts with exponential
 * backoff (1 s ×1.5, ±20 % jitter, at most 5 s, or the receiver's Retry-After) on 429, 502, 503,
 * 504 and connection errors, all within the timeout.
 */
function threadMain(retryAfterMs: (value: string | undefined) => number | undefined): void {
  const { parentPort, workerData } = process.getBuiltinModule('node:worker_threads');
  const http = process.getBuiltinModule('node:http');
  const https = process.getBuiltinModule('node:https');
  const config = workerData as ExportThreadConfig;
  const port = parentPort!;
  const url = new URL(config.url);
  const secure = url.protocol === 'https:';
  const agent = secure ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  const request = secure ? (https.request as typeof http.request) : http.request;
  const MAX_ATTEMPTS = 5;
  const MAX_BACKOFF_MS = 5000;
  const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
  const RETRYABLE_NETWORK_ERRORS = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT']);
  type Attempt = { ok: true } | { ok: false; retryable: boolean; retryInMs?: number; message: string };

  function post(body: Uint8Array, timeoutMs: number): Promise<Attempt> {
    return new Promise((resolve) => {
      const req = request(url, { method: 'POST', agent, headers: { ...config.headers, 'content-length': String(body.byteLength) } }, (res) => {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => {
          if (status >= 300) chunks.push(chunk);
        });
        res.on('error', (error) => resolve({ ok: false, retryable: false, message: error.message }));
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
        resolve({ ok: false, retryable: RETRYABLE_NETWORK_ERRORS.has(error.code ?? ''), message: `OTLP export to ${url.href} failed: ${error.message}` }),
      );
      req.end(body);
    });
  }

  async function send(body: Uint8Array): Promise<Attempt> {
    const deadline = Date.now() + config.timeoutMs;
    let backoff = 1000;
    let result = await post(body, config.timeoutMs);
    for (let attempt = 1; !result.ok && result.retryable && attempt < MAX_ATTEMPTS; attempt++) {
      const jittered = Math.max(Math.min(backoff * (1 + (Math.random() * 2 - 1) * 0.2), MAX_BACKOFF_MS), 0);
      backoff *= 1.5;
      const wait = result.retryInMs ?? jittered;
      if (wait > deadline - Date.now()) return result;
      await new Promise((resolve) => setTimeout(resolve, wait));
      result = await post(body, deadline - Date.now());
    }
    return result;
  }

  port.on('message', (message: { id: number; body: Uint8Array }) => {
    void send(message.body).then((result) => {
      const reply: Reply = result.ok ? { id: message.id, ok: true } : { id: message.id, ok: false, message: result.message };
      port.postMessage(reply);
    });
  });
}

// `__name`: what esbuild's keepNames (tsx, vitest) wraps nested functions in; the thread has no
// such helper, so it gets one that keeps the function as it is.
const SOURCE = `const __name = (target) => target;\n(${String(threadMain)})(${String(parseRetryAfter)});`;

/**
 * One worker thread POSTing export requests for one exporter. Started at the first export; it
 * keeps the process alive only while an export is in flight, as a pending HTTP request would.
 */
export class ExportThread {
  readonly #config: ExportThreadConfig;
  /** The running thread and the exports it has not answered yet, by id. */
  #running: { worker: Worker; waiting: Map<number, (outcome: ExportOutcome) => void> } | undefined;
  #next = 0;

  constructor(config: ExportThreadConfig) {
    this.#config = config;
  }

  /** POSTs `body` (retrying as threadMain says); never rejects. `body` is handed over: do not use it after. */
  send(body: Uint8Array): Promise<ExportOutcome> {
    const { worker, waiting } = (this.#running ??= this.#start());
    const id = this.#next++;
    return new Promise((resolve) => {
      waiting.set(id, resolve);
      if (waiting.size === 1) worker.ref();
      // A body with an ArrayBuffer of its own moves to the thread; a view into a shared pool is copied.
      const own = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength && body.buffer instanceof ArrayBuffer;
      worker.postMessage({ id, body }, own ? [body.buffer as ArrayBuffer] : []);
    });
  }

  /** Stops the thread; exports it has not answered fail. */
  async close(): Promise<void> {
    const running = this.#running;
    this.#running = undefined;
    if (running !== undefined) await running.worker.terminate();
  }

  #start(): { worker: Worker; waiting: Map<number, (outcome: ExportOutcome) => void> } {
    const worker = new Worker(SOURCE, { eval: true, workerData: this.#config, name: 'archbench OTLP export' });
    const waiting = new Map<number, (outcome: ExportOutcome) => void>();
    const running = { worker, waiting };
    worker.on('message', (reply: Reply) => {
      const resolve = waiting.get(reply.id);
      if (resolve === undefined) return;
      waiting.delete(reply.id);
      if (waiting.size === 0) worker.unref();
      resolve(reply.ok ? { ok: true } : { ok: false, error: new Error(reply.message) });
    });
    // A thread that dies fails what it held; the next export starts another.
    const fail = (error: Error) => {
      if (this.#running === running) this.#running = undefined;
      const pending = [...waiting.values()];
      waiting.clear();
      for (const resolve of pending) resolve({ ok: false, error });
    };
    worker.on('error', (error) => fail(new Error(`the OTLP export thread failed: ${error.message}`)));
    worker.on('exit', (code) => fail(new Error(`the OTLP export thread stopped (exit code ${code})`)));
    // After the listeners: adding a 'message' listener refs the thread's port again.
    worker.unref();
    return running;
  }
}
