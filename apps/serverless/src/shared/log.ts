/**
 * Structured logs on Workers: one JSON line per event on the console, which is the runtime's log
 * sink (miniflare prints it, Cloudflare keeps it in Workers Logs / Logpush). Same fields as the
 * Node apps' pino lines: level, time, service, msg, plus context.
 */
const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity } as const;
export type LogLevel = keyof typeof LEVELS;

export interface WorkerLogger {
  debug(context: Record<string, unknown>, message: string): void;
  info(context: Record<string, unknown>, message: string): void;
  warn(context: Record<string, unknown>, message: string): void;
  error(context: Record<string, unknown>, message: string): void;
}

function serialize(value: unknown): unknown {
  return value instanceof Error ? { type: value.name, message: value.message, stack: value.stack } : value;
}

/** @example const log = createLogger('serverless-api', env.LOG_LEVEL); log.info({ orderId }, 'placed') */
export function createLogger(service: string, level: string | undefined): WorkerLogger {
  const threshold = LEVELS[(level ?? 'info') as LogLevel] ?? LEVELS.info;
  const write = (name: Exclude<LogLevel, 'silent'>) => (context: Record<string, unknown>, message: string) => {
    if (LEVELS[name] < threshold) return;
    const fields = Object.fromEntries(Object.entries(context).map(([k, v]) => [k, serialize(v)]));
    // The console is the only log sink a Worker has.
    // eslint-disable-next-line no-console
    console.log(JSON.stringify({ level: LEVELS[name], time: Date.now(), service, msg: message, ...fields }));
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
