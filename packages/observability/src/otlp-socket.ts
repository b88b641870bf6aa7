// Internal: the OTLP/HTTP POSTs of OtlpProtobufSpanExporter to an `http:` receiver, made on the
// server's own thread over one kept-alive TCP connection, without node's HTTP client.
//
// Why not node:http here: its client shares OutgoingMessage, IncomingMessage and their streams with
// the HTTP server, so client objects seen in those functions slow every request the server answers
// (ADR 0009). Why not the export thread any more: a Worker costs about 15 MB of memory, a second
// isolate's threads, and its port and stdio objects on the main thread turn node's request and
// response constructors megamorphic (0.7k instructions per request, observability bench
// README, "Thirteenth pass"). This client writes a request head it built as bytes and reads the answer
// through the socket's `onread` buffer, bypassing the streams the server's requests use. An
// `https:` receiver still goes through the thread (TLS is not reimplemented here).
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { RETRYABLE, parseRetryAfter, sendWithRetries } from './export-thread';
import type { Attempt, ExportOutcome, ExportThreadConfig } from './export-thread';

const RETRYABLE_STATUS = new Set<number>(RETRYABLE.statuses);
const RETRYABLE_CODES = new Set<string>(RETRYABLE.networkErrors);
/** A token, as RFC 9110 defines header names. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** What node refuses in a header value (CR, LF, NUL and other controls but tab). */
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
/** Longest response head read before the answer is called malformed. */
const MAX_HEAD = 16 * 1024;
/** A connection idle longer than the receiver's keep-alive timeout less this margin is not reused. */
const IDLE_MARGIN_MS = 1000;
/** Keep-alive timeout assumed when the receiver names none (node's server: 5 s). */
const DEFAULT_KEEP_ALIVE_MS = 5000;
const CRLF2 = Buffer.from('\r\n\r\n', 'latin1');

/** The parts of a response head this client acts on. */
interface Head {
  status: number;
  /** Body length, `chunked`, or `close` (read until the connection ends). */
  framing: number | 'chunked' | 'close';
  keepAlive: boolean;
  keepAliveMs: number;
  retryAfter: string | undefined;
}

/**
 * Reads one response head (`head` ends at the blank line, excluded), or says what is wrong with it.
 * @example parseHead('HTTP/1.1 200 OK\r\ncontent-length: 2') // { status: 200, framing: 2, keepAlive: true, … }
 */
export function parseHead(head: string): Head | string {
  const lines = head.split('\r\n');
  const statusLine = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(lines[0]!);
  if (statusLine === null) return `malformed status line ${JSON.stringify(lines[0]!.slice(0, 80))}`;
  const status = Number(statusLine[2]);
  let keepAlive = statusLine[1] === '1';
  let keepAliveMs = DEFAULT_KEEP_ALIVE_MS;
  let length: number | undefined;
  let chunked = false;
  let retryAfter: string | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) return `malformed header line ${JSON.stringify(line.slice(0, 80))}`;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') {
      if (!/^\d+$/.test(value)) return `malformed content-length ${JSON.stringify(value)}`;
      length = Number(value);
    } else if (name === 'transfer-encoding') chunked = /(?:^|,)\s*chunked\s*$/i.test(value);
    else if (name === 'connection') {
      const tokens = value
        .toLowerCase()
        .split(',')
        .map((t) => t.trim());
      if (tokens.includes('close')) keepAlive = false;
      else if (tokens.includes('keep-alive')) keepAlive = true;
    } else if (name === 'keep-alive') {
      const timeout = /(?:^|,)\s*timeout=(\d+)/i.exec(value);
      if (timeout) keepAliveMs = Number(timeout[1]) * 1000;
    } else if (name === 'retry-after') retryAfter = value;
  }
  const framing = status === 204 || status === 304 || (status >= 100 && status < 200) ? 0 : chunked ? 'chunked' : (length ?? 'close');
  return { status, framing, keepAlive: keepAlive && framing !== 'close', keepAliveMs, retryAfter };
}

