// Internal: response headers without the Fetch API's Headers object where the server allows it.
import type { Context } from 'hono';

interface NodeResponseLike {
  setHeader(name: string, value: string): unknown;
  readonly headersSent: boolean;
}

/** The node:http response behind a request served by @hono/node-server (its `c.env.outgoing`), if any. */
function nodeResponse(c: Context): NodeResponseLike | undefined {
  const outgoing = (c.env as { outgoing?: Partial<NodeResponseLike> } | undefined)?.outgoing;
  return outgoing !== undefined && typeof outgoing.setHeader === 'function' && outgoing.headersSent === false ? (outgoing as NodeResponseLike) : undefined;
}

/**
 * Sets a response header before the handler answers. On @hono/node-server it goes straight onto
 * the node:http response, which merges it into the answer (the handler's own headers win on a
 * clash, as with `c.header`): Hono's `c.header` would build a Fetch `Headers` object for the
 * answer, about a microsecond per header plus a slower write path for the whole response.
 * Elsewhere (`app.request()` in tests, workerd) it is `c.header`.
 * @example setResponseHeader(c, 'x-request-id', requestId)
 */
export function setResponseHeader(c: Context, name: string, value: string): void {
  const res = nodeResponse(c);
  if (res !== undefined) res.setHeader(name, value);
  else c.header(name, value);
}

/** Sets several response headers at once (see setResponseHeader). */
export function setResponseHeaders(c: Context, headers: ReadonlyArray<readonly [string, string]>): void {
  const res = nodeResponse(c);
  for (const [name, value] of headers) {
    if (res !== undefined) res.setHeader(name, value);
    else c.header(name, value);
  }
}
