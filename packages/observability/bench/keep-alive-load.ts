// A closed-loop HTTP/1.1 load generator for the overhead bench: a fixed number of keep-alive
// connections, each sending one request, waiting for the whole response and sending the next while
// the load is on. It costs about half autocannon's CPU per request, which on a 2-core machine
// leaves more of the second core to the server under test, counts throughput exactly (from the
// first request sent to the last response, not per whole second), and can be stopped and started
// again on the same connections.
import { connect } from 'node:net';
import type { Socket } from 'node:net';

/** Latency buckets of 10 µs up to 1 s; slower responses land in the last one. */
const LATENCY_BUCKETS = 100_000;
const BUCKET_MS = 0.01;
const EMPTY = Buffer.alloc(0);

/** What one slice of load (from `start` until `stop` has drained it) did. */
export interface Slice {
  /** Responses with a 2xx status. */
  ok: number;
  /** Responses with another status, and connections that failed mid-request. */
  failed: number;
  /** From the first request sent to the last response received, seconds. */
  seconds: number;
}

/** A request other than a bare GET: a method, headers and a body (sent with its content-length). */
export interface LoadRequest {
  method: string;
  path: string;
  headers?: Readonly<Record<string, string>>;
  body?: string;
}

/** What each request is: a path to GET, or a whole request. */
export type NextRequest = () => string | LoadRequest;

interface Connection {
  socket: Socket | undefined;
  /** Bytes of the response being read. */
  buffer: Buffer;
  /** When its request was sent (performance.now()), or -1 while idle. */
  sentAt: number;
}

/**
 * Keeps `connections` keep-alive connections to one server and, while started, a request in flight
 * on each; `nextRequest` gives each request (a path to GET, or a method, headers and body). A
 * connection the server closed while idle (its keep-alive timeout) is opened again for the next
 * request.
 */
export class KeepAliveLoad {
  readonly #host: string;
  readonly #port: number;
  readonly #nextRequest: NextRequest;
  readonly #connections: Connection[];
  readonly #latency = new Uint32Array(LATENCY_BUCKETS);
  #on = false;
  #inFlight = 0;
  #ok = 0;
  #failed = 0;
  #firstSent = 0;
  #lastDone = 0;
  #drained: (() => void) | undefined;
  /** The first failure's description, for the error a caller reports. */
  firstError: string | undefined;

  constructor(url: string, connections: number, nextRequest: NextRequest) {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:') throw new Error(`KeepAliveLoad speaks plain HTTP/1.1 only, not ${parsed.protocol} (${url})`);
    this.#host = parsed.hostname;
    this.#port = Number(parsed.port || 80);
    this.#nextRequest = nextRequest;
    this.#connections = Array.from({ length: connections }, () => ({ socket: undefined, buffer: EMPTY, sentAt: -1 }));
  }

  /** Starts sending on every connection. */
  start(): void {
    if (this.#on) return;
    this.#on = true;
    this.#ok = 0;
    this.#failed = 0;
    this.#firstSent = performance.now();
    this.#lastDone = this.#firstSent;
    for (const connection of this.#connections) this.#send(connection);
  }

  /** Stops sending; resolves with the slice once the requests in flight have been answered. */
  async stop(): Promise<Slice> {
    this.#on = false;
    if (this.#inFlight > 0) await new Promise<void>((done) => (this.#drained = done));
    return { ok: this.#ok, failed: this.#failed, seconds: (this.#lastDone - this.#firstSent) / 1000 };
  }

  /** Runs the load for `seconds` and returns what it did. */
  async run(seconds: number): Promise<Slice> {
    this.start();
    await new Promise((done) => setTimeout(done, seconds * 1000));
    return this.stop();
  }

  /** The latency (ms) under which `fraction` of all responses so far arrived, to 10 µs. */
  latencyPercentile(fraction: number): number {
    let total = 0;
    for (const count of this.#latency) total += count;
    let seen = 0;
    for (let i = 0; i < LATENCY_BUCKETS; i++) {
      seen += this.#latency[i]!;
      if (seen >= fraction * total && seen > 0) return (i + 1) * BUCKET_MS;
    }
    return 0;
  }

  /** Forgets the latencies recorded so far (after a warm-up). */
  resetLatency(): void {
    this.#latency.fill(0);
  }

  /** Closes every connection (stop first). */
  close(): void {
    this.#on = false;
    for (const connection of this.#connections) {
      connection.socket?.destroy();
      connection.socket = undefined;
    }
  }

  #send(connection: Connection): void {
    if (connection.socket === undefined || connection.socket.destroyed) this.#open(connection);
    connection.buffer = EMPTY;
    connection.sentAt = performance.now();
    this.#inFlight++;
    connection.socket!.write(this.#format(this.#nextRequest()));
  }

  #format(request: string | LoadRequest): string {
    const host = `host: ${this.#host}:${this.#port}\r\n`;
    if (typeof request === 'string') return `GET ${request} HTTP/1.1\r\n${host}\r\n`;
    let head = `${request.method} ${request.path} HTTP/1.1\r\n${host}`;
    for (const [name, value] of Object.entries(request.headers ?? {})) head += `${name}: ${value}\r\n`;
    if (request.body === undefined) return `${head}\r\n`;
    return `${head}content-length: ${Buffer.byteLength(request.body)}\r\n\r\n${request.body}`;
  }

  #open(connection: Connection): void {
    const socket = connect({ host: this.#host, port: this.#port, noDelay: true });
    connection.socket = socket;
    socket.on('data', (chunk: Buffer) => this.#read(connection, chunk));
    // An idle connection the server closed is opened again on the next send; one closed with a
    // request in flight fails that request.
    const lost = (reason: string) => {
      if (connection.socket !== socket) return;
      connection.socket = undefined;
      if (connection.sentAt >= 0) this.#done(connection, false, `connection lost mid-request: ${reason}`);
    };
    socket.on('error', (error) => lost(error.message));
    socket.on('close', () => lost('closed by the server'));
  }

  #read(connection: Connection, chunk: Buffer): void {
    if (connection.sentAt < 0) return;
    const buffer = connection.buffer.length === 0 ? chunk : Buffer.concat([connection.buffer, chunk]);
    connection.buffer = buffer;
    const headerEnd = buffer.indexOf('\r\n\r\n');
    if (headerEnd === -1) return;
    const head = buffer.toString('latin1', 0, headerEnd);
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (length === null) {
      connection.socket?.destroy();
      connection.socket = undefined;
      this.#done(connection, false, `a response without content-length (status ${status}); this generator reads only those`);
      return;
    }
    if (buffer.length < headerEnd + 4 + Number(length[1])) return;
    this.#done(connection, status >= 200 && status < 300, `status ${status}`);
  }

  #done(connection: Connection, ok: boolean, failure: string): void {
    const now = performance.now();
    const bucket = Math.min(LATENCY_BUCKETS - 1, Math.floor((now - connection.sentAt) / BUCKET_MS));
    this.#latency[bucket] = this.#latency[bucket]! + 1;
    connection.sentAt = -1;
    connection.buffer = EMPTY;
    this.#lastDone = now;
    this.#inFlight--;
    if (ok) this.#ok++;
    else {
      this.#failed++;
      this.firstError ??= failure;
    }
    if (this.#on) this.#send(connection);
    else if (this.#inFlight === 0 && this.#drained !== undefined) {
      const drained = this.#drained;
      this.#drained = undefined;
      drained();
    }
  }
}
