import { Hono } from 'hono';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { DEV_AUTH_SECRET, mintToken, verifyToken } from '@archbench/contracts/tokens';
import { toProblem } from '@archbench/observability/errors';
import { AppError } from '@archbench/domain/errors';
import { authenticate, requireAdmin } from './auth';
import type { AuthVariables } from './auth';
import { ConfigError, baseEnvSchema, parseEnv } from './env';
import { publicEdge } from './edge';
import { readJson } from './http';
import { runTokenCli } from './token-cli';

const secret = 'a-test-secret-of-enough-length';

function appWith(setup: (app: Hono<{ Variables: AuthVariables }>) => void) {
  const app = new Hono<{ Variables: AuthVariables }>();
  app.onError((error, c) => {
    const p = toProblem(error);
    return c.body(JSON.stringify(p.body), p.status as 400, p.headers);
  });
  setup(app);
  return app;
}

describe('env', () => {
  it('applies defaults that need nothing but Node.js', () => {
    const env = parseEnv(baseEnvSchema, {});
    expect(env).toMatchObject({ PORT: 3000, DATA_DIR: 'data', LOG_LEVEL: 'info', AUTH_SECRET: DEV_AUTH_SECRET });
    expect(env.DATABASE_URL).toBeUndefined();
  });

  it('names every bad variable', () => {
    expect(() => parseEnv(baseEnvSchema, { PORT: 'eighty', LOG_LEVEL: 'loud' })).toThrow(/PORT[\s\S]*LOG_LEVEL|LOG_LEVEL[\s\S]*PORT/);
  });

  it('refuses the development secret in production', () => {
    expect(() => parseEnv(baseEnvSchema, { NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(parseEnv(baseEnvSchema, { NODE_ENV: 'production', AUTH_SECRET: secret }).AUTH_SECRET).toBe(secret);
  });
});

describe('authenticate', () => {
  const app = appWith((a) => {
    a.use('/admin/*', authenticate(secret), requireAdmin());
    a.use('/me', authenticate(secret));
    a.get('/me', (c) => c.json(c.var.auth));
    a.get('/admin/x', (c) => c.text('ok'));
  });

  it('accepts a valid token and exposes its claims', async () => {
    const res = await app.request('/me', { headers: { authorization: `Bearer ${mintToken(secret, { sub: 'alice' })}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ sub: 'alice', role: 'customer' });
  });

  it.each([
    ['no header', undefined],
    ['not bearer', 'Basic abc'],
    ['forged', `Bearer ${mintToken('another-secret-entirely', { sub: 'alice' })}`],
    ['expired', `Bearer ${mintToken(secret, { sub: 'alice', expiresInSeconds: -10 })}`],
    ['garbage', 'Bearer a.b.c'],
    ['a subject with a lone surrogate', `Bearer ${mintToken(secret, { sub: 'alice\ud800' })}`],
  ])('rejects %s with 401 problem+json', async (_name, header) => {
    const res = await app.request('/me', { headers: header ? { authorization: header } : {} });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('refuses a remembered token once it expired, and a forged one that differs only in its signature', async () => {
    const token = mintToken(secret, { sub: 'bob', expiresInSeconds: 60 });
    const me = (t: string) => app.request('/me', { headers: { authorization: `Bearer ${t}` } });
    expect((await me(token)).status).toBe(200);
    expect((await me(token)).status).toBe(200);
    const forged = `${token.slice(0, token.lastIndexOf('.') + 1)}${'A'.repeat(43)}`;
    expect((await me(forged)).status).toBe(401);
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 61_000 });
    try {
      const expired = await me(token);
      expect(expired.status).toBe(401);
      expect(((await expired.json()) as { detail: string }).detail).toMatch(/expired/);
    } finally {
      vi.useRealTimers();
    }
  });

  it('forbids customers on admin routes', async () => {
    const customer = await app.request('/admin/x', { headers: { authorization: `Bearer ${mintToken(secret, { sub: 'c' })}` } });
    expect(customer.status).toBe(403);
    const admin = await app.request('/admin/x', { headers: { authorization: `Bearer ${mintToken(secret, { sub: 'ops', role: 'admin' })}` } });
    expect(admin.status).toBe(200);
  });
});

describe('readJson', () => {
  const app = appWith((a) => a.post('/', async (c) => c.json(await readJson(c, z.strictObject({ n: z.number().int() })))));
  const post = (body: string, type = 'application/json') => app.request('/', { method: 'POST', body, headers: { 'content-type': type } });

  it('parses and validates', async () => {
    expect(await (await post('{"n":1}')).json()).toEqual({ n: 1 });
  });

  it('maps each kind of bad input to its problem', async () => {
    expect((await post('{"n":1}', 'text/plain')).status).toBe(415);
    expect((await post('{"n":')).status).toBe(400);
    expect((await post('['.repeat(20_000))).status).toBe(400);
    const deep = await post('['.repeat(10_000) + ']'.repeat(10_000));
    expect([400, 422]).toContain(deep.status);
    const invalid = await post('{"n":1.5}');
    expect(invalid.status).toBe(422);
    expect(((await invalid.json()) as { errors: Array<{ path: string }> }).errors[0]?.path).toBe('n');
    expect((await post(JSON.stringify({ n: 1, pad: 'x'.repeat(70_000) }))).status).toBe(413);
  });
});

describe('publicEdge: overload guard', () => {
  it('sheds requests past the bound with 503 and Retry-After, and exempts health', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const app = appWith((a) => {
      a.use(publicEdge({ maxInFlight: 2, retryAfterSeconds: 3 }));
      a.get('/slow', async (c) => {
        await gate;
        return c.text('ok');
      });
      a.get('/health', (c) => c.text('ok'));
    });
    const inFlight = [Promise.resolve(app.request('/slow')), Promise.resolve(app.request('/slow'))];
    await new Promise((r) => setTimeout(r, 10));
    const shed = await app.request('/slow');
    expect(shed.status).toBe(503);
    expect(shed.headers.get('retry-after')).toBe('3');
    expect((await app.request('/health')).status).toBe(200);
    release();
    expect((await Promise.all(inFlight)).map((r) => r.status)).toEqual([200, 200]);
    expect((await app.request('/slow')).status).toBe(200);
  });
});

describe('openDatabase on PostgreSQL', () => {
  it('survives idle connections being terminated by the server, and keeps answering', async () => {
    const { postgresReachable, shouldSkip, createTestDatabase } = await import('./testing');
    if (await shouldSkip('PostgreSQL', postgresReachable)) return;
    const { openDatabase, ping } = await import('./db');
    const { sql } = await import('kysely');
    const test = await createTestDatabase('archbench_serverkit');
    const lost: Error[] = [];
    const database = openDatabase({ databaseUrl: test.url, dataDir: '.', fileName: 'unused', onIdleClientError: (e) => lost.push(e) });
    try {
      expect(await ping(database.db)).toBe(true);
      // Another session kills our idle backend, as a database restart would.
      const pg = (await import('pg')).default;
      const admin = new pg.Client({ connectionString: test.url });
      await admin.connect();
      await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()');
      await admin.end();
      for (let i = 0; i < 50 && lost.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(lost.length).toBeGreaterThan(0);
      const result = await sql<{ one: number }>`select 1 as one`.execute(database.db);
      expect(result.rows[0]?.one).toBe(1);
    } finally {
      await database.close();
      await test.drop();
    }
  });
});

describe('runTokenCli', () => {
  const run = (args: string[], loadSecret: () => string = () => secret) => {
    const io = { stdout: '', stderr: '' };
    const code = runTokenCli(args, loadSecret, { out: (t) => (io.stdout += t), err: (t) => (io.stderr += t) });
    return { code, ...io };
  };

  it('mints a token the server accepts, with the role and lifetime asked for', () => {
    const { code, stdout } = run(['--sub', 'ops', '--role', 'admin', '--ttl', '60']);
    expect(code).toBe(0);
    const verified = verifyToken(stdout.trim(), secret);
    expect(verified).toMatchObject({ ok: true, claims: { sub: 'ops', role: 'admin' } });
    if (verified.ok) expect(verified.claims.exp - Date.now() / 1000).toBeLessThanOrEqual(60);
  });

  it.each([
    [['--role', 'root'], /--role must be customer or admin/],
    [['--ttl', '0'], /--ttl must be a positive whole number/],
    [['--colour', 'blue'], /Unknown option '--colour'[\s\S]*usage:/],
  ])('exits 2 with a message for %j and prints no token', (args, message) => {
    const { code, stdout, stderr } = run(args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
  });

  it('exits 2 naming the bad environment', () => {
    const { code, stderr } = run([], () => parseEnv(baseEnvSchema, { NODE_ENV: 'production' }).AUTH_SECRET);
    expect(code).toBe(2);
    expect(stderr).toMatch(/AUTH_SECRET is the development default/);
  });
});

describe('publicEdge: security headers', () => {
  it('puts the API header set on answers and on problem responses alike', async () => {
    const app = appWith((a) => {
      a.use(publicEdge({ maxInFlight: 100 }));
      a.get('/ok', (c) => c.json({ ok: true }));
      a.get('/boom', () => {
        throw new AppError('not-found', 'nothing here');
      });
    });
    for (const path of ['/ok', '/boom']) {
      const res = await app.request(path);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    }
  });
});
