// Helpers for this package's tests: serve Hono apps on ephemeral ports and capture log lines.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';

export interface Served {
  url: string;
  close(): Promise<void>;
}

/** Serves an app on 127.0.0.1 and a port the OS picks. */
export function serveApp(app: { fetch: (request: Request) => Response | Promise<Response> }): Promise<Served> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
            server.close(() => done());
          }),
      });
    });
  });
}

/** A stand-in collector on 127.0.0.1 (see startReceiver): what it received, and how to stop it. */
export interface Receiver {
  /** The base URL, `http://127.0.0.1:<port>` (an OTLP endpoint). */
  url: string;
  /** `<url>/v1/traces`, where an OTLP exporter posts spans. */
  tracesUrl: string;
  /** Every request, in arrival order, with its path and whole body. */
  requests: Array<{ path: string; headers: IncomingHttpHeaders; body: Buffer }>;
  /** The bodies alone, in the same order. */
  bodies: Buffer[];
  /** Connections accepted so far. */
  connections(): number;
  /** Closes the server and every connection still open (a request never answered included). */
  close(): Promise<void>;
}

/**
 * Starts an HTTP receiver that keeps each request and its body, then lets `answer` reply (`index`:
 * the request's place, from 0). Without `answer` it replies 200 like a collector.
 * @example const receiver = await startReceiver((_req, res, index) => res.writeHead(index === 0 ? 503 : 200).end())
 */
export async function startReceiver(
  answer: (req: IncomingMessage, res: ServerResponse, index: number) => void = (_req, res) => void res.writeHead(200).end(),
): Promise<Receiver> {
  const requests: Receiver['requests'] = [];
  const bodies: Buffer[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({ path: req.url ?? '', headers: req.headers, body });
      bodies.push(body);
      answer(req, res, requests.length - 1);
    });
  });
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    tracesUrl: `${url}/v1/traces`,
    requests,
    bodies,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Runs an ES module `script` in a child node (with tsx, from this package's folder, environment
 * `env`), killed after 15 s: its exit code, output, and how long it ran.
 * @example const run = await runScript(`process.stdout.write('hi')`, { ...process.env }) // { code: 0, stdout: 'hi', … }
 */
export async function runScript(script: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const killer = setTimeout(() => child.kill(), 15_000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearTimeout(killer);
  return { code, stdout, stderr, ms: Date.now() - started };
}

/** A pino destination keeping every line, parsed. */
export function captureLogs(): { destination: { write(line: string): void }; raw(): string; lines(): Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  return {
    destination: { write: (line: string) => void chunks.push(line) },
    raw: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** Reads a protobuf varint at `offset`; returns [value, next offset]. */
function varint(buf: Uint8Array, offset: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = buf[offset++]!;
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return [value, offset];
    shift += 7;
  }
}

/** The length-delimited fields numbered `field` of a protobuf message, as slices. */
function fieldsOf(buf: Uint8Array, field: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let offset = 0;
  while (offset < buf.length) {
    const [tag, afterTag] = varint(buf, offset);
    const wire = tag & 7;
    offset = afterTag;
    if (wire === 0) offset = varint(buf, offset)[1];
    else if (wire === 1) offset += 8;
    else if (wire === 5) offset += 4;
    else if (wire === 2) {
      const [length, start] = varint(buf, offset);
      if (tag >>> 3 === field) out.push(buf.subarray(start, start + length));
      offset = start + length;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
  return out;
}

/**
 * Spans in an OTLP/HTTP protobuf export body (ExportTraceServiceRequest: resource_spans = 1,
 * scope_spans = 2, spans = 2), and the UTF-8 names of them (Span.name = 5).
 */
export function otlpProtobufSpans(body: Uint8Array): string[] {
  const names: string[] = [];
  for (const resourceSpans of fieldsOf(body, 1)) {
    for (const scopeSpans of fieldsOf(resourceSpans, 2)) {
      for (const span of fieldsOf(scopeSpans, 2)) names.push(Buffer.from(fieldsOf(span, 5)[0] ?? new Uint8Array()).toString('utf8'));
    }
  }
  return names;
}

/** How many spans an OTLP/HTTP protobuf export body holds, without decoding them. */
export function otlpProtobufSpanCount(body: Uint8Array): number {
  let count = 0;
  for (const resourceSpans of fieldsOf(body, 1)) {
    for (const scopeSpans of fieldsOf(resourceSpans, 2)) count += fieldsOf(scopeSpans, 2).length;
  }
  return count;
}