/** One attempt waiting for, or on, the connection. */
interface Job {
  body: Uint8Array;
  resolve: (attempt: Attempt) => void;
  timer: NodeJS.Timeout;
  /** Written on a connection that had served an earlier answer (a stale one may fail it at once). */
  reused: boolean;
  /** A byte of the answer has arrived. */
  answered: boolean;
  /** Sent again once already, on a new connection, after a reused one failed it unanswered. */
  resent: boolean;
  /** The connection it was written to. */
  connection: Connection | undefined;
}

/** The connection and what it has read of the answer in progress. */
interface Connection {
  socket: Socket;
  /** The answer has ended and nothing is in flight. */
  idleSince: number;
  /** Idle connections older than this are not reused (from the receiver's keep-alive timeout). */
  reuseForMs: number;
  served: number;
  /** Bytes read and not yet parsed. */
  pending: Buffer;
  head: Head | undefined;
  /** The body so far (kept only for an error status, for its message). */
  body: Buffer[];
  /** Body bytes still expected (length framing) or of the current chunk. */
  remaining: number;
  /** Chunked framing: what comes next. */
  chunk: 'size' | 'data' | 'data-end' | 'trailer';
}

/**
 * POSTs export request bodies to one `http:` URL from the calling thread, one at a time over a
 * kept-alive connection, retrying as sendWithRetries says (the same as the export thread). It keeps
 * the process alive only while a POST is queued or in flight, not while idle nor during a backoff.
 */
export class SocketPoster {
  readonly #href: string;
  readonly #host: string;
  readonly #port: number;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  /** Why no request can be made (a header node would refuse), or undefined. */
  readonly #invalid: string | undefined;
  readonly #queue: Job[] = [];
  #current: Job | undefined;
  #connection: Connection | undefined;
  #closed = false;
  readonly #readBuffer = Buffer.allocUnsafe(16 * 1024);

