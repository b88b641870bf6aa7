import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { CompiledQuery, sql } from 'kysely';
import type { Kysely, KyselyPlugin } from 'kysely';
import pg from 'pg';
import { mintToken } from '@archbench/contracts/tokens';

/**
 * Test helpers for real servers. Tests that need PostgreSQL or RabbitMQ skip with a clear
 * message when the server is unreachable, unless ARCHBENCH_REQUIRE_SERVICES=1 (CI), where an
 * unreachable server fails the run instead.
 */
// Tests are the one place besides env.ts that read the environment: they configure themselves.
// eslint-disable-next-line no-restricted-properties -- test-only module, imported by tests alone
const env = process.env;

export const PG_ADMIN_URL = env.PG_TEST_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const AMQP_TEST_URL = env.AMQP_TEST_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
export const servicesRequired = env.ARCHBENCH_REQUIRE_SERVICES === '1';

export async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

/**
 * Decides whether a suite that needs a server runs. Returns true to skip (and says why), throws
 * when services are required but unreachable.
 */
export async function shouldSkip(name: string, reachable: () => Promise<boolean>): Promise<boolean> {
  if (await reachable()) return false;
  const message = `${name} is unreachable; set ARCHBENCH_REQUIRE_SERVICES=1 to make this a failure`;
  if (servicesRequired) throw new Error(`${name} is required (ARCHBENCH_REQUIRE_SERVICES=1) but unreachable`);
  process.stderr.write(`SKIP: ${message}\n`);
  return true;
}

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Creates a fresh, uniquely named PostgreSQL database; `drop()` removes it. */
export async function createTestDatabase(prefix = 'archbench'): Promise<TestDatabase> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`drop database if exists "${name}" with (force)`);
      await c.end();
    },
  };
}

/** Whether RabbitMQ (AMQP_TEST_URL) accepts a TCP connection. */
export function amqpReachable(): Promise<boolean> {
  const url = new URL(AMQP_TEST_URL);
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname, port: Number(url.port || 5672), timeout: 2000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** The servers a topology suite runs on. */
export interface ServicesNeeded {
  database?: 'sqlite' | 'postgres';
  transport?: 'http' | 'amqp';
}

/** True (after saying why) when the suite needs PostgreSQL or RabbitMQ and it is not there; see `shouldSkip`. */
export async function skipUnlessReachable(setup: ServicesNeeded): Promise<boolean> {
  if (setup.database === 'postgres' && (await shouldSkip('PostgreSQL', postgresReachable))) return true;
  if (setup.transport === 'amqp' && (await shouldSkip('RabbitMQ', amqpReachable))) return true;
  return false;
}

/** Drops PostgreSQL databases a test's processes created (e.g. the per-service `<name>_<service>`). */
export async function dropDatabases(names: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    for (const name of names) await client.query(`drop database if exists "${name}" with (force)`);
  } finally {
    await client.end();
  }
}

/** Token minters for a topology started with `secret`: a fresh customer each call, or the admin. */
export function testTokens(secret: string) {
  return {
    customerToken: (sub = `c-${randomBytes(4).toString('hex')}`) => mintToken(secret, { sub }),
    adminToken: () => mintToken(secret, { sub: 'ops', role: 'admin' }),
  };
}

export interface ApiOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Sent as the JSON body. */
  json?: unknown;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/**
 * A JSON call as a client makes it; returns status, headers and the parsed body.
 * @example const { status, body } = await api<Order>(baseUrl, 'POST', '/orders', { token, json })
 */
export async function api<T = unknown>(base: string, method: string, path: string, options: ApiOptions = {}) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.json !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    body: options.json === undefined ? undefined : JSON.stringify(options.json),
    signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as T };
}

/** A span as an OTLP/HTTP exporter sent it, with the `service.name` of its process. */
export interface ExportedSpan {
  service: string;
  name: string;
  traceId: string;
}

interface OtlpExport {
  resourceSpans?: Array<{
    resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> };
    scopeSpans: Array<{ spans: Array<{ name: string; traceId: string }> }>;
  }>;
}

/**
 * A minimal OTLP/HTTP (JSON) receiver that every process of a topology can export to
 * (OTEL_EXPORTER_OTLP_ENDPOINT = what `listen()` returns); `spans` grows as exports arrive.
 */
