import { serve } from '@hono/node-server';
import type { Server as HttpServer } from 'node:http';
import type { Logger } from '@archbench/observability/logging';
import { DeferredHeadersResponse } from '@archbench/observability/node-response';

export interface ServeOptions {
  port: number;
  host: string;
  logger: Logger;
  /** Called after the server stopped accepting and drained; close databases here. */
  onShutdown?: () => Promise<void>;
  /** Longest wait for in-flight requests on shutdown, ms. */
  drainTimeoutMs?: number;
}

/**
 * Serves a Hono app on node:http with graceful shutdown: on SIGTERM/SIGINT it stops accepting,
 * lets in-flight requests finish (bounded), runs `onShutdown`, then exits.
 * Resolves with the bound port once listening.
 */
export function serveWithShutdown(app: { fetch: Parameters<typeof serve>[0]['fetch'] }, options: ServeOptions): Promise<number> {
  return new Promise((resolve) => {
    // DeferredHeadersResponse: headers set by middleware are written with the handler's in one writeHead.
    const server = serve({ fetch: app.fetch, port: options.port, hostname: options.host, serverOptions: { ServerResponse: DeferredHeadersResponse } }, (info) =>
      resolve(info.port),
    );
    // Longer than common client/proxy idle timeouts, so keep-alive sockets are closed by the client side.
    (server as HttpServer).keepAliveTimeout = 65_000;
    let closing = false;
    const shutdown = (signal: string) => {
      if (closing) return;
      closing = true;
      options.logger.info({ signal }, 'shutting down');
      const timer = setTimeout(() => {
        options.logger.warn('drain timeout reached; closing remaining connections');
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      }, options.drainTimeoutMs ?? 10_000);
      timer.unref();
      (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
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
  });
}
