// Internal: request and response headers without the Fetch API's Headers object where the server allows it.
import type { Context } from 'hono';

interface NodeResponseLike {
  setHeader(name: string, value: string): unknown;
  /** DeferredHeadersResponse (node-response.ts): the header joins the handler's in writeHead. */
  deferHeader?(name: string, value: string): void;
  readonly headersSent: boolean;
}

/** The node:http response behind a request served by @hono/node-server (its `c.env.outgoing`), if any. */
function nodeResponse(c: Context): NodeResponseLike | undefined {
  const outgoing = (c.env as { outgoing?: Partial<NodeResponseLike> } | undefined)?.outgoing;
  return outgoing !== undefined && typeof outgoing.setHeader === 'function' && outgoing.headersSent === false ? (outgoing as NodeResponseLike) : undefined;
}

function setOn(res: NodeResponseLike, name: string, value: string): void {
  if (res.deferHeader !== undefined) res.deferHeader(name, value);
  else res.setHeader(name, value);
}

/**
 * Sets a response header before the handler answers. On @hono/node-server it goes straight onto
 * the node:http response, which merges it into the answer (the handler's own headers win on a
 * clash, as with `c.header`): Hono's `c.header` would build a Fetch `Headers` object for the
 * answer, about a microsecond per header plus a slower write path for the whole response. On a
 * DeferredHeadersResponse (what serveWithShutdown serves with) the header waits and is written
 * with the handler's in one writeHead, which also spares node's per-header validation and merge.
 * Elsewhere (`app.request()` in tests, workerd) it is `c.header`.
 * @example setResponseHeader(c, 'x-request-id', requestId)
 */
export function setResponseHeader(c: Context, name: string, value: string): void {
  const res = nodeResponse(c);
  if (res !== undefined) setOn(res, name, value);
  else c.header(name, value);
}

/** Sets several response headers at once (see setResponseHeader). */
export function setResponseHeaders(c: Context, headers: ReadonlyArray<readonly [string, string]>): void {
  const res = nodeResponse(c);
  for (const [name, value] of headers) {
    if (res !== undefined) setOn(res, name, value);
    else c.header(name, value);
  }
}

/**
 * A request header by its lowercase name, as `c.req.header(name)` gives it (repeated fields joined
 * with ", "). On @hono/node-server it is read from node's `rawHeaders` array, without the
 * adapter's Headers wrapper and its name normalisation (a lowercase copy of the name per call);
 * elsewhere (`app.request()` in tests, workerd) it is `c.req.header`.
 * @example const id = requestHeader(c, 'x-request-id')
 */
export function requestHeader(c: Context, name: string): string | undefined {
  const raw = (c.env as { incoming?: { rawHeaders?: unknown } } | undefined)?.incoming?.rawHeaders;
  if (!Array.isArray(raw)) return c.req.header(name);
  let value: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const key = raw[i] as string;
    if (key.length === name.length && (key === name || key.toLowerCase() === name)) {
      value = value === undefined ? (raw[i + 1] as string) : `${value}, ${raw[i + 1] as string}`;
    }
  }
  return value;
}