  constructor(config: ExportThreadConfig) {
    const url = new URL(config.url);
    if (url.protocol !== 'http:') throw new Error(`SocketPoster posts to http: URLs only, not ${url.protocol}`);
    this.#href = url.href;
    this.#host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    this.#port = url.port === '' ? 80 : Number(url.port);
    this.#timeoutMs = config.timeoutMs;
    let prefix = `POST ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
    let invalid: string | undefined;
    for (const [name, value] of Object.entries(config.headers)) {
      if (!TOKEN.test(name)) invalid ??= `Header name must be a valid HTTP token [${JSON.stringify(name)}]`;
      else if (BAD_VALUE.test(value)) invalid ??= `Invalid character in header content [${JSON.stringify(name)}]`;
      else if (!/^(?:host|content-length|connection|transfer-encoding)$/i.test(name)) prefix += `${name}: ${value}\r\n`;
    }
    this.#prefix = `${prefix}content-length: `;
    this.#invalid = invalid;
  }

  /** POSTs `body`, retrying as described; never rejects. Do not change `body` until it resolves. */
  async send(body: Uint8Array): Promise<ExportOutcome> {
    if (this.#closed) return { ok: false, error: new Error('the OTLP exporter is closed') };
    if (this.#invalid !== undefined) return { ok: false, error: new Error(this.#invalid) };
    const result = await sendWithRetries(
      (timeoutMs) => this.#attempt(body, timeoutMs),
      this.#timeoutMs,
      () => undefined,
    );
    if (result.ok) return { ok: true };
    return { ok: false, error: Object.assign(new Error(result.message), result.code === undefined ? {} : { code: result.code }) };
  }

  /** Fails every POST queued or in flight, and every later one at once; closes the connection. */
  async close(): Promise<void> {
    this.#closed = true;
    const jobs = this.#current === undefined ? [...this.#queue] : [this.#current, ...this.#queue];
    this.#queue.length = 0;
    this.#current = undefined;
    this.#connection?.socket.destroy();
    this.#connection = undefined;
    for (const job of jobs) this.#finish(job, { ok: false, retryable: false, message: 'the OTLP exporter is closed' });
  }

  #attempt(body: Uint8Array, timeoutMs: number): Promise<Attempt> {
    if (this.#closed) return Promise.resolve({ ok: false, retryable: false, message: 'the OTLP exporter is closed' });
    return new Promise((resolve) => {
      const job: Job = { body, resolve, timer: undefined as unknown as NodeJS.Timeout, reused: false, answered: false, resent: false, connection: undefined };
      // The connection (ref'd while busy) keeps the process alive, not this timer.
      job.timer = setTimeout(() => this.#timeOut(job), Math.max(1, timeoutMs)).unref();
      this.#queue.push(job);
      this.#next();
    });
  }

  /** Resolves a job once, and goes on with the queue. */
  #finish(job: Job, attempt: Attempt): void {
    clearTimeout(job.timer);
    if (this.#current === job) this.#current = undefined;
    job.resolve(attempt);
  }

  #timeOut(job: Job): void {
    const queued = this.#queue.indexOf(job);
    if (queued !== -1) this.#queue.splice(queued, 1);
    else if (this.#current === job)
      this.#drop(job.connection); // the answer may still come: this connection is done
    else return;
    this.#finish(job, { ok: false, retryable: true, message: `OTLP export to ${this.#href} timed out` });
    this.#next();
  }

  /** Sends the next queued job when the connection is free. */
  #next(): void {
    if (this.#current !== undefined || this.#closed) return;
    const job = this.#queue.shift();
    if (job === undefined) {
      this.#connection?.socket.unref();
      return;
    }
    let connection = this.#connection;
    if (connection !== undefined && (connection.socket.destroyed || Date.now() - connection.idleSince > connection.reuseForMs)) {
      this.#drop();
      connection = undefined;
    }
    connection ??= this.#open();
    connection.socket.ref();
    job.reused = connection.served > 0;
    job.answered = false;
    job.connection = connection;
    this.#current = job;
    const socket = connection.socket;
    socket.cork();
    socket.write(Buffer.from(`${this.#prefix}${job.body.byteLength}\r\n\r\n`, 'latin1'));
    socket.write(job.body);
    socket.uncork();
  }

  #open(): Connection {
    const socket = connect({
      host: this.#host,
      port: this.#port,
      noDelay: true,
      // Read into one buffer, past the streams machinery the server's requests go through.
      onread: {
        buffer: this.#readBuffer,
        callback: (n) => {
          this.#read(connection, this.#readBuffer.subarray(0, n));
          return true;
        },
      },
    });
    const connection: Connection = {
      socket,
      idleSince: Date.now(),
      reuseForMs: DEFAULT_KEEP_ALIVE_MS - IDLE_MARGIN_MS,
      served: 0,
      pending: Buffer.alloc(0),
      head: undefined,
      body: [],
      remaining: 0,
      chunk: 'size',
    };
    socket.on('error', (error: NodeJS.ErrnoException) => this.#lost(connection, error));
    socket.on('close', () => this.#lost(connection, undefined));
    this.#connection = connection;
    return connection;
  }

  /** Closes a connection, by default the current one (the next request opens another). */
  #drop(connection: Connection | undefined = this.#connection): void {
    if (this.#connection === connection) this.#connection = undefined;
    connection?.socket.destroy();
  }

  /** The connection failed or closed: the job on it fails, or is sent once more if a stale reused connection is why. */
  #lost(connection: Connection, error: NodeJS.ErrnoException | undefined): void {
    if (this.#connection === connection) this.#connection = undefined;
    const job = this.#current;
    if (job === undefined || job.connection !== connection) return;
    if (connection.head !== undefined && connection.head.framing === 'close' && error === undefined) {
      this.#answered(connection, job); // read to the end of the connection: that was the body
      return;
    }
    this.#current = undefined;
    if (job.reused && !job.answered && !job.resent && !this.#closed) {
      // The receiver closed an idle connection as this request went out: send it again at once.
      job.resent = true;
      this.#queue.unshift(job);
    } else {
      const code = error?.code;
      this.#finish(job, {
        ok: false,
        retryable: error === undefined || RETRYABLE_CODES.has(code ?? ''),
        message: `OTLP export to ${this.#href} failed: ${error?.message ?? 'the connection closed before the answer ended'}`,
        code: code ?? 'ECONNRESET',
      });
    }
    this.#next();
  }

