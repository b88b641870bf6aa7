import { serve } from '@hono/node-server';
import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http';
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
    // Open connections, so shutdown can make the response each is writing its last (one set entry
    // per connection, nothing per request).
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
      // server.close() waits for every connection to close, and a keep-alive client keeps its
      // connection open after its answer: without this the server would wait out the whole drain
      // (SHUTDOWN_DRAIN_MS, 35 s in the manifests) whenever a request was in flight at SIGTERM.
      // Each response in flight, and each one a kept-alive connection asks for during the drain,
      // is the last on its connection, which closes once the response is written.
      for (const socket of sockets) {
        const response = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
        if (response) lastOnItsConnection(response, socket);
      }
      server.on('request', (_request: IncomingMessage, response: ServerResponse) => lastOnItsConnection(response, response.socket));
      server.closeIdleConnections();
      const finish = async () => {
        try {
          await options.onShutdown?.();
        } catch (error) {
          options.logger.error({ err: error }, 'error during shutdown');
        }
        options.logger.flush?.();
        process.exit(0);
      };
      server.close(() => void finish());
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
    // Started by a supervisor with an IPC channel (@archbench/topologies): stop when it goes away, even after a SIGKILL.
    if (process.send) process.once('disconnect', () => shutdown('supervisor gone'));
    return port;
  });
}

/**
 * Makes `response` the last on its connection: with `Connection: close` when its headers are not
 * written yet (node then ends the connection after it), else by ending the connection once it is
 * written.
 */
function lastOnItsConnection(response: ServerResponse, socket: Socket | null): void {
  if (!response.headersSent) response.shouldKeepAlive = false;
  else if (socket) response.once('finish', () => socket.end());
}

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