export function otlpReceiver() {
  const spans: ExportedSpan[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as OtlpExport;
      for (const resource of body.resourceSpans ?? []) {
        const service = resource.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '?';
        for (const scope of resource.scopeSpans) for (const span of scope.spans) spans.push({ service, name: span.name, traceId: span.traceId });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return {
    spans,
    async listen(): Promise<string> {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type OtlpReceiver = ReturnType<typeof otlpReceiver>;

/** True when the shipping service wrote the shipment inside this trace. */
export const shipmentWritten = (trace: ExportedSpan[]) => trace.some((s) => s.service === 'shipping' && /insert.*shipments/i.test(s.name));

/**
 * Places a paid order (`Prefer: wait=10`), reads its shipment, then waits until the trace that
 * `root`'s `POST /orders` server span started satisfies `complete` (default: the shipment was
 * written in it), or `timeoutMs` passed. Returns the order, the shipment's status and that trace
 * (empty when the POST's span never arrived), for the caller to assert on.
 * @example const { order, trace } = await traceOfOrder(receiver, { baseUrl, token, root: 'gateway' })
 */
export async function traceOfOrder(
  receiver: OtlpReceiver,
  options: { baseUrl: string; token: string; root: string; complete?: (trace: ExportedSpan[]) => boolean; timeoutMs?: number },
) {
  const placed = await api<{ id: string; status: string }>(options.baseUrl, 'POST', '/orders', {
    token: options.token,
    headers: { prefer: 'wait=10' },
    json: { items: [{ sku: 'SKU-0042', quantity: 1 }], payment: { token: 'tok_ok' } },
  });
  const shipment = await api(options.baseUrl, 'GET', `/orders/${placed.body.id}/shipment`, { token: options.token });
  const complete = options.complete ?? shipmentWritten;
  let trace: ExportedSpan[] = [];
  for (const deadline = Date.now() + (options.timeoutMs ?? 15_000); Date.now() < deadline; await sleep(250)) {
    const post = receiver.spans.find((s) => s.service === options.root && s.name === 'POST /orders');
    trace = post ? receiver.spans.filter((s) => s.traceId === post.traceId) : [];
    if (complete(trace)) break;
  }
  return { status: placed.status, order: placed.body, shipmentStatus: shipment.status, trace };
}

const BUNDLER_TSCONFIG = '{"compilerOptions":{"module":"Preserve","moduleResolution":"Bundler"}}';
const execFileAsync = promisify(execFile);

/** A dependency a rule of `.dependency-cruiser.cjs` forbids, paths relative to the cruised root. */
export interface DependencyViolation {
  rule: string;
  from: string;
  to: string;
}

/**
 * Runs dependency-cruiser with an app's own `.dependency-cruiser.cjs` over `src` of the app itself
 * or, given `tree` (path → content), of a throwaway tree written to a temp dir (removed after),
 * and returns the violations: how a boundary test proves its rules hold and catch a violation.
 * Without `tsconfig.json` in `tree`, a minimal bundler-resolution one is added.
 * @example expect(await dependencyViolations(appRoot, { 'src/a/x.ts': "import '../b/y';\n" })).toEqual([{ rule, from, to }])
 */
export async function dependencyViolations(appRoot: string, tree?: Record<string, string>): Promise<DependencyViolation[]> {
  const cwd = tree ? mkdtempSync(join(tmpdir(), 'archbench-depcruise-')) : appRoot;
  try {
    for (const [path, content] of Object.entries(tree ? { 'tsconfig.json': BUNDLER_TSCONFIG, ...tree } : {})) {
      mkdirSync(dirname(join(cwd, path)), { recursive: true });
      writeFileSync(join(cwd, path), content);
    }
    const bin = join(appRoot, 'node_modules', '.bin', 'depcruise');
    const config = join(appRoot, '.dependency-cruiser.cjs');
    // The JSON report of a whole app runs to megabytes.
    const { stdout } = await execFileAsync(bin, ['src', '--config', config, '--output-type', 'json'], { cwd, maxBuffer: 256 * 1024 * 1024 });
    const report = JSON.parse(stdout) as { summary: { violations: Array<{ from: string; to: string; rule: { name: string } }> } };
    return report.summary.violations.map((v) => ({ rule: v.rule.name, from: v.from, to: v.to }));
  } finally {
    if (tree) rmSync(cwd, { recursive: true, force: true });
  }
}

/**
 * Vitest options of a suite that starts real processes and databases: one file at a time (a
 * shared 2-core machine turns parallel starts into timeouts) and generous timeouts.
 * @example export default defineConfig({ test: realServerSuite })
 */
export const realServerSuite = {
  include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  fileParallelism: false,
  testTimeout: 60_000,
  hookTimeout: 120_000,
};

/**
 * Writes a row through one connection and returns what another reads back: `[{ v: 'from the first' }]`
 * when both reach the same file (SQLite in normal locking mode shares it; exclusive refuses the second).
 */
export async function rowsSeenBySecond<DB>(first: Kysely<DB>, second: Kysely<DB>): Promise<unknown[]> {
  await sql`create table probe (v text)`.execute(first);
  await sql`insert into probe values ('from the first')`.execute(first);
  return (await sql<{ v: string }>`select v from probe`.execute(second)).rows;
}

/**
 * `db` with a plugin that keeps every query it sends, compiled as the database gets them (SQL and
 * parameters): `take()` returns those kept since the last `take()` and forgets them (so a test
 * drops the statements a repository prepares when it is made before the call it checks).
 * @example const c = captureQueries(db); const repo = createRepo(c.db); c.take(); await repo.scan(); const [query] = c.take()
 */
export function captureQueries<T>(db: Kysely<T>): { db: Kysely<T>; take: () => CompiledQuery[] } {
  let compiled: CompiledQuery[] = [];
  const capture: KyselyPlugin = {
    transformQuery: ({ node, queryId }) => {
      compiled.push(db.getExecutor().compileQuery(node, queryId));
      return node;
    },
    transformResult: async ({ result }) => result,
  };
  return {
    db: db.withPlugin(capture),
    take: () => {
      const taken = compiled;
      compiled = [];
      return taken;
    },
  };
}

/** The plan of a compiled query as the database would run it: SQLite's EXPLAIN QUERY PLAN details, PostgreSQL's EXPLAIN lines. */
export async function queryPlan<T>(db: Kysely<T>, query: CompiledQuery, dialect: 'sqlite' | 'postgres'): Promise<string> {
  const explain = dialect === 'sqlite' ? 'explain query plan' : 'explain';
  const rows = (await db.executeQuery<Record<string, string>>(CompiledQuery.raw(`${explain} ${query.sql}`, [...query.parameters]))).rows;
  return rows.map((r) => r.detail ?? r['QUERY PLAN']).join('\n');
}
