/**
 * Prometheus metrics for code running on workerd. prom-client needs Node's process, cluster and
 * v8 modules, which Workers do not have, so this is a small registry of counters and histograms
 * with the same exposition format and the same series names as the Node apps.
 *
 * Counters live in the isolate that served the invocation. Locally (one isolate per worker) they
 * are complete; on Cloudflare each isolate has its own and they are lost on eviction, so a real
 * deployment is measured from outside (see README).
 */
export type Labels = Record<string, string>;

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  buckets?: readonly number[];
  /** Series key (rendered labels) -> value (counter) or bucket counts + sum + count (histogram). */
  series: Map<string, { labels: Labels; value: number; buckets?: number[]; sum?: number }>;
}

/** A plain-JSON copy of a registry, so another worker can merge it into its own /metrics. */
export interface MetricsSnapshot {
  families: Array<{
    name: string;
    help: string;
    type: 'counter' | 'histogram';
    buckets?: number[];
    series: Array<{ labels: Labels; value: number; buckets?: number[]; sum?: number }>;
  }>;
}

const escape = (value: string) => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const renderLabels = (labels: Labels) => {
  const entries = Object.entries(labels);
  return entries.length === 0 ? '' : `{${entries.map(([k, v]) => `${k}="${escape(v)}"`).join(',')}}`;
};

class MetricsRegistry {
  readonly #families = new Map<string, Family>();
  readonly #defaultLabels: Labels;

  constructor(defaultLabels: Labels = {}) {
    this.#defaultLabels = defaultLabels;
  }

  #family(name: string, help: string, type: Family['type'], buckets?: readonly number[]): Family {
    let family = this.#families.get(name);
    if (!family) {
      family = { name, help, type, buckets, series: new Map() };
      this.#families.set(name, family);
    }
    return family;
  }

  /** Adds `by` (default 1) to a counter series. */
  inc(name: string, help: string, labels: Labels = {}, by = 1): void {
    const all = { ...this.#defaultLabels, ...labels };
    const family = this.#family(name, help, 'counter');
    const key = renderLabels(all);
    const series = family.series.get(key);
    if (series) series.value += by;
    else family.series.set(key, { labels: all, value: by });
  }

  /** Records one observation in a histogram series. */
  observe(name: string, help: string, buckets: readonly number[], labels: Labels, value: number): void {
    const all = { ...this.#defaultLabels, ...labels };
    const family = this.#family(name, help, 'histogram', buckets);
    const key = renderLabels(all);
    let series = family.series.get(key);
    if (!series) {
      series = { labels: all, value: 0, buckets: buckets.map(() => 0), sum: 0 };
      family.series.set(key, series);
    }
    series.value++;
    series.sum! += value;
    buckets.forEach((bound, i) => {
      if (value <= bound) series.buckets![i]!++;
    });
  }

  snapshot(): MetricsSnapshot {
    return {
      families: [...this.#families.values()].map((f) => ({
        name: f.name,
        help: f.help,
        type: f.type,
        ...(f.buckets ? { buckets: [...f.buckets] } : {}),
        series: [...f.series.values()].map((s) => ({ labels: s.labels, value: s.value, ...(s.buckets ? { buckets: [...s.buckets], sum: s.sum } : {}) })),
      })),
    };
  }

  /** Prometheus text format 0.0.4 of this registry plus other workers' snapshots (one HELP/TYPE per family). */
  render(others: readonly MetricsSnapshot[] = []): string {
    const families = new Map<string, MetricsSnapshot['families'][number]>();
    for (const snapshot of [this.snapshot(), ...others]) {
      for (const family of snapshot.families) {
        const existing = families.get(family.name);
        if (existing) existing.series.push(...family.series);
        else families.set(family.name, { ...family, series: [...family.series] });
      }
    }
    const lines: string[] = [];
    for (const family of families.values()) {
      lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`);
      for (const series of family.series) {
        if (family.type === 'counter') {
          lines.push(`${family.name}${renderLabels(series.labels)} ${series.value}`);
          continue;
        }
        (family.buckets ?? []).forEach((bound, i) => {
          lines.push(`${family.name}_bucket${renderLabels({ ...series.labels, le: String(bound) })} ${series.buckets?.[i] ?? 0}`);
        });
        lines.push(`${family.name}_bucket${renderLabels({ ...series.labels, le: '+Inf' })} ${series.value}`);
        lines.push(`${family.name}_sum${renderLabels(series.labels)} ${series.sum ?? 0}`);
        lines.push(`${family.name}_count${renderLabels(series.labels)} ${series.value}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }
}

