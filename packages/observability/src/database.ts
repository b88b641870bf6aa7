import { performance } from 'node:perf_hooks';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import type { Attributes, Context, Tracer } from '@opentelemetry/api';
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import { activeContext } from './context';
import type { BoundHistogram, FastHistogram } from './histogram';
import type { Metrics } from './metrics';
import type { Tracing } from './tracing';

export interface DatabaseObserverOptions {
  /** Spans per query; omitted or disabled: none. */
  tracing?: Tracing;
  /** `db_query_duration_seconds{operation,table}`; omitted: not recorded. */
  metrics?: Pick<Metrics, 'dbQueryDuration'>;
  /** `db.system.name`: `sqlite` or `postgresql`. */
  system: string;
}

const OPERATIONS: Record<string, string> = {
  SelectQueryNode: 'SELECT',
  InsertQueryNode: 'INSERT',
  UpdateQueryNode: 'UPDATE',
  DeleteQueryNode: 'DELETE',
  MergeQueryNode: 'MERGE',
  RawNode: 'RAW',
};

interface NodeLike {
  kind?: string;
  table?: NodeLike;
  node?: NodeLike;
  identifier?: { name?: string };
  into?: NodeLike;
  from?: { froms?: NodeLike[] };
}

function tableName(node: NodeLike | undefined): string | undefined {
  if (!node) return undefined;
  if (node.kind === 'AliasNode') return tableName(node.node);
  if (node.kind === 'TableNode') return node.table?.identifier?.name;
  return undefined;
}

interface Shape {
  operation: string;
  table: string;
  /** The span name, `SELECT products` (made once: a new string per span costs a hash each time it is looked up). */
  spanName: string;
  /** The histogram series of this shape, by histogram (an app may have several observers). */
  series?: WeakMap<object, BoundHistogram>;
  /** The histogram last recorded to and its series (nearly always the one observer). */
  lastHistogram?: object;
  lastSeries?: BoundHistogram;
  /** The span attributes of this shape, by `db.system.name` (one object for every span of the shape). */
  attributes?: Map<string, Attributes>;
}

/** The epoch time of performance.now()'s zero: fixed for the process (a getter call each time it is read). */
const TIME_ORIGIN = performance.timeOrigin;

/** Prepared queries run the same tree many times: describe each tree once. */
const shapes = new WeakMap<object, Shape>();

/** The tree described last and its shape: a hot path runs the same prepared query again and again. */
let lastNode: RootOperationNode | undefined;
let lastShape: Shape | undefined;

/** Operation and main table of a query, from Kysely's operation tree (no SQL parsing). */
function describe(node: RootOperationNode): Shape {
  if (node === lastNode) return lastShape!;
  let shape = shapes.get(node);
  if (shape === undefined) {
    const n = node as unknown as NodeLike;
    const operation = OPERATIONS[n.kind ?? ''] ?? 'OTHER';
    const table = tableName(n.into) ?? tableName(n.from?.froms?.[0]) ?? tableName(n.table) ?? '';
    shape = {
      operation,
      table,
      spanName: table ? `${operation} ${table}` : operation,
      series: undefined,
      attributes: undefined,
      lastHistogram: undefined,
      lastSeries: undefined,
    };
    shapes.set(node, shape);
  }
  lastNode = node;
  lastShape = shape;
  return shape;
}

interface Pending {
  start: number;
  ctx: Context;
  shape: Shape;
}

/** The histogram series of a query shape, bound once per shape (FastHistogram dedupes by labels). */
function seriesOf(histogram: FastHistogram<'operation' | 'table'>, shape: Shape): BoundHistogram {
  if (shape.lastHistogram === histogram) return shape.lastSeries!;
  shape.series ??= new WeakMap();
  let series = shape.series.get(histogram);
  if (series === undefined) {
    series = histogram.bind({ operation: shape.operation, table: shape.table });
    shape.series.set(histogram, series);
  }
  shape.lastHistogram = histogram;
  shape.lastSeries = series;
  return series;
}

