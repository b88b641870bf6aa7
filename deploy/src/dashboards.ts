import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { COMPOSE_DIR } from './compose';

export const DASHBOARD_DIR = join(COMPOSE_DIR, 'grafana/dashboards');
/** The Prometheus alert rules of the compose stack (`rule_files` in prometheus/prometheus.yaml). */
export const ALERTS_FILE = join(COMPOSE_DIR, 'prometheus/alerts.yaml');

/** One alerting rule of a Prometheus rules file. */
export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/**
 * The alerting rules of ALERTS_FILE, every group's.
 * @example alertRules().map((r) => r.alert) // ['SagaCompensationStuck', 'RefundStuck']
 */
export function alertRules(file = ALERTS_FILE): AlertRule[] {
  const rules = parse(readFileSync(file, 'utf8')) as { groups: { name: string; rules: AlertRule[] }[] };
  return rules.groups.flatMap((group) => group.rules);
}

const PROMETHEUS = { type: 'prometheus', uid: 'prometheus' } as const;
const RATE = '$__rate_interval';
/** Every query is scoped to the dashboard's topology and service selections. */
const SCOPE = 'topology=~"$topology", service=~"$service"';

/** Requests per second at each topology's public entry: the gateway, the monolith, the hybrid core (service "core"). */
const PUBLIC_REQUESTS = `sum by (topology) (rate(http_server_request_duration_seconds_count{topology=~"$topology", service=~"gateway|monolith|core"}[${RATE}]))`;

interface PanelSpec {
  title: string;
  description: string;
  unit: string;
  queries: { expr: string; legend: string }[];
  /** Grid width (24 = full row). */
  width?: number;
  type?: 'timeseries' | 'stat';
}

interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  panels: PanelSpec[];
}

/**
 * Metrics the dashboards use that no archbench server exposes on its own /metrics, with where
 * they come from. The dashboards test checks every other metric name against the servers' real
 * /metrics output.
 */
export const EXTERNAL_METRICS: Record<string, string> = {
  up: 'Prometheus itself, one series per scrape target',
  kube_pod_container_status_restarts_total: 'kube-state-metrics, on Kubernetes (the kubelet restarts containers there)',
  archbench_process_restarts_total: 'the `pnpm start` supervisor (packages/topologies), on one machine',
};

