import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * HS256 JSON Web Tokens as the API expects them: `sub` is the customer id, `role` is
 * `customer` or `admin`, `exp` is required. Implemented on node:crypto because the verify path
 * runs on every request and a synchronous HMAC is the cheapest correct option.
 */
export type Role = 'customer' | 'admin';

export interface TokenClaims {
  sub: string;
  role: Role;
  /** Expiry, seconds since the epoch. */
  exp: number;
  iat?: number;
}

export interface MintTokenOptions {
  sub: string;
  role?: Role;
  /** Lifetime in seconds (default one hour). Negative values mint an already-expired token. */
  expiresInSeconds?: number;
  /** Override the clock, seconds since the epoch. */
  now?: number;
}

/** The development default; servers warn loudly when they run with it. */
export const DEV_AUTH_SECRET = 'archbench-dev-secret-change-me';

const HEADER = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

function base64url(input: string | Buffer): string {
  return Buffer.from(input).toString('base64url');
}

function sign(data: string, secret: string): string {
  return createHmac('sha256', secret).update(data).digest('base64url');
}

/**
 * Mints a signed token.
 * @example mintToken('s3cret', { sub: 'cust-1' }) // 'eyJhbGciOi...'
 */
export function mintToken(secret: string, options: MintTokenOptions): string {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const claims: TokenClaims = {
    sub: options.sub,
    role: options.role ?? 'customer',
    iat: now,
    exp: now + (options.expiresInSeconds ?? 3600),
  };
  const body = `${HEADER}.${base64url(JSON.stringify(claims))}`;
  return `${body}.${sign(body, secret)}`;
}

export type VerifyResult = { ok: true; claims: TokenClaims } | { ok: false; reason: string };

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Verifies signature, algorithm, expiry and claim shapes.
 * @example verifyToken(token, 's3cret') // { ok: true, claims: { sub: 'cust-1', ... } }
 */
export function verifyToken(token: string, secret: string, nowSeconds = Date.now() / 1000): VerifyResult {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'token is not a JWT' };
  const [header, payload, signature] = parts as [string, string, string];
  const expected = Buffer.from(sign(`${header}.${payload}`, secret));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return { ok: false, reason: 'signature does not match' };
  }
  let parsedHeader: unknown;
  let claims: unknown;
  try {
    parsedHeader = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'token is not valid JSON' };
  }
  if ((parsedHeader as { alg?: unknown })?.alg !== 'HS256') return { ok: false, reason: 'algorithm must be HS256' };
  const c = claims as Partial<TokenClaims> | null;
  if (!c || typeof c.sub !== 'string' || c.sub.length === 0 || c.sub.length > 200) {
    return { ok: false, reason: 'sub claim missing' };
  }
  // A lone surrogate (a JSON `\ud800` escape) is no text: it cannot be stored, logged or passed on as UTF-8.
  if (LONE_SURROGATE.test(c.sub)) {
    return { ok: false, reason: 'sub claim is not well-formed text' };
  }
  if (c.role !== 'customer' && c.role !== 'admin') return { ok: false, reason: 'role claim must be customer or admin' };
  if (typeof c.exp !== 'number') return { ok: false, reason: 'exp claim missing' };
  if (c.exp <= nowSeconds) return { ok: false, reason: 'token expired' };
  return { ok: true, claims: { sub: c.sub, role: c.role, exp: c.exp, iat: c.iat } };
}
