import { serve } from '@hono/node-server';
import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http';
import { Server as NetServer } from 'node:net';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { PROBLEM_CONTENT_TYPE } from '@archbench/contracts/problems';
import { AppError } from '@archbench/domain/errors';
import { toProblem } from '@archbench/observability/errors';
import type { Logger } from '@archbench/observability/logging';
import { DeferredHeadersResponse } from '@archbench/observability/node-response';
import { headersTooLarge } from './portable';

export interface ServeOptions {
  port: number;
  host: string;
  logger: Logger;
  /** Called after the server stopped accepting and drained; close databases here. */
  onShutdown?: () => Promise<void>;
  /**
   * Longest wait for in-flight requests on shutdown, ms; past it their connections are closed.
   * Required, so no server forgets it: pass the server's `env.SHUTDOWN_DRAIN_MS`.
   */
  drainTimeoutMs: number;
}

/**
 * Answers a request node's HTTP parser refused before the app saw it, as the app answers bad
 * input (problem+json), so every topology answers it alike (workerd hands such requests to the
 * serverless app, which refuses them with the same problems): headers over
 * LIMITS.maxHeaderBytes → 431 `headers-too-large`, a chunk extension too long → 413
 * `payload-too-large`, anything else unparsable (a control character in a header value) → 400
 * `malformed-request`. Node's own answer was the same status with no body. A request that timed
 * out keeps node's 408. As with node's own handler the connection is then destroyed (a second
 * later); a reset connection, or one whose response is already being written (keep-alive), at
 * once.
 */
