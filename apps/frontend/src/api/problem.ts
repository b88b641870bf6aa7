import type { RejectionReason } from '@archbench/contracts/schemas';

/** A problem+json body (RFC 9457) as the app shows it; `errors` are per-field messages. */
export interface ProblemInfo {
  title: string;
  detail: string;
  status: number;
  code: string;
  errors?: { path: string; message: string }[];
  /** The answer's Retry-After in seconds (delta-seconds or an HTTP date), when it sent one. */
  retryAfterSeconds?: number;
}

/**
 * An HTTP call that failed, carrying the problem to show the user.
 * @example try { await api.placeOrder(body) } catch (e) { if (e instanceof ApiError) show(e.problem) }
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(readonly problem: ProblemInfo) {
    super(`${problem.title}: ${problem.detail}`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads an error response into a ProblemInfo, whatever the server sent: problem+json, other
 * JSON or plain text (a proxy's HTML error page, say) all become a readable message.
 * @example const problem = await readProblem(await fetch('/api/monolith/orders/nope'))
 */
export async function readProblem(response: Response): Promise<ProblemInfo> {
  const retryAfterSeconds = readRetryAfter(response.headers.get('retry-after'));
  const retry = retryAfterSeconds === undefined ? {} : { retryAfterSeconds };
  const text = await response.text().catch(() => '');
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (isRecord(body) && typeof body.title === 'string') {
    const errors = Array.isArray(body.errors)
      ? body.errors.filter(isRecord).map((e) => ({ path: String(e.path ?? ''), message: String(e.message ?? '') }))
      : undefined;
    return {
      title: body.title,
      detail: typeof body.detail === 'string' ? body.detail : '',
      status: typeof body.status === 'number' ? body.status : response.status,
      code: typeof body.code === 'string' ? body.code : `http-${response.status}`,
      ...(errors && errors.length > 0 ? { errors } : {}),
      ...retry,
    };
  }
  const snippet = text
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 200);
  return {
    title: `Request failed (HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''})`,
    detail: snippet || 'the server sent no explanation',
    status: response.status,
    code: `http-${response.status}`,
    ...retry,
  };
}

/**
 * A Retry-After header (RFC 9110: delta-seconds or an HTTP date) as seconds from now; undefined
 * when missing or unreadable.
 * @example readRetryAfter('2') // 2
 */
export function readRetryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - Date.now()) / 1000);
}

/** The problem shown when the request never reached a server. */
export function networkProblem(error: unknown): ProblemInfo {
  return {
    title: 'Could not reach the server',
    detail: `the request failed before any answer came back (${error instanceof Error ? error.message : String(error)}); check that the console's server is running`,
    status: 0,
    code: 'network-error',
  };
}

const REJECTION_MESSAGES: Record<RejectionReason, string> = {
  payment_declined: 'Payment declined by the card issuer. Nothing was charged; try another card.',
  payment_provider_error: 'The payment provider failed (an error on its side, not yours). Nothing was charged; try again later.',
  payment_provider_unavailable: 'The payment provider could not be reached. Nothing was charged; try again later.',
};

/**
 * A rejected order's reason as a sentence for the customer.
 * @example rejectionMessage('payment_declined') // 'Payment declined by the card issuer. ...'
 */
export function rejectionMessage(reason: string | null): string {
  if (reason === null) return 'The order was rejected.';
  return REJECTION_MESSAGES[reason as RejectionReason] ?? `The order was rejected (${reason}).`;
}