const red: DashboardSpec = {
  uid: 'archbench-red',
  title: 'archbench · RED per service and route',
  description: 'Rate, errors and duration of every public and internal route, per topology and service (http_server_request_duration_seconds).',
  panels: [
    {
      title: 'Requests per second by service and route',
      description: 'Completed requests; /health, /ready and /metrics are not counted.',
      unit: 'reqps',
      queries: [
        {
          expr: `sum by (topology, service, route) (rate(http_server_request_duration_seconds_count{${SCOPE}}[${RATE}]))`,
          legend: '{{topology}} {{service}} {{route}}',
        },
      ],
    },
    {
      title: 'Server errors (5xx share) by service and route',
      description: "5xx answers over all answers. 4xx are the caller's mistakes and are shown by code below.",
      unit: 'percentunit',
      queries: [
        {
          // `or 0 * …`: a route that never answered 5xx has no 5xx series; it shows 0, not No data.
          expr: `(sum by (topology, service, route) (rate(http_server_request_duration_seconds_count{${SCOPE}, status_class="5xx"}[${RATE}])) or 0 * sum by (topology, service, route) (rate(http_server_request_duration_seconds_count{${SCOPE}}[${RATE}]))) / sum by (topology, service, route) (rate(http_server_request_duration_seconds_count{${SCOPE}}[${RATE}]))`,
          legend: '{{topology}} {{service}} {{route}}',
        },
      ],
    },
    {
      title: 'p95 duration by service and route',
      description: 'From the request histogram; the order POST with Prefer: wait includes the whole saga.',
      unit: 's',
      queries: [
        {
          expr: `histogram_quantile(0.95, sum by (topology, service, route, le) (rate(http_server_request_duration_seconds_bucket{${SCOPE}}[${RATE}])))`,
          legend: '{{topology}} {{service}} {{route}}',
        },
      ],
    },
    {
      title: 'p99 duration by service and route',
      description: 'Tail latency; a slow dependency shows here first.',
      unit: 's',
      queries: [
        {
          expr: `histogram_quantile(0.99, sum by (topology, service, route, le) (rate(http_server_request_duration_seconds_bucket{${SCOPE}}[${RATE}])))`,
          legend: '{{topology}} {{service}} {{route}}',
        },
      ],
    },
    {
      title: 'Errors answered by kind and code',
      description: 'problem+json answers by error kind and stable code (validation, not-found, dependency …).',
      unit: 'reqps',
      queries: [{ expr: `sum by (topology, service, kind, code) (rate(archbench_errors_total{${SCOPE}}[${RATE}]))`, legend: '{{service}} {{kind}} {{code}}' }],
    },
    {
      title: 'Internal calls: p95 by caller and peer',
      description: 'Client side of service-to-service HTTP (microservices, hybrid); empty for the monolith.',
      unit: 's',
      queries: [
        {
          expr: `histogram_quantile(0.95, sum by (topology, service, peer, le) (rate(http_client_request_duration_seconds_bucket{${SCOPE}}[${RATE}])))`,
          legend: '{{topology}} {{service}} → {{peer}}',
        },
      ],
    },
    {
      title: 'Database query p95 by operation and table',
      description: 'Every query the servers run, timed around the driver call.',
      unit: 's',
      queries: [
        {
          expr: `histogram_quantile(0.95, sum by (topology, service, operation, table, le) (rate(db_query_duration_seconds_bucket{${SCOPE}}[${RATE}])))`,
          legend: '{{service}} {{operation}} {{table}}',
        },
      ],
    },
    {
      title: 'Scrape targets up',
      description: "1 when Prometheus reached the process's /metrics. Targets of compose profiles that are not running show 0.",
      unit: 'short',
      queries: [{ expr: 'up{topology=~"$topology"}', legend: '{{topology}} {{instance}}' }],
    },
  ],
};

const saga: DashboardSpec = {
  uid: 'archbench-saga',
  title: 'archbench · orders, saga and outbox',
  description: 'How orders end, how often the saga compensates, and how far the transactional outbox lags.',
  panels: [
    {
      title: 'Orders by outcome',
      description: 'Terminal states per second: confirmed, rejected (payment declined or failed, compensated), cancelled.',
      unit: 'reqps',
      queries: [{ expr: `sum by (topology, outcome) (rate(archbench_orders_total{${SCOPE}}[${RATE}]))`, legend: '{{topology}} {{outcome}}' }],
    },
    {
      title: 'Saga compensations',
      description: 'Compensation steps run (stock released after a failed payment, refunds on cancel).',
      unit: 'ops',
      queries: [{ expr: `sum by (topology, service) (rate(archbench_saga_compensations_total{${SCOPE}}[${RATE}]))`, legend: '{{topology}} {{service}}' }],
    },
    {
      title: 'Outbox lag',
      description: 'Age of the oldest event written with its state change but not yet published. Growing = the relay or the broker is stuck.',
      unit: 's',
      queries: [{ expr: `max by (topology, service) (archbench_outbox_lag_seconds{${SCOPE}})`, legend: '{{topology}} {{service}}' }],
    },
    {
      title: 'Sagas: oldest in each open state',
      description:
        "Age of the oldest saga in each state with a step to run, since it entered that state (orders service, microservices only). ABORTING, RELEASING, EXPIRING and CANCELLING are compensations, resent until taken: one growing past minutes is stuck (alert SagaCompensationStuck at 5 min); the orders log names the order, RabbitMQ's dead-letter queue holds refused copies.",
      unit: 's',
      queries: [{ expr: `max by (topology, state) (archbench_saga_oldest_open_seconds{${SCOPE}})`, legend: '{{topology}} {{state}}' }],
    },
    {
      title: 'Payment provider results',
      description:
        'Calls to the simulated provider by result: succeeded, declined or failed for charges (a timeout counts as failed), refunded or refund_failed for refunds.',
      unit: 'ops',
      queries: [{ expr: `sum by (topology, result) (rate(archbench_payments_total{${SCOPE}}[${RATE}]))`, legend: '{{topology}} {{result}}' }],
    },
    {
      title: 'Refunds: oldest pending',
      description:
        "Age of the oldest refund still to be made (monolith, hybrid core and the microservices' payments service, read from the payments table): 0 normally. A refund the provider fails is tried again, forever (every 30 s in the monolith and hybrid; in the microservices a late capture's by payments every 30 s at most, a cancel's by the saga every 2 s at most); one growing past minutes is stuck (alert RefundStuck at 5 min), see refund_failed in the panel beside it.",
      unit: 's',
      queries: [{ expr: `max by (topology, service) (archbench_refund_oldest_pending_seconds{${SCOPE}})`, legend: '{{topology}} {{service}}' }],
    },
    {
      title: 'Internal hops per public request',
      description:
        "Service-to-service calls and broker messages per request at each topology's public entry (the gateway, the monolith, the hybrid core): 0 for the monolith.",
      unit: 'short',
      queries: [
        {
          // `or 0 * …`: a topology that makes no internal call has no archbench_internal_calls_total series; it shows 0, not No data.
          expr: `(sum by (topology) (rate(archbench_internal_calls_total{topology=~"$topology"}[${RATE}])) or 0 * ${PUBLIC_REQUESTS}) / ${PUBLIC_REQUESTS}`,
          legend: '{{topology}}',
        },
      ],
    },
    {
      title: 'Internal calls by transport',
      description: 'HTTP calls and AMQP messages between services.',
      unit: 'ops',
      queries: [
        {
          expr: `sum by (topology, service, transport) (rate(archbench_internal_calls_total{${SCOPE}}[${RATE}]))`,
          legend: '{{topology}} {{service}} {{transport}}',
        },
      ],
    },
  ],
};

