import { randomBytes } from 'node:crypto';
import { connect as connectTcp, isIP } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { mintToken } from '../tokens';
import type { Role } from '../tokens';

/** One HTTP exchange as the checks see it: status, headers and the raw body text. */
export interface ApiResponse {
  method: string;
  path: string;
  status: number;
  headers: Headers;
  text: string;
}

export interface RequestOptions {
  /** Bearer token; sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Serialised as JSON with `Content-Type: application/json`. */
  json?: unknown;
  /** A raw body, sent as is (for malformed input); set the content type in `headers`. */
  body?: string | Uint8Array;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export interface Customer {
  id: string;
  token: string;
}

/**
 * A tiny fetch-based client bound to one base URL and auth secret. Network failures become
 * errors that name the request, so a failing check says which call broke.
 */
export class ApiClient {
  readonly baseUrl: string;
  readonly #secret: string;

  constructor(baseUrl: string, secret: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.#secret = secret;
  }

  /** Resolves a path or a Location header value against the base URL. */
  url(pathOrLocation: string): string {
    if (/^https?:\/\//i.test(pathOrLocation)) return pathOrLocation;
    return `${this.baseUrl}${pathOrLocation.startsWith('/') ? '' : '/'}${pathOrLocation}`;
  }

  async request(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse> {
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json', ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    let body: string | Uint8Array | undefined = options.body;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] ??= 'application/json';
    }
    let response: Response;
    try {
      response = await fetch(this.url(path), {
        method,
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      throw new Error(`${method} ${path}: request failed: ${describeNetworkError(error)}`);
    }
    const text = await response.text();
    return { method, path, status: response.status, headers: response.headers, text };
  }

  get(path: string, options?: RequestOptions) {
    return this.request('GET', path, options);
  }

  post(path: string, options?: RequestOptions) {
    return this.request('POST', path, options);
  }

  /**
   * Sends one HTTP/1.1 request byte for byte over its own connection, header values as Latin-1:
   * for what fetch refuses to send (a control character in a header value, two headers of one
   * name) but a server must still answer. `headers` as pairs sends each pair as its own line, in
   * order, after the defaults (a name given twice is sent twice); as a record, it replaces the
   * defaults of the same name. The connection closes after the answer.
   * @example await api.requestBytes('POST', '/orders', { headers: [['idempotency-key', 'a'], ['idempotency-key', 'b']] })
   */
  async requestBytes(
    method: string,
    path: string,
    options: {
      headers?: Record<string, string> | ReadonlyArray<readonly [string, string]>;
      token?: string;
      body?: string;
      timeoutMs?: number;
    } = {},
  ): Promise<ApiResponse> {
    const url = new URL(this.url(path));
    const body = Buffer.from(options.body ?? '', 'utf8');
    const given = options.headers ?? {};
    const extra: ReadonlyArray<readonly [string, string]> = isPairs(given) ? given : [];
    const headers: Record<string, string> = {
      host: url.host,
      accept: 'application/json, application/problem+json',
      connection: 'close',
      'content-length': String(body.length),
      ...(options.token !== undefined ? { authorization: `Bearer ${options.token}` } : {}),
      ...(isPairs(given) ? {} : given),
    };
    const head = `${method} ${url.pathname}${url.search} HTTP/1.1\r\n${[...Object.entries(headers), ...extra]
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('')}\r\n`;
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const received = await new Promise<Buffer>((resolve, reject) => {
      const socket =
        url.protocol === 'https:'
          ? connectTls({ host: url.hostname, port, ...(isIP(url.hostname) ? {} : { servername: url.hostname }) })
          : connectTcp({ host: url.hostname, port });
      const chunks: Buffer[] = [];
      socket.setTimeout(options.timeoutMs ?? 30_000, () => socket.destroy(new Error('timed out')));
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('end', () => resolve(Buffer.concat(chunks)));
      // A server that answers and then resets the connection (it closed with input unread) still answered.
      socket.on('error', (error) => {
        const answered = Buffer.concat(chunks);
        if (answered.includes('\r\n\r\n')) resolve(answered);
        else reject(new Error(`${method} ${path}: request failed: ${error.message}`));
      });
      socket.write(Buffer.concat([Buffer.from(head, 'latin1'), body]));
    });
    const split = received.indexOf('\r\n\r\n');
    const lines = received
      .subarray(0, split < 0 ? received.length : split)
      .toString('latin1')
      .split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1]);
    if (!Number.isInteger(status)) throw new Error(`${method} ${path}: not an HTTP answer: ${JSON.stringify(lines[0]?.slice(0, 80))}`);
    const responseHeaders = new Headers();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) responseHeaders.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    }
    let rest = split < 0 ? Buffer.alloc(0) : received.subarray(split + 4);
    if (/chunked/i.test(responseHeaders.get('transfer-encoding') ?? '')) {
      const parts: Buffer[] = [];
      for (;;) {
        const end = rest.indexOf('\r\n');
        const size = parseInt(rest.subarray(0, end).toString('latin1'), 16);
        if (!(size > 0)) break;
        parts.push(rest.subarray(end + 2, end + 2 + size));
        rest = rest.subarray(end + 2 + size + 2);
      }
      rest = Buffer.concat(parts);
    }
    return { method, path, status, headers: responseHeaders, text: rest.toString('utf8') };
  }

  /** Mints a token signed with the suite's secret. */
  token(sub: string, role: Role = 'customer', expiresInSeconds = 3600): string {
    return mintToken(this.#secret, { sub, role, expiresInSeconds });
  }

  /** A customer nobody else uses, so checks can run again and again against one server. */
  newCustomer(label: string): Customer {
    const id = `conf-${label}-${randomBytes(5).toString('hex')}`;
    return { id, token: this.token(id) };
  }

  adminToken(): string {
    return this.token(`conf-admin-${randomBytes(3).toString('hex')}`, 'admin');
  }
}

function isPairs(headers: Record<string, string> | ReadonlyArray<readonly [string, string]>): headers is ReadonlyArray<readonly [string, string]> {
  return Array.isArray(headers);
}

/** Turns fetch's generic "fetch failed" into the underlying cause (ECONNREFUSED, timeout, ...). */
export function describeNetworkError(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') return 'timed out';
    const cause = (error as { cause?: unknown }).cause;
    if (cause instanceof Error) {
      const code = (cause as { code?: string }).code;
      return code ? `${code} (${cause.message})` : cause.message;
    }
    return error.message;
  }
  return String(error);
}
