import { randomBytes } from 'node:crypto';
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