const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** The series every worker records, named as in the Node apps where one exists there. */
const SERIES = {
  httpDuration: ['http_server_request_duration_seconds', 'Duration of HTTP requests served, by route template'],
  invocations: ['archbench_worker_invocations_total', 'Worker invocations by handler (fetch, queue, scheduled)'],
  invocationSeconds: ['archbench_worker_invocation_wall_seconds_total', 'Wall time of worker invocations, seconds (workerd clocks advance only across I/O)'],
  coldStarts: ['archbench_worker_cold_starts_total', 'Isolates started: first invocation served by a fresh isolate'],
  queueSent: ['archbench_queue_messages_sent_total', 'Queue messages sent, by queue'],
  queueConsumed: ['archbench_queue_messages_consumed_total', 'Queue messages handled, by queue and outcome (ack, retry)'],
  deadLetters: ['archbench_queue_dead_letters_total', 'Messages received on the dead-letter queue'],
  internalCalls: ['archbench_internal_calls_total', 'Service-to-service calls and command messages, by transport'],
  dbQueries: ['archbench_db_queries_total', 'D1 statements run'],
  dbRowsRead: ['archbench_db_rows_read_total', 'D1 rows read (a billed unit)'],
  dbRowsWritten: ['archbench_db_rows_written_total', 'D1 rows written (a billed unit)'],
  orders: ['archbench_orders_total', 'Orders by outcome'],
  payments: ['archbench_payments_total', 'Payment provider calls by result'],
  sagaCompensations: ['archbench_saga_compensations_total', 'Saga compensation steps run'],
  errors: ['archbench_errors_total', 'Errors answered, by kind and stable code'],
} as const satisfies Record<string, readonly [string, string]>;

export type SeriesName = keyof typeof SERIES;

/** The registry of one worker with helpers for the common series. */
export function createWorkerMetrics(service: string) {
  const registry = new MetricsRegistry({ service });
  let invoked = false;
  return {
    registry,
    inc(series: Exclude<SeriesName, 'httpDuration'>, labels: Labels = {}, by = 1) {
      const [name, help] = SERIES[series];
      registry.inc(name, help, labels, by);
    },
    /** Counts an invocation and its wall time; the first one of this isolate is its cold start. */
    invocation(handler: 'fetch' | 'queue' | 'scheduled', seconds: number) {
      if (!invoked) {
        invoked = true;
        registry.inc(SERIES.coldStarts[0], SERIES.coldStarts[1]);
      }
      registry.inc(SERIES.invocations[0], SERIES.invocations[1], { handler });
      registry.inc(SERIES.invocationSeconds[0], SERIES.invocationSeconds[1], { handler }, seconds);
    },
    /** A message sent to a queue: one internal hop, as a command message is in the microservices. */
    sent(queue: string, count = 1) {
      registry.inc(SERIES.queueSent[0], SERIES.queueSent[1], { queue }, count);
      registry.inc(SERIES.internalCalls[0], SERIES.internalCalls[1], { transport: 'queue' }, count);
    },
    /** One D1 statement's usage (see meteredD1). */
    d1(usage: { rows_read?: number; rows_written?: number }) {
      registry.inc(SERIES.dbQueries[0], SERIES.dbQueries[1]);
      registry.inc(SERIES.dbRowsRead[0], SERIES.dbRowsRead[1], {}, usage.rows_read ?? 0);
      registry.inc(SERIES.dbRowsWritten[0], SERIES.dbRowsWritten[1], {}, usage.rows_written ?? 0);
    },
    http(route: string, method: string, status: number, seconds: number) {
      registry.observe(SERIES.httpDuration[0], SERIES.httpDuration[1], HTTP_BUCKETS, { route, method, status_class: `${Math.floor(status / 100)}xx` }, seconds);
    },
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
