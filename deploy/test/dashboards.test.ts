import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '@archbench/contracts/tokens';
import { deleteAmqpTopology } from '@archbench/microservices/transport';
import { AMQP_TEST_URL, amqpReachable, shouldSkip } from '@archbench/server-kit/testing';
import { loadCompose, serviceEnvironment } from '../src/compose';
import { startLocalStack } from '../src/local-stack';
import { DASHBOARD_DIR, EXTERNAL_METRICS, SCRAPE_LABELS, alertRules, dashboardExpressions, labelUses, metricNames, yieldsSeries } from '../src/dashboards';
import type { Series } from '../src/dashboards';
import type { renderDashboard } from '../src/dashboards';
import { REPO_ROOT, deployable } from '../src/deployables';
import type { RunningServer } from '../src/standalone';

/**
 * Every metric a dashboard or an alert rule (prometheus/alerts.yaml) queries must exist in what the servers really expose. The servers run
 * from their image filesystems with the environment compose gives them (service hosts mapped to
 * free local ports, SQLite instead of PostgreSQL, no collector), get a little traffic of every
 * kind (confirmed, declined and cancelled orders, a 404), and their /metrics are read. The
 * microservices-amqp services run too when this machine's RabbitMQ answers (a fresh AMQP_PREFIX).
 */
const compose = loadCompose();
const hybridBuilt = existsSync(join(REPO_ROOT, deployable('hybrid-core').entry)) && existsSync(join(REPO_ROOT, deployable('hybrid-shipping').entry));
const amqpRuns = !(await shouldSkip('RabbitMQ', amqpReachable));
const amqpPrefix = `archbench-deploy-metrics-${randomBytes(4).toString('hex')}`;
const groups: string[][] = [
  ['monolith'],
  ['inventory', 'orders', 'payments', 'shipping', 'gateway'],
  ...(amqpRuns ? [['inventory-amqp', 'orders-amqp', 'payments-amqp', 'shipping-amqp', 'gateway-amqp']] : []),
  ...(hybridBuilt ? [['hybrid-shipping', 'hybrid-core']] : []),
];
/** The Prometheus `topology` of each group (compose's microservices-http and microservices-amqp run these processes). */
const topologyOf = (group: string[]) =>
  group[0] === 'monolith' ? 'monolith' : group.includes('gateway') ? 'microservices-http' : group.includes('gateway-amqp') ? 'microservices-amqp' : 'hybrid';
/** Every series each topology's processes expose, with its labels. */
const seriesOf = new Map<string, Series[]>();
/**
 * Panels that have no data for a topology by design, and why. Any other panel must return at
 * least one series for every topology.
 */
const NO_DATA: Record<string, { topologies: string[]; why: string }> = {
  'Internal calls: p95 by caller and peer': { topologies: ['monolith'], why: 'one process: no service-to-service HTTP' },
  'Internal calls by transport': { topologies: ['monolith'], why: 'one process: no internal call or message' },
  'Sagas: oldest in each open state': {
    topologies: ['monolith', 'hybrid'],
    why: 'no orchestrated saga: an order, its stock and its payment record change in one transaction',
  },
};
const out = mkdtempSync(join(tmpdir(), 'archbench-deploy-metrics-'));
const running = new Map<string, RunningServer>();
const exposed = new Set<string>();
/** Label names seen on each metric in the servers' /metrics. */
const labelsOf = new Map<string, Set<string>>();
const secret = serviceEnvironment(compose, 'monolith').AUTH_SECRET!;

function sampleNames(text: string, topology: string): string[] {
  const names: string[] = [];
  const series = seriesOf.get(topology) ?? seriesOf.set(topology, []).get(topology)!;
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const name = /^[a-zA-Z_:][\w:]*/.exec(line)?.[0] ?? '';
    names.push(name);
    const labels = labelsOf.get(name) ?? labelsOf.set(name, new Set()).get(name)!;
    const body = line.slice(name.length).startsWith('{') ? line.slice(name.length + 1, line.lastIndexOf('}')) : '';
    const values: Record<string, string> = {};
    for (const match of body.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels.add(match[1]!);
      values[match[1]!] = match[2]!;
    }
    series.push({ name, labels: values });
  }
  return names;
}

