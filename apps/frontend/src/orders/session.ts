/** The signed-in demo customer; kept in sessionStorage so a reload keeps the session. */
export interface Session {
  customerId: string;
  token: string;
  expiresAt: string;
}

const KEY = 'archbench.session';

export function loadSession(storage: Storage | undefined = globalThis.sessionStorage): Session | null {
  try {
    const raw = storage?.getItem(KEY);
    if (!raw) return null;
    const session = JSON.parse(raw) as Partial<Session>;
    if (typeof session.token !== 'string' || typeof session.customerId !== 'string' || typeof session.expiresAt !== 'string') return null;
    if (Date.parse(session.expiresAt) <= Date.now()) return null;
    return session as Session;
  } catch {
    return null;
  }
}

export function saveSession(session: Session | null, storage: Storage | undefined = globalThis.sessionStorage): void {
  if (!storage) return;
  if (session) storage.setItem(KEY, JSON.stringify(session));
  else storage.removeItem(KEY);
}

/**
 * Reads the subject and expiry of a pasted token without verifying it (the API verifies).
 * @example sessionFromToken('eyJ...') // { customerId: 'alice', token: 'eyJ...', expiresAt: '...' }
 */
export function sessionFromToken(token: string): Session | null {
  const payload = token.trim().split('.')[1];
  if (!payload) return null;
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const claims = JSON.parse(json) as { sub?: unknown; exp?: unknown };
    if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number') return null;
    return { customerId: claims.sub, token: token.trim(), expiresAt: new Date(claims.exp * 1000).toISOString() };
  } catch {
    return null;
  }
}