const processes: DashboardSpec = {
  uid: 'archbench-processes',
  title: 'archbench · processes: CPU, memory, restarts',
  description: 'What each topology costs to run and how often its processes restart.',
  panels: [
    {
      title: 'CPU (cores) by process',
      description: 'process_cpu_seconds_total rate: 1 = one core busy.',
      unit: 'short',
      queries: [{ expr: `sum by (topology, service) (rate(process_cpu_seconds_total{${SCOPE}}[${RATE}]))`, legend: '{{topology}} {{service}}' }],
    },
    {
      title: 'Resident memory by process',
      description: 'RSS of each Node process; the topology total is what its hosts must hold.',
      unit: 'bytes',
      queries: [
        { expr: `sum by (topology, service) (process_resident_memory_bytes{${SCOPE}})`, legend: '{{topology}} {{service}}' },
        { expr: `sum by (topology) (process_resident_memory_bytes{${SCOPE}})`, legend: '{{topology}} total' },
      ],
    },
    {
      title: 'CPU seconds per 1,000 confirmed orders',
      description: 'All processes of a topology over its confirmed orders: the cost figure `pnpm compare` reports.',
      unit: 's',
      queries: [
        {
          expr: `1000 * sum by (topology) (rate(process_cpu_seconds_total{topology=~"$topology"}[5m])) / sum by (topology) (rate(archbench_orders_total{topology=~"$topology", outcome="confirmed"}[5m]))`,
          legend: '{{topology}}',
        },
      ],
    },
    {
      title: 'Event loop lag p99',
      description: 'A busy or blocked event loop delays every request of that process.',
      unit: 's',
      queries: [{ expr: `max by (topology, service) (nodejs_eventloop_lag_p99_seconds{${SCOPE}})`, legend: '{{topology}} {{service}}' }],
    },
    {
      title: 'Restarts in the last hour (compose, any platform)',
      description: 'Each restart gives the process a new start time, so this counts the restarts Prometheus saw (Docker restart policy, systemd, anything).',
      unit: 'short',
      type: 'stat',
      queries: [{ expr: `sum by (topology, service) (changes(process_start_time_seconds{${SCOPE}}[1h]))`, legend: '{{topology}} {{service}}' }],
    },
    {
      title: 'Container restarts in the last hour (Kubernetes)',
      description: 'From kube-state-metrics, when this Prometheus scrapes a cluster: the kubelet restarts containers there.',
      unit: 'short',
      type: 'stat',
      queries: [
        {
          expr: 'sum by (namespace, pod, container) (increase(kube_pod_container_status_restarts_total{namespace=~"archbench.*"}[1h]))',
          legend: '{{pod}} {{container}}',
        },
      ],
    },
    {
      title: 'Supervisor restarts in the last hour (pnpm start)',
      description: 'On one machine the archbench supervisor restarts crashed processes and counts them.',
      unit: 'short',
      type: 'stat',
      queries: [{ expr: 'sum by (topology, process) (increase(archbench_process_restarts_total[1h]))', legend: '{{topology}} {{process}}' }],
    },
  ],
};