async function call(base: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${mintToken(secret, { sub: 'dash-test' })}`, 'content-type': 'application/json', prefer: 'wait=10' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, text, body: (JSON.parse(text || 'null') ?? undefined) as { id?: string; status?: string } | undefined };
}

async function traffic(base: string) {
  expect((await call(base, 'GET', '/products?limit=5')).status).toBe(200);
  expect((await call(base, 'GET', '/products/SKU-9999')).status).toBe(404);
  const ok = await call(base, 'POST', '/orders', { items: [{ sku: 'SKU-0001', quantity: 1 }], payment: { token: 'tok_ok' } });
  // On failure, say what the server answered and what every process logged.
  const logs = () => [...running].map(([name, s]) => `--- ${name}\n${s.output().slice(-2000)}`).join('\n');
  expect(ok.body?.status, `${base} answered ${ok.status} ${ok.text.slice(0, 500)}\n${logs()}`).toBe('CONFIRMED');
  expect((await call(base, 'POST', '/orders', { items: [{ sku: 'SKU-0002', quantity: 1 }], payment: { token: 'tok_decline' } })).body?.status).toBe('REJECTED');
  expect((await call(base, 'POST', `/orders/${ok.body!.id}/cancel`)).status).toBe(200);
  await call(base, 'GET', `/orders/${ok.body!.id}/shipment`);
}

beforeAll(async () => {
  for (const group of groups) {
    // The amqp services on this machine's RabbitMQ, under a prefix of their own.
    const overrides = group.includes('gateway-amqp') ? { AMQP_URL: AMQP_TEST_URL, AMQP_PREFIX: amqpPrefix } : undefined;
    for (const [name, server] of await startLocalStack(group, { workDir: out, compose, overrides })) running.set(name, server);
  }
  await traffic(running.get('monolith')!.url);
  await traffic(running.get('gateway')!.url);
  if (amqpRuns) await traffic(running.get('gateway-amqp')!.url);
  if (hybridBuilt) await traffic(running.get('hybrid-core')!.url);
  // The outbox relay and shipping consume asynchronously; give them a moment before scraping.
  await new Promise((r) => setTimeout(r, 1500));
  for (const group of groups) {
    for (const name of group) {
      const text = await (await fetch(`${running.get(name)!.url}/metrics`)).text();
      for (const metric of sampleNames(text, topologyOf(group))) exposed.add(metric);
    }
  }
});

afterAll(async () => {
  const codes = await Promise.all([...running.values()].map((s) => s.stop().catch(() => null)));
  if (amqpRuns) await deleteAmqpTopology(AMQP_TEST_URL, amqpPrefix).catch(() => undefined);
  rmSync(out, { recursive: true, force: true });
  // Every server stopped on SIGTERM by itself (exit 0), as a container runtime would stop it.
  expect(codes.every((c) => c === 0)).toBe(true);
});

describe("dashboards against the servers' real /metrics", () => {
  const dashboards = readdirSync(DASHBOARD_DIR).map((file) => ({
    file,
    json: JSON.parse(readFileSync(join(DASHBOARD_DIR, file), 'utf8')) as ReturnType<typeof renderDashboard>,
  }));

  it('the servers expose the series the dashboards are built on', () => {
    for (const name of [
      'http_server_request_duration_seconds_bucket',
      'archbench_orders_total',
      'archbench_saga_compensations_total',
      'archbench_outbox_lag_seconds',
      'archbench_saga_oldest_open_seconds',
      'archbench_refund_oldest_pending_seconds',
      'process_resident_memory_bytes',
    ]) {
      expect(exposed, name).toContain(name);
    }
  });

  it.each(dashboards.map((d) => [d.file, d.json] as const))('%s: every metric name in its PromQL exists', (_file, json) => {
    const used = new Set(dashboardExpressions(json).flatMap(metricNames));
    expect(used.size).toBeGreaterThan(3);
    const missing = [...used].filter((name) => !exposed.has(name) && !(name in EXTERNAL_METRICS));
    expect(missing).toEqual([]);
  });

  it.each(dashboards.map((d) => [d.file, d.json] as const))(
    '%s: every label it filters or groups by exists on that metric (or is added by the scrape)',
    (_file, json) => {
      const wrong = dashboardExpressions(json)
        .flatMap(labelUses)
        .filter(({ metric, label }) => !(metric in EXTERNAL_METRICS) && !SCRAPE_LABELS.has(label) && !labelsOf.get(metric)?.has(label))
        .map(({ metric, label }) => `${metric} has no label ${label}`);
      expect([...new Set(wrong)]).toEqual([]);
    },
  );

  it.each(dashboards.map((d) => [d.file, d.json] as const))('%s: every panel shows data for every topology that should have it', (_file, json) => {
    const topologies = groups.map(topologyOf);
    const empty: string[] = [];
    for (const panel of json.panels) {
      const exprs = panel.targets.map((t) => t.expr);
      // Panels on series from elsewhere (Prometheus, kube-state-metrics, the supervisor) cannot be checked here.
      if (exprs.flatMap(metricNames).some((name) => name in EXTERNAL_METRICS)) continue;
      for (const topology of topologies) {
        const shown = exprs.some((expr) => yieldsSeries(expr, seriesOf.get(topology)!));
        const expected = !NO_DATA[panel.title]?.topologies.includes(topology);
        if (shown !== expected) empty.push(`${panel.title}: ${shown ? 'data' : 'No data'} for ${topology}`);
      }
    }
    expect(empty).toEqual([]);
  });

  it('the data check would catch a query that only one topology can answer', () => {
    const hops = (service: string) =>
      `sum by (topology) (rate(archbench_internal_calls_total[1m])) / sum by (topology) (rate(http_server_request_duration_seconds_count{topology=~"$topology", service=~"${service}"}[1m]))`;
    expect(yieldsSeries(hops('gateway'), seriesOf.get('microservices-http')!)).toBe(true);
    expect(yieldsSeries(hops('gateway'), seriesOf.get('monolith')!)).toBe(false);
    // The monolith makes no internal call: without `or 0 * …` the ratio has no series there.
    expect(yieldsSeries(hops('gateway|monolith|core'), seriesOf.get('monolith')!)).toBe(false);
  });

  it('the label check would catch a label the metric does not have', () => {
    const uses = labelUses('sum by (service, path) (rate(http_server_request_duration_seconds_count{status="500"}[1m]))');
    expect(uses).toEqual([
      { metric: 'http_server_request_duration_seconds_count', label: 'status' },
      { metric: 'http_server_request_duration_seconds_count', label: 'service' },
      { metric: 'http_server_request_duration_seconds_count', label: 'path' },
    ]);
    expect(labelsOf.get('http_server_request_duration_seconds_count')?.has('route')).toBe(true);
    expect(labelsOf.get('http_server_request_duration_seconds_count')?.has('path')).toBe(false);
  });

  it('the metrics that come from elsewhere are named where they come from', () => {
    // The supervisor of `pnpm start` (packages/topologies) is where archbench_process_restarts_total is defined.
    const supervisor = join(REPO_ROOT, 'packages/topologies/src/metrics.ts');
    if (existsSync(supervisor)) expect(readFileSync(supervisor, 'utf8')).toContain('archbench_process_restarts_total');
    for (const name of Object.keys(EXTERNAL_METRICS)) expect(exposed.has(name), `${name} is served by the apps now; drop it from EXTERNAL_METRICS`).toBe(false);
  });

  it('every alert rule reads metrics and labels the servers expose, and has series to alert on in some topology', () => {
    const rules = alertRules();
    expect(rules.length).toBeGreaterThan(0);
    const wrong: string[] = [];
    for (const { alert, expr } of rules) {
      for (const name of metricNames(expr)) if (!exposed.has(name) && !(name in EXTERNAL_METRICS)) wrong.push(`${alert}: no metric ${name}`);
      for (const { metric, label } of labelUses(expr))
        if (!(metric in EXTERNAL_METRICS) && !SCRAPE_LABELS.has(label) && !labelsOf.get(metric)?.has(label))
          wrong.push(`${alert}: ${metric} has no label ${label}`);
      if (![...seriesOf.values()].some((series) => yieldsSeries(expr, series))) wrong.push(`${alert}: no series in any topology`);
    }
    expect(wrong).toEqual([]);
  });

  it('the alert check would catch a rule whose selector matches no series', () => {
    const stuck = 'max by (topology, state) (archbench_saga_oldest_open_seconds{state=~"RELEASING|CANCELLING"}) > 300';
    expect(yieldsSeries(stuck, seriesOf.get('microservices-http')!)).toBe(true);
    expect(yieldsSeries(stuck, seriesOf.get('monolith')!)).toBe(false);
    expect(yieldsSeries(stuck.replace('RELEASING|CANCELLING', 'RELEASED'), seriesOf.get('microservices-http')!)).toBe(false);
  });

  it("the monolith, the hybrid core and the microservices' payments service (http and amqp) report the pending-refund age, one series each, so RefundStuck has series in every topology", () => {
    const { expr } = alertRules().find((r) => r.alert === 'RefundStuck')!;
    const owner: Record<string, string> = { monolith: 'monolith', hybrid: 'core', 'microservices-http': 'payments', 'microservices-amqp': 'payments' };
    const topologies = ['monolith', 'microservices-http', ...(amqpRuns ? ['microservices-amqp'] : []), ...(hybridBuilt ? ['hybrid'] : [])];
    for (const topology of topologies) {
      const ages = seriesOf.get(topology)!.filter((s) => s.name === 'archbench_refund_oldest_pending_seconds');
      expect(
        ages.map((s) => s.labels.service),
        topology,
      ).toEqual([owner[topology]]);
      expect(yieldsSeries(expr, seriesOf.get(topology)!), topology).toBe(true);
    }
  });

  it('the name check would catch a misspelt metric', () => {
    const names = metricNames(
      'histogram_quantile(0.95, sum by (service, le) (rate(http_server_request_duration_secs_bucket{route="/x"}[$__rate_interval]))) / on (service) group_left up',
    );
    expect(names.sort()).toEqual(['http_server_request_duration_secs_bucket', 'up']);
    expect(exposed.has('http_server_request_duration_secs_bucket')).toBe(false);
  });
});
