import { createMiddleware } from 'hono/factory';
import { verifyToken } from '@archbench/contracts/tokens';
import type { TokenClaims } from '@archbench/contracts/tokens';
import { AppError } from '@archbench/observability/errors';

export type AuthVariables = { auth: TokenClaims };

const challenge = { 'www-authenticate': 'Bearer realm="archbench"' };

/**
 * Requires a valid HS256 bearer token; puts its claims in `c.var.auth`.
 * @example app.use('/orders/*', authenticate(env.AUTH_SECRET))
 */
export function authenticate(secret: string) {
  return createMiddleware<{ Variables: AuthVariables }>(async (c, next) => {
    const header = c.req.header('authorization');
    if (!header || !/^Bearer\s+/i.test(header)) {
      throw new AppError('unauthorized', 'a bearer token is required (Authorization: Bearer <token>)', { headers: challenge });
    }
    const result = verifyToken(header.replace(/^Bearer\s+/i, '').trim(), secret);
    if (!result.ok) {
      throw new AppError('unauthorized', `invalid token: ${result.reason}`, {
        headers: { 'www-authenticate': 'Bearer realm="archbench", error="invalid_token"' },
      });
    }
    c.set('auth', result.claims);
    await next();
  });
}

/** Requires the admin role; use after `authenticate`. */
export function requireAdmin() {
  return createMiddleware<{ Variables: AuthVariables }>(async (c, next) => {
    if (c.var.auth.role !== 'admin') throw new AppError('forbidden', 'this endpoint needs the admin role');
    await next();
  });
}
