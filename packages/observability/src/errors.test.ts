import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { classifyError, toProblem } from './errors';
import { AppError, DependencyError } from '@archbench/domain/errors';
import { observe } from './hono';
import { createLogger } from './logging';
import { createMetrics } from './metrics';
import { captureLogs } from './test-support';

function setup(checks?: Record<string, () => Promise<boolean> | boolean>) {
  const logs = captureLogs();
  const metrics = createMetrics({ service: 'err', defaultMetrics: false });
  const app = new Hono();
  observe(app, { service: 'err', logger: createLogger({ service: 'err', destination: logs.destination }), metrics, health: { checks, timeoutMs: 200 } });
  app.get('/stock', () => {
    throw new AppError('insufficient-stock', 'only 2 left of SKU-0001');
  });
  app.get('/bug', () => {
    throw new TypeError('cannot read properties of undefined (secret internals)', { cause: new Error('root cause here') });
  });
  app.get('/provider', () => {
    throw new DependencyError('payments', 'payment provider answered 503', { cause: new Error('socket hang up') });
  });
  app.get('/busy', () => {
    throw new AppError('overloaded', 'too busy', { headers: { 'retry-after': '1' } });
  });
  const count = async (kind: string, code: string) =>
    (await metrics.errorsTotal.get()).values.find((v) => v.labels.kind === kind && v.labels.code === code)?.value ?? 0;
  return { app, logs, count };
}

describe('error classification → problem+json + counter', () => {
  it('answers a typed client error with its status and code, counted, not logged', async () => {
    const { app, logs, count } = setup();
    const res = await app.request('/stock');
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toEqual({
      type: 'https://archbench.dev/problems/insufficient-stock',
      title: 'Insufficient stock',
      status: 409,
      detail: 'only 2 left of SKU-0001',
      code: 'insufficient-stock',
      instance: '/stock',
    });
    expect(await count('client', 'insufficient-stock')).toBe(1);
    expect(logs.lines().filter((l) => (l.level as number) >= 40)).toHaveLength(0);
  });

  it('answers an unknown error with a generic 500 and logs it with its cause', async () => {
    const { app, logs, count } = setup();
    const res = await app.request('/bug');
    expect(res.status).toBe(500);
    const body = await res.text();
    expect(body).not.toContain('secret internals');
    expect(JSON.parse(body)).toMatchObject({ status: 500, code: 'internal-error' });
    expect(await count('server', 'internal-error')).toBe(1);
    const line = logs.lines().find((l) => l.msg === 'request failed')!;
    expect(line.level).toBe(50);
    expect(line).toMatchObject({ kind: 'server', code: 'internal-error', method: 'GET', path: '/bug' });
    const err = line.err as { message: string; stack: string; cause?: { message: string } };
    expect(err.message).toContain('secret internals');
    expect(JSON.stringify(err)).toContain('root cause here');
  });

  it('answers a dependency failure with 502, counted as dependency and logged', async () => {
    const { app, logs, count } = setup();
    const res = await app.request('/provider');
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ code: 'dependency-failed', detail: 'payment provider answered 503' });
    expect(await count('dependency', 'dependency-failed')).toBe(1);
    const line = logs.lines().find((l) => l.msg === 'dependency failed')!;
    expect(JSON.stringify(line.err)).toContain('socket hang up');
  });

  it('keeps extra headers (Retry-After) and does not log load shedding as an error', async () => {
    const { app, logs, count } = setup();
    const res = await app.request('/busy');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await count('server', 'overloaded')).toBe(1);
    expect(logs.lines().filter((l) => (l.level as number) >= 40)).toHaveLength(0);
  });

  it('answers unknown routes with a 404 problem, counted', async () => {
    const { app, count } = setup();
    const res = await app.request('/nope', { method: 'DELETE' });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 'not-found', detail: 'no route for DELETE /nope' });
    expect(await count('client', 'not-found')).toBe(1);
  });

  it('classifies without throwing on odd values', () => {
    expect(classifyError('a string')).toEqual({ kind: 'server', code: 'internal-error', status: 500 });
    expect(classifyError(new DependencyError('x', 'y'))).toEqual({ kind: 'dependency', code: 'dependency-failed', status: 502 });
    expect(toProblem(undefined).status).toBe(500);
  });
});

describe('health and readiness', () => {
  it('/health answers while /ready reflects the checks', async () => {
    const { app } = setup({ database: () => true, broker: async () => true });
    expect(await (await app.request('/health')).json()).toEqual({ status: 'ok', service: 'err' });
    const ready = await app.request('/ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok', service: 'err', checks: { database: 'ok', broker: 'ok' } });
  });

  it('/ready is a 503 problem naming failing, throwing and hanging checks', async () => {
    const { app } = setup({
      database: () => false,
      broker: async () => {
        throw new Error('connection refused');
      },
      cache: () => new Promise<boolean>(() => {}),
      fine: () => true,
    });
    const res = await app.request('/ready');
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const body = (await res.json()) as { code: string; detail: string; errors: Array<{ path: string; message: string }> };
    expect(body.code).toBe('not-ready');
    expect(body.detail).toBe('not ready: database failed, broker failed, cache timeout');
    expect(body.errors.map((e) => e.path)).toEqual(['database', 'broker', 'cache']);
  });
});
