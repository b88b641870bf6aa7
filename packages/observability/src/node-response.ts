// The node:http response class archbench's Node servers answer with (serveWithShutdown passes it
// as `ServerResponse`). Middleware sets its headers (request id, security headers, CORS) before
// the handler answers; on a stock response each `setHeader` validates the name and value with a
// regular expression, lowercases the name and stores it in a dictionary-mode object, and its
// presence then makes `writeHead` merge the handler's headers one `setHeader` call at a time.
// Here those headers wait in a flat array and join the handler's headers in the one `writeHead`,
// which validates them once, on node's fast path.
import { ServerResponse } from 'node:http';
import type { IncomingMessage, OutgoingHttpHeader, OutgoingHttpHeaders } from 'node:http';

/** Lowercased header names, cached: handlers use a few constant names ("Content-Type"). */
const lowerNames = new Map<string, string>();
function lower(name: string): string {
  let l = lowerNames.get(name);
  if (l === undefined) {
    l = name.toLowerCase();
    if (lowerNames.size < 256) lowerNames.set(name, l);
  }
  return l;
}

/**
 * A ServerResponse whose headers set before the answer (`deferHeader`) are written with the
 * handler's own in `writeHead`. The handler's headers win on a clash, as when the deferred ones
 * are set with `setHeader`. Everything else about the response is node's: `getHeader`,
 * `hasHeader`, `setHeader` and `removeHeader` see the deferred headers too.
 * @example createServer({ ServerResponse: DeferredHeadersResponse }, listener)
 */
export class DeferredHeadersResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {
  /** Deferred headers as name, value, name, value… (names lowercase); undefined when none. */
  #deferred: string[] | undefined = undefined;
  /** Whether a header was set on node's own store (setHeader, appendHeader). */
  #progressive = false;

  /** Sets a response header to be written with the handler's in `writeHead`. */
  deferHeader(headerName: string, value: string): void {
    const name = lower(headerName);
    const at = this.#find(name);
    if (at !== -1) this.#deferred![at + 1] = value;
    else (this.#deferred ??= []).push(name, value);
  }

  /** Moves the deferred headers onto node's own header store (for the APIs that read it whole). */
  #settle(): void {
    const deferred = this.#deferred;
    if (deferred === undefined) return;
    this.#deferred = undefined;
    this.#progressive = true;
    for (let i = 0; i < deferred.length; i += 2) if (!super.hasHeader(deferred[i]!)) super.setHeader(deferred[i]!, deferred[i + 1]!);
  }

  /** Where the deferred header `name` (any case) is in the array, or -1. */
  #indexOf(name: string): number {
    return this.#deferred === undefined ? -1 : this.#find(lower(name));
  }

  /** Where the deferred header with the lowercase name `l` is in the array, or -1. */
  #find(l: string): number {
    const deferred = this.#deferred;
    if (deferred === undefined) return -1;
    for (let i = 0; i < deferred.length; i += 2) if (deferred[i] === l) return i;
    return -1;
  }

  override setHeader(name: string, value: number | string | readonly string[]): this {
    // A header set now replaces a deferred one of the same name.
    const at = this.#indexOf(name);
    if (at !== -1) this.#deferred!.splice(at, 2);
    this.#progressive = true;
    return super.setHeader(name, value);
  }

  override appendHeader(name: string, value: string | readonly string[]): this {
    this.#settle();
    this.#progressive = true;
    return super.appendHeader(name, value);
  }

  override getHeader(name: string): number | string | string[] | undefined {
    const own = super.getHeader(name);
    if (own !== undefined) return own;
    const at = this.#indexOf(name);
    return at === -1 ? undefined : this.#deferred![at + 1];
  }

  override hasHeader(name: string): boolean {
    return super.hasHeader(name) || this.#indexOf(name) !== -1;
  }

  override removeHeader(name: string): void {
    const at = this.#indexOf(name);
    if (at !== -1) this.#deferred!.splice(at, 2);
    super.removeHeader(name);
  }

  override getHeaders(): OutgoingHttpHeaders {
    this.#settle();
    return super.getHeaders();
  }

  override getHeaderNames(): string[] {
    this.#settle();
    return super.getHeaderNames();
  }

  override writeHead(statusCode: number, statusMessage?: string, headers?: OutgoingHttpHeaders | OutgoingHttpHeader[]): this;
  override writeHead(statusCode: number, headers?: OutgoingHttpHeaders | OutgoingHttpHeader[]): this;
  override writeHead(
    statusCode: number,
    reasonOrHeaders?: string | OutgoingHttpHeaders | OutgoingHttpHeader[],
    maybeHeaders?: OutgoingHttpHeaders | OutgoingHttpHeader[],
  ): this {
    const deferred = this.#deferred;
    const reason = typeof reasonOrHeaders === 'string' ? reasonOrHeaders : undefined;
    const headers = typeof reasonOrHeaders === 'string' ? maybeHeaders : reasonOrHeaders;
    // Headers already set with setHeader, or given as an array: node's progressive path, as before.
    if (deferred === undefined || this.#progressive || Array.isArray(headers)) {
      this.#settle();
      return reason === undefined ? super.writeHead(statusCode, headers) : super.writeHead(statusCode, reason, headers);
    }
    this.#deferred = undefined;
    // A new object: the handler's may be shared (a constant, a cached response).
    const merged: OutgoingHttpHeaders = {};
    const taken: string[] = [];
    if (headers !== undefined) {
      for (const name in headers) {
        merged[name] = headers[name];
        taken.push(lower(name));
      }
    }
    for (let i = 0; i < deferred.length; i += 2) if (!taken.includes(deferred[i]!)) merged[deferred[i]!] = deferred[i + 1];
    return reason === undefined ? super.writeHead(statusCode, merged) : super.writeHead(statusCode, reason, merged);
  }
}