export function answerUnparsable(error: Error & { code?: string }, socket: Duplex): void {
  const writing = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  if (error.code === 'ECONNRESET' || !socket.writable || writing) {
    socket.destroy();
    return;
  }
  // Destroyed a second after the answer, not as soon as it is written: the client may still be
  // sending the rest of an oversized request, and closing with unread input resets the connection,
  // which can lose the answer on its way.
  const close = (answer: string) => {
    socket.end(answer);
    setTimeout(() => socket.destroy(), 1000).unref();
  };
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    close('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
    return;
  }
  const [status, error_] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? (['Request Header Fields Too Large', headersTooLarge()] as const)
      : error.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW'
        ? (['Payload Too Large', new AppError('payload-too-large', 'a chunk extension of the request body is too long')] as const)
        : (['Bad Request', new AppError('malformed-request', 'the request is not valid HTTP (a control character in a header value, say)')] as const);
  const problem = toProblem(error_);
  const body = JSON.stringify(problem.body);
  close(
    `HTTP/1.1 ${problem.status} ${status}\r\n` +
      `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * Serves a Hono app on node:http with graceful shutdown: on SIGTERM/SIGINT it stops accepting,
 * lets in-flight requests finish for at most `drainTimeoutMs` (then closes their connections),
 * runs `onShutdown`, then exits. Resolves with the bound port once listening.
 * @example await serveWithShutdown(app, { port: env.PORT, host: env.HOST, logger, drainTimeoutMs: env.SHUTDOWN_DRAIN_MS })
 */
export function serveWithShutdown(app: { fetch: Parameters<typeof serve>[0]['fetch'] }, options: ServeOptions): Promise<number> {
  return listen(app, options).then(({ server, port }) => {
    let closing = false;
    // Open connections, so shutdown can tell whether a response is still being written (one set
    // entry per connection, nothing per request).
    const sockets = new Set<Socket>();
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    const shutdown = (signal: string) => {
      if (closing) return;
      closing = true;
      options.logger.info({ signal, drainMs: options.drainTimeoutMs }, 'shutting down');
      const timer = setTimeout(() => {
        options.logger.warn('drain timeout reached; closing remaining connections');
        server.closeAllConnections();
      }, options.drainTimeoutMs);
      timer.unref();
      // The server stops accepting, then waits for every connection to close, and a keep-alive
      // client keeps its connection open after its answer: left alone, the server would wait out
      // the whole drain (SHUTDOWN_DRAIN_MS, 35 s in the manifests) whenever a request was in flight.
      // So every response started during the drain says `Connection: close` (node ends that
      // connection once it is written, after any response queued before it on a pipelining
      // connection). The listener goes first: an app that answers synchronously has written its
      // headers by the time a listener after it runs. (A request pipelined behind a response
      // started during the drain is still lost: its handler runs, node closes the connection
      // after the response before it. Browsers, undici and proxies do not pipeline.)
      server.prependListener('request', (_request: IncomingMessage, response: ServerResponse) => {
        response.shouldKeepAlive = false;
      });
      // A response in flight at SIGTERM whose headers are not written yet (a `Prefer: wait`
      // long-poll) says `Connection: close` too, so a pooled client does not send its next
      // request on a connection about to close — unless, when its headers go out, a later request
      // has been read on the connection (pipelined): ending the connection after this response
      // would drop that one's answer, so it keeps the connection, and the later one (started
      // during the drain) closes it.
      for (const socket of sockets) {
        const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
        if (inFlight && !inFlight.headersSent) closeAfter(inFlight, socket);
      }
      // Those, and connections with no request, are closed once idle (no request being received,
      // no response being written: node's own notion, which counts pipelined requests), now and
      // every IDLE_SWEEP_MS until the server has closed. A request a client sends on a kept-alive
      // connection as it is closed is never read (its handler does not run) and the client sees
      // the connection closed or reset, as when node's keep-alive timeout closes one.
      const closeIdle = () => {
        // closeIdleConnections also destroys a connection whose response has ended but is not
        // written yet (a slow reader's large body), cutting it and any response queued behind it;
        // such a response finishes in its own time (or the drain timeout closes it), and the
        // sweep waits until none is left.
        for (const socket of sockets) if ((socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage?.writableEnded) return;
        server.closeIdleConnections();
      };
      const sweep = setInterval(closeIdle, IDLE_SWEEP_MS);
      sweep.unref();
      closeIdle();
      const finish = async () => {
        clearInterval(sweep);
        try {
          await options.onShutdown?.();
        } catch (error) {
          options.logger.error({ err: error }, 'error during shutdown');
        }
        options.logger.flush?.();
        process.exit(0);
      };
      // net's close, not http's: http's first closes idle connections unguarded (above).
      NetServer.prototype.close.call(server, () => void finish());
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
    // Started by a supervisor with an IPC channel (@archbench/topologies): stop when it goes away, even after a SIGKILL.
    if (process.send) process.once('disconnect', () => shutdown('supervisor gone'));
    return port;
  });
}

/**
 * Makes `response`, in flight at SIGTERM, the last on its connection when its headers are written,
 * if by then no later request has been read on the connection: node's parser keeps the request it
 * read last (`socket.parser.incoming`, as `_httpMessage` node's own field), which is this
 * response's own unless a client pipelined another. Only the few responses in flight at SIGTERM
 * get the wrapper; nothing runs per request otherwise.
 */
function closeAfter(response: ServerResponse, socket: Socket): void {
  const writeHead = response.writeHead;
  response.writeHead = function (this: ServerResponse, ...args: Parameters<ServerResponse['writeHead']>) {
    const parser = (socket as Socket & { parser?: { incoming?: unknown } | null }).parser;
    if (parser?.incoming === response.req) response.shouldKeepAlive = false;
    return writeHead.apply(this, args);
  } as ServerResponse['writeHead'];
}

/** How often a draining server closes the connections that have become idle, ms. */
const IDLE_SWEEP_MS = 100;

/**
 * Serves a Hono app on node:http as every Node topology does, without serveWithShutdown's signal
 * handling (tests): headers set by middleware written in one writeHead (DeferredHeadersResponse),
 * a keep-alive timeout longer than common client and proxy idle timeouts (so the client side
 * closes idle sockets), and requests the parser refuses answered as problems (answerUnparsable).
 * Resolves once listening.
 */
export function listen(
  app: { fetch: Parameters<typeof serve>[0]['fetch'] },
  options: { port: number; host: string },
): Promise<{ server: HttpServer; port: number }> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: options.port, hostname: options.host, serverOptions: { ServerResponse: DeferredHeadersResponse } }, (info) =>
      resolve({ server: server as HttpServer, port: info.port }),
    ) as HttpServer;
    server.keepAliveTimeout = 65_000;
    server.on('clientError', answerUnparsable);
  });
}
