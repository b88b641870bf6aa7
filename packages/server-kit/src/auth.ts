import { createMiddleware } from 'hono/factory';
import { verifyToken } from '@archbench/contracts/tokens';
import type { TokenClaims } from '@archbench/contracts/tokens';
import { AppError } from '@archbench/domain/errors';
import { routed } from './unrouted';

export type AuthVariables = { auth: TokenClaims };

const challenge = { 'www-authenticate': 'Bearer realm="archbench"' };

const BEARER = /^Bearer\s+/i;
/** Distinct tokens remembered per middleware; a full cache starts over (no per-entry bookkeeping). */
const VERIFIED_CACHE_SIZE = 1024;

/**
 * Requires a valid HS256 bearer token; puts its claims in `c.var.auth`. A request no route takes
 * passes untouched to the not-found handler (`routed`): a method the path does not serve is 405
 * with Allow, an unknown path 404, with a token or without, the same answer for everyone.
 * A client sends the same token with every request until it expires, so a token that verified
 * once is remembered (by its exact text, signature included) and only its expiry is checked
 * again: the HMAC and the two JSON parses are paid once per token, not once per request.
 * @example app.use('/orders/*', authenticate(env.AUTH_SECRET))
 */
export function authenticate(secret: string) {
  const verified = new Map<string, TokenClaims>();
  return createMiddleware<{ Variables: AuthVariables }>(async (c, next) => {
    if (!routed(c)) return next();
    const header = c.req.header('authorization');
    if (!header || !BEARER.test(header)) {
      throw new AppError('unauthorized', 'a bearer token is required (Authorization: Bearer <token>)', { headers: challenge });
    }
    const token = header.replace(BEARER, '').trim();
    let claims = verified.get(token);
    if (claims === undefined || claims.exp <= Date.now() / 1000) {
      const result = verifyToken(token, secret);
      if (!result.ok) {
        verified.delete(token);
        throw new AppError('unauthorized', `invalid token: ${result.reason}`, {
          headers: { 'www-authenticate': 'Bearer realm="archbench", error="invalid_token"' },
        });
      }
      claims = result.claims;
      if (verified.size >= VERIFIED_CACHE_SIZE) verified.clear();
      verified.set(token, claims);
    }
    c.set('auth', claims);
    await next();
  });
}

/** Requires the admin role; use after `authenticate`. A request no route takes passes, as there. */
export function requireAdmin() {
  return createMiddleware<{ Variables: AuthVariables }>(async (c, next) => {
    if (!routed(c)) return next();
    if (c.var.auth.role !== 'admin') throw new AppError('forbidden', 'this endpoint needs the admin role');
    await next();
  });
}