/** The attributes of every span of a shape, made once per database system (the span copies them). */
function spanAttributes(shape: Shape, system: string): Attributes {
  shape.attributes ??= new Map();
  let attributes = shape.attributes.get(system);
  if (attributes === undefined) {
    attributes = Object.freeze({ 'db.system.name': system, 'db.operation.name': shape.operation, 'db.collection.name': shape.table || undefined });
    shape.attributes.set(system, attributes);
  }
  return attributes;
}

/**
 * A Kysely plugin recording one CLIENT span (`SELECT products`, with `db.system.name`,
 * `db.operation.name`, `db.collection.name`) and one `db_query_duration_seconds` sample per
 * executed query, under the span active when the query was built. Kysely calls no plugin hook
 * for a query that fails, so failed queries are not recorded here; use `traceQuery` for those.
 * @example const db = database.db.withPlugin(kyselyObserver({ tracing, metrics, system: 'sqlite' }))
 */
export function kyselyObserver(options: DatabaseObserverOptions): KyselyPlugin {
  const tracer: Tracer | undefined = options.tracing?.enabled ? options.tracing.tracer : undefined;
  const histogram = options.metrics?.dbQueryDuration;
  // Kept on the query's own id object (per plugin): a built but never executed query (a subquery,
  // a compile()) leaves nothing behind, and no WeakMap entry per query for the GC to trace.
  const pendingKey = Symbol('archbench.query.pending');
  type Carrier = { [pendingKey]?: Pending };
  return {
    transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
      if (tracer === undefined && histogram === undefined) return args.node;
      const ctx = tracer === undefined ? ROOT_CONTEXT : activeContext();
      // No histogram and no sampled request around it (startup work, an unsampled trace): nothing to record.
      if (histogram === undefined && !trace.getSpan(ctx)?.isRecording()) return args.node;
      (args.queryId as Carrier)[pendingKey] = { start: performance.now(), ctx, shape: describe(args.node) };
      return args.node;
    },
    // Not async: Kysely awaits whatever this returns, and an async function would add a promise
    // and a tick of its own to every query.
    transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
      const carrier = args.queryId as Carrier;
      const p = carrier[pendingKey];
      if (p !== undefined) {
        carrier[pendingKey] = undefined;
        const end = performance.now();
        if (histogram !== undefined) seriesOf(histogram, p.shape).observe((end - p.start) / 1000);
        // The span is made after the fact with the measured start, so queries that are built
        // but never run make no span at all.
        if (tracer !== undefined && trace.getSpan(p.ctx)?.isRecording()) {
          const span = tracer.startSpan(
            p.shape.spanName,
            { kind: SpanKind.CLIENT, startTime: TIME_ORIGIN + p.start, attributes: spanAttributes(p.shape, options.system) },
            p.ctx,
          );
          span.end(TIME_ORIGIN + end);
        }
      }
      return Promise.resolve(args.result);
    },
  };
}

export interface TraceQueryOptions {
  tracing?: Tracing;
  metrics?: Pick<Metrics, 'dbQueryDuration'>;
  /** `db.system.name`, default `sqlite`. */
  system?: string;
  /** Histogram labels; default operation `OTHER`, table empty. */
  operation?: string;
  table?: string;
}

/**
 * Runs a database call in a CLIENT span named `name` and times it; a thrown error marks the
 * span failed and is rethrown.
 * @example const rows = await traceQuery('reserve stock', () => trx.updateTable('products')…execute(), { tracing, metrics })
 */
export async function traceQuery<T>(name: string, fn: () => Promise<T>, options: TraceQueryOptions = {}): Promise<T> {
  const start = performance.now();
  const tracer = options.tracing ? (options.tracing.enabled ? options.tracing.tracer : undefined) : trace.getTracer('@archbench/observability');
  const span = tracer?.startSpan(name, {
    kind: SpanKind.CLIENT,
    attributes: { 'db.system.name': options.system ?? 'sqlite', 'db.operation.name': options.operation, 'db.collection.name': options.table },
  });
  try {
    return span ? await context.with(trace.setSpan(context.active(), span), fn) : await fn();
  } catch (error) {
    if (span?.isRecording()) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    }
    throw error;
  } finally {
    span?.end();
    options.metrics?.dbQueryDuration.observe({ operation: options.operation ?? 'OTHER', table: options.table ?? '' }, (performance.now() - start) / 1000);
  }
}