  #read(connection: Connection, chunk: Buffer): void {
    const job = this.#current;
    if (job === undefined || job.connection !== connection) {
      connection.socket.destroy(); // bytes nobody asked for: not a connection to trust
      return;
    }
    job.answered = true;
    connection.pending = connection.pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([connection.pending, chunk]);
    const problem = this.#parse(connection);
    if (problem === 'done') this.#answered(connection, job);
    else if (problem !== undefined) {
      this.#drop(connection);
      this.#finish(job, { ok: false, retryable: false, message: `OTLP export to ${this.#href} got a malformed answer: ${problem}` });
      this.#next();
    }
  }

  /** Parses what has arrived: 'done' when the answer is complete, a problem, or undefined for more. */
  #parse(c: Connection): 'done' | string | undefined {
    for (;;) {
      if (c.head === undefined) {
        const end = c.pending.indexOf(CRLF2);
        if (end === -1) return c.pending.length > MAX_HEAD ? 'response head too large' : undefined;
        const head = parseHead(c.pending.toString('latin1', 0, end));
        c.pending = c.pending.subarray(end + 4);
        if (typeof head === 'string') return head;
        if (head.status < 200) continue; // 100 Continue and other interim answers
        c.head = head;
        c.body = [];
        c.chunk = 'size';
        c.remaining = typeof head.framing === 'number' ? head.framing : 0;
        if (head.framing === 0) return 'done';
      }
      const head = c.head;
      if (head.framing === 'close') {
        this.#keep(c, c.pending);
        c.pending = Buffer.alloc(0);
        return undefined;
      }
      if (typeof head.framing === 'number') {
        const take = Math.min(c.remaining, c.pending.length);
        this.#keep(c, c.pending.subarray(0, take));
        c.remaining -= take;
        c.pending = c.pending.subarray(take);
        return c.remaining === 0 ? 'done' : undefined;
      }
      // chunked: size line, data, CRLF, …, a zero size, trailers up to a blank line
      if (c.chunk === 'size' || c.chunk === 'data-end' || c.chunk === 'trailer') {
        const eol = c.pending.indexOf('\r\n', 0, 'latin1');
        if (eol === -1) return c.pending.length > MAX_HEAD ? 'chunk line too long' : undefined;
        const line = c.pending.toString('latin1', 0, eol);
        c.pending = c.pending.subarray(eol + 2);
        if (c.chunk === 'data-end') {
          if (line !== '') return 'chunk not followed by CRLF';
          c.chunk = 'size';
        } else if (c.chunk === 'trailer') {
          if (line === '') return 'done';
        } else {
          const size = /^([0-9a-fA-F]+)(?:;.*)?$/.exec(line.trim());
          if (size === null) return `malformed chunk size ${JSON.stringify(line.slice(0, 40))}`;
          c.remaining = Number.parseInt(size[1]!, 16);
          c.chunk = c.remaining === 0 ? 'trailer' : 'data';
        }
        continue;
      }
      const take = Math.min(c.remaining, c.pending.length);
      this.#keep(c, c.pending.subarray(0, take));
      c.remaining -= take;
      c.pending = c.pending.subarray(take);
      if (c.remaining > 0) return undefined;
      c.chunk = 'data-end';
    }
  }

  /** Keeps body bytes of an error answer (for its message, 500 characters at most). */
  #keep(c: Connection, bytes: Buffer): void {
    if (c.head !== undefined && c.head.status >= 300 && bytes.length > 0 && c.body.reduce((n, b) => n + b.length, 0) < 500) c.body.push(Buffer.from(bytes));
  }

  /** The answer is complete: resolve its job, keep or close the connection, go on. */
  #answered(c: Connection, job: Job): void {
    const head = c.head!;
    c.head = undefined;
    c.served++;
    c.idleSince = Date.now();
    c.reuseForMs = Math.max(0, head.keepAliveMs - IDLE_MARGIN_MS);
    if (!head.keepAlive || c.pending.length > 0) this.#drop(c);
    const { status } = head;
    if (status >= 200 && status < 300) this.#finish(job, { ok: true });
    else {
      const text = Buffer.concat(c.body).toString('utf8').slice(0, 500);
      this.#finish(job, {
        ok: false,
        retryable: RETRYABLE_STATUS.has(status),
        retryInMs: parseRetryAfter(head.retryAfter),
        message: `OTLP export to ${this.#href} answered ${status}${text ? `: ${text}` : ''}`,
      });
    }
    this.#next();
  }
}
