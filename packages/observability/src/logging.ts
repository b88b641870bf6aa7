import type { MiddlewareHandler } from 'hono';
import { pino } from 'pino';
import type { Logger, LoggerOptions } from 'pino';
import { activeIds } from './context';
import { httpObservability } from './middleware';
import type { HttpObservabilityOptions, ObservabilityEnv } from './middleware';

export type { Logger };

export interface LoggerFactoryOptions {
  service: string;
  level?: string;
  /** Where lines go; defaults to stdout. */
  destination?: pino.DestinationStream;
  /**
   * Write stdout synchronously (default true). False writes asynchronously: lines logged while a
   * write is in flight go out together in the next one, so a busy server makes far fewer
   * syscalls; pending lines are flushed on exit.
   */
  sync?: boolean;
  /**
   * Add `trace_id`, `span_id` and `request_id` of the active request to every line (default
   * true). Read from the active OpenTelemetry context, so loggers handed to modules at startup
   * correlate too, not only `c.var.logger`.
   */
  correlate?: boolean;
}

/** Paths that never reach a log line. */
export const REDACTED_PATHS = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'req.headers.authorization',
  'request.headers.authorization',
  'cookie',
  'headers.cookie',
  '*.headers.cookie',
  'token',
  '*.token',
  'payment.token',
  '*.payment.token',
  'body.payment.token',
  '*.body.payment.token',
  'paymentToken',
  '*.paymentToken',
];

function correlationMixin(): Record<string, string> {
  const ids = activeIds();
  // pino merges into the returned object, so it must be fresh on every call.
  const out: Record<string, string> = {};
  if (ids.traceId !== undefined) {
    out.trace_id = ids.traceId;
    out.span_id = ids.spanId!;
  }
  if (ids.requestId !== undefined) out.request_id = ids.requestId;
  return out;
}

/**
 * Structured JSON logs (pino) with secrets redacted and request correlation ids on each line.
 * @example const log = createLogger({ service: 'monolith', level: 'info' })
 */
export function createLogger(options: LoggerFactoryOptions): Logger {
  const config: LoggerOptions = {
    level: options.level ?? 'info',
    base: { service: options.service },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    ...(options.correlate === false ? {} : { mixin: correlationMixin }),
  };
  if (options.destination) return pino(config, options.destination);
  return options.sync === false ? pino(config, pino.destination({ dest: 1, sync: false })) : pino(config);
}

/**
 * Request-logging middleware: honours or generates `X-Request-Id` (echoed on the response),
 * sets `c.var.logger` and `c.var.requestId`, and logs one line per request at `accessLog`
 * (default `debug`, so nothing at `info` unless asked). `observe()` includes it.
 * @example app.use(requestLogging({ logger, accessLog: 'info' }))
 */
export function requestLogging(options: { logger: Logger } & Pick<HttpObservabilityOptions, 'accessLog' | 'ignorePaths'>): MiddlewareHandler<ObservabilityEnv> {
  return httpObservability({ logger: options.logger, accessLog: options.accessLog, ignorePaths: options.ignorePaths });
}
