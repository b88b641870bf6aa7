import { pino } from 'pino';
import type { Logger, LoggerOptions } from 'pino';

export type { Logger };

export interface LoggerFactoryOptions {
  service: string;
  level?: string;
  /** Where lines go; defaults to stdout. */
  destination?: pino.DestinationStream;
}

/** Paths that never reach a log line. */
export const REDACTED_PATHS = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'request.headers.authorization',
  'token',
  'payment.token',
  '*.payment.token',
  'body.payment.token',
  'paymentToken',
  '*.paymentToken',
];

/**
 * Structured JSON logs (pino) with secrets redacted.
 * @example const log = createLogger({ service: 'monolith', level: 'info' })
 */
export function createLogger(options: LoggerFactoryOptions): Logger {
  const config: LoggerOptions = {
    level: options.level ?? 'info',
    base: { service: options.service },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return options.destination ? pino(config, options.destination) : pino(config);
}