export const DASHBOARDS: readonly DashboardSpec[] = [red, saga, processes];

function variable(name: string, query: string) {
  return {
    name,
    label: name,
    type: 'query',
    datasource: PROMETHEUS,
    definition: query,
    query: { query, refId: `${name}-values` },
    includeAll: true,
    multi: true,
    allValue: '.*',
    current: { selected: true, text: ['All'], value: ['$__all'] },
    refresh: 2,
    sort: 1,
  };
}

/**
 * The Grafana dashboard JSON of one spec (schemaVersion 39, Prometheus datasource uid
 * `prometheus` as provisioned in grafana/provisioning/datasources).
 * @example renderDashboard(DASHBOARDS[0]!).uid // 'archbench-red'
 */
export function renderDashboard(spec: DashboardSpec) {
  let x = 0;
  let y = 0;
  const panels = spec.panels.map((panel, index) => {
    const w = panel.width ?? 12;
    if (x + w > 24) {
      x = 0;
      y += 8;
    }
    const gridPos = { h: 8, w, x, y };
    x += w;
    return {
      id: index + 1,
      type: panel.type ?? 'timeseries',
      title: panel.title,
      description: panel.description,
      datasource: PROMETHEUS,
      gridPos,
      fieldConfig: { defaults: { unit: panel.unit }, overrides: [] },
      options:
        panel.type === 'stat'
          ? { reduceOptions: { calcs: ['lastNotNull'] } }
          : { legend: { displayMode: 'table', placement: 'bottom', calcs: ['mean', 'max'] } },
      targets: panel.queries.map((q, i) => ({ refId: String.fromCharCode(65 + i), datasource: PROMETHEUS, expr: q.expr, legendFormat: q.legend })),
    };
  });
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: ['archbench'],
    editable: false,
    schemaVersion: 39,
    version: 1,
    refresh: '10s',
    time: { from: 'now-30m', to: 'now' },
    timezone: 'browser',
    templating: {
      list: [
        variable('topology', 'label_values(up, topology)'),
        variable('service', 'label_values(process_start_time_seconds{topology=~"$topology"}, service)'),
      ],
    },
    panels,
  };
}

/** File name of a dashboard under DASHBOARD_DIR. */
export const dashboardFile = (spec: DashboardSpec) => `${spec.uid}.json`;

const PROMQL_WORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan']);

/**
 * Metric names a PromQL expression reads. Strings, label matchers, ranges, grouping clauses and
 * function names are skipped; what is left are the series selectors.
 * @example metricNames('sum by (route) (rate(http_x_count{a="b"}[5m]))') // ['http_x_count']
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![\w.$])[a-zA-Z_:][\w:]*/g)) {
    const name = match[0];
    const after = stripped.slice(match.index + name.length).trimStart();
    if (after.startsWith('(') || PROMQL_WORDS.has(name.toLowerCase())) continue;
    names.add(name);
  }
  return [...names];
}

/** Every PromQL expression of a rendered dashboard: panel targets and `label_values` selectors. */
export function dashboardExpressions(dashboard: ReturnType<typeof renderDashboard>): string[] {
  const targets = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
  const variables = dashboard.templating.list.map((v) => /^label_values\((.*),\s*\w+\)$/.exec(v.query.query)?.[1] ?? v.query.query);
  return [...targets, ...variables];
}

/** Labels Prometheus adds at scrape time (deploy/compose/prometheus/prometheus.yaml), not the servers. */
export const SCRAPE_LABELS = new Set(['topology', 'instance', 'job']);

