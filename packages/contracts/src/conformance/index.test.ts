import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECK_NAMES, UnknownCheckError, conformanceChecks, runConformance } from './index';
import { listen, wrongApp } from './fixtures/wrong-server';
import type { RunningServer } from './fixtures/wrong-server';

const authSecret = 'a-test-secret-of-some-length';

describe('conformanceChecks', () => {
  it('lists every check once, in a stable order, with short names', () => {
    expect(new Set(CHECK_NAMES).size).toBe(CHECK_NAMES.length);
    expect(CHECK_NAMES.length).toBeGreaterThan(40);
    for (const name of CHECK_NAMES) expect(name).toMatch(/^[a-z][a-z0-9-]*(\.[a-z0-9-]+)?$/);
    expect(conformanceChecks({ baseUrl: 'http://127.0.0.1:9', authSecret }).map((c) => c.name)).toEqual(CHECK_NAMES);
  });

  it('filters by exact name and by group prefix', () => {
    const names = conformanceChecks({ baseUrl: 'http://127.0.0.1:9', authSecret, only: ['health', 'cancel'] }).map((c) => c.name);
    expect(names).toEqual(['health', 'cancel.confirmed', 'cancel.twice', 'cancel.concurrent', 'cancel.rejected', 'cancel.pending']);
  });

  it('refuses unknown check names and says which', () => {
    expect(() => conformanceChecks({ baseUrl: 'http://127.0.0.1:9', authSecret, only: ['health', 'helth'] })).toThrow(UnknownCheckError);
    expect(() => conformanceChecks({ baseUrl: 'http://127.0.0.1:9', authSecret, only: ['helth'] })).toThrow(/unknown check\(s\): helth/);
  });
});

describe('runConformance against a deliberately wrong server', () => {
  let server: RunningServer;
  const lines: string[] = [];
  let report: Awaited<ReturnType<typeof runConformance>>;

  beforeAll(async () => {
    server = await listen(wrongApp());
    report = await runConformance({
      baseUrl: server.baseUrl,
      authSecret,
      log: (line) => lines.push(line),
      only: [
        'health',
        'openapi',
        'products.paging',
        'products.unknown-sku',
        'products.bad-limit',
        'auth.missing',
        'bad-input.malformed-json',
        'methods.not-allowed',
      ],
    });
  });
  afterAll(async () => {
    await server.close();
  });

  const result = (name: string) => {
    const found = report.checks.find((c) => c.name === name);
    if (!found) throw new Error(`no result for ${name}`);
    return found;
  };

  it('fails the run but passes what the server does right', () => {
    expect(report.passed).toBe(false);
    expect(result('health')).toMatchObject({ passed: true });
    expect(result('health').error).toBeUndefined();
    expect(report.checks.map((c) => c.name)).toHaveLength(8);
    for (const c of report.checks) expect(c.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('names the OpenAPI version problem', () => {
    expect(result('openapi')).toMatchObject({ passed: false });
    expect(result('openapi').error).toMatch(/"openapi" must be 3\.1\.x, is "3\.0\.3"/);
  });

  it('catches overlapping pages as duplicates', () => {
    expect(result('products.paging').error).toMatch(/paging \/products returned duplicates: SKU-0099/);
  });

  it('reports a 500 where a 404 problem is due, with the body', () => {
    expect(result('products.unknown-sku').error).toBe('GET /products/SKU-9999: expected a 404 problem, got 500: Internal Server Error');
  });

  it('insists on application/problem+json for errors', () => {
    expect(result('products.bad-limit').error).toMatch(
      /GET \/products\?limit=0: a 400 must be application\/problem\+json, got Content-Type "application\/json"/,
    );
  });

  it('insists on 405 with Allow, not 404, for a method a path does not serve', () => {
    expect(result('methods.not-allowed').error).toBe('POST /health: expected a 405 problem, got 404: 404 Not Found');
  });

  it('catches a missing auth check', () => {
    expect(result('auth.missing').error).toMatch(/^GET \/orders: expected a 401 problem, got 200/);
  });

  it('catches a stack trace leaked in a problem body', () => {
    expect(result('bad-input.malformed-json').error).toMatch(
      /POST \/orders: the 400 body leaks (a stack frame|a server file path|a source file location|a node_modules path)/,
    );
  });

  it('logs one ✓/✗ line per check with its time, and the reason under a failure', () => {
    expect(lines).toContainEqual(expect.stringMatching(/^✓ health \(\d+ ms\)$/));
    const failed = lines.findIndex((l) => /^✗ products\.unknown-sku \(\d+ ms\)$/.test(l));
    expect(failed).toBeGreaterThanOrEqual(0);
    expect(lines[failed + 1]).toMatch(/^ {4}GET \/products\/SKU-9999: expected a 404 problem/);
  });
});