/**
 * Which labels an expression expects on which metric: label matchers belong to the selector
 * they are written on; `by (...)` / `without (...)` labels to every metric of the expression.
 * @example labelUses('sum by (route) (rate(x_count{a="b"}[1m]))') // [{ metric: 'x_count', label: 'a' }, { metric: 'x_count', label: 'route' }]
 */
export function labelUses(expr: string): { metric: string; label: string }[] {
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const uses: { metric: string; label: string }[] = [];
  for (const selector of withoutStrings.matchAll(/([a-zA-Z_:][\w:]*)\s*\{([^}]*)\}/g)) {
    for (const matcher of selector[2]!.matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)) uses.push({ metric: selector[1]!, label: matcher[1]! });
  }
  const metrics = metricNames(expr);
  for (const grouping of withoutStrings.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)) {
    for (const label of grouping[1]!
      .split(',')
      .map((l) => l.trim())
      .filter(Boolean))
      for (const metric of metrics) uses.push({ metric, label });
  }
  return uses;
}

/** One series of a /metrics exposition: its name and labels. */
export interface Series {
  name: string;
  labels: Record<string, string>;
}

/** Top-level (outside parentheses, braces, brackets and strings) positions of `op` in `expr`. */
function topLevelSplit(expr: string, op: RegExp): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  let quoted = false;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i]!;
    if (c === '"' && expr[i - 1] !== '\\') quoted = !quoted;
    if (quoted) continue;
    if ('({['.includes(c)) depth++;
    else if (')}]'.includes(c)) depth--;
    else if (depth === 0) {
      const m = op.exec(expr.slice(i));
      if (m?.index === 0) {
        parts.push(expr.slice(start, i));
        start = i + m[0].length;
        i = start - 1;
      }
    }
  }
  parts.push(expr.slice(start));
  return parts.map((p) => p.trim());
}

/**
 * Whether a dashboard expression returns at least one series given the series a topology's
 * processes expose: a selector needs a series with its name and matching labels (Prometheus' own
 * scrape labels and the `$topology`/`$service` variables match anything), `a or b` needs either
 * side, any other operator both, an aggregation or function its series argument. Values are not
 * evaluated: a rate of 0 still yields a series.
 * @example yieldsSeries('sum(rate(x_total{service="gateway"}[5m]))', [{ name: 'x_total', labels: { service: 'monolith' } }]) // false
 */
export function yieldsSeries(expr: string, series: readonly Series[]): boolean {
  let e = expr.trim();
  const or = topLevelSplit(e, /^\s+or\s+/);
  if (or.length > 1) return or.some((part) => yieldsSeries(part, series));
  // Arithmetic, and comparisons (an alert's threshold): both sides must yield series.
  const arithmetic = topLevelSplit(e, /^\s*(?:[/*+-]|[<>]=?|==|!=)\s*(?![^\s(]*\})/);
  if (arithmetic.length > 1) return arithmetic.filter((part) => !/^[\d.]+$/.test(part)).every((part) => yieldsSeries(part, series));
  const call = /^(\w+)?\s*(?:(?:by|without)\s*\([^)]*\)\s*)?\(/.exec(e);
  if (call && e.endsWith(')')) {
    e = e.slice(call[0].length, -1);
    const args = topLevelSplit(e, /^,/).filter((a) => !/^[\d.]+$/.test(a));
    return args.every((arg) => yieldsSeries(arg, series));
  }
  const selector = /^([a-zA-Z_:][\w:]*)\s*(?:\{([^}]*)\})?\s*(?:\[[^\]]*\])?$/.exec(e);
  if (!selector) throw new Error(`cannot read ${JSON.stringify(expr)}`);
  const matchers = [...(selector[2] ?? '').matchAll(/(\w+)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)]
    .filter((m) => !SCRAPE_LABELS.has(m[1]!))
    .map(([, label, op, value]) => ({ label: label!, op: op!, pattern: new RegExp(`^(?:${value!.replace(/\$\w+/g, '.*')})$`) }));
  return series.some(
    (s) =>
      s.name === selector[1] &&
      matchers.every(({ label, op, pattern }) => {
        const hit = pattern.test(s.labels[label] ?? '');
        return op === '=' || op === '=~' ? hit : !hit;
      }),
  );
}
