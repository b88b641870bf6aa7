import { OperationNodeTransformer, ValueListNode, ValueNode, createQueryId } from 'kysely';
import type {
  CompiledQuery,
  Compilable,
  Kysely,
  OperationNodeSource,
  PrimitiveValueListNode,
  QueryExecutor,
  QueryId,
  QueryResult,
  RootOperationNode,
} from 'kysely';
import { executeDirect } from './sqlite-group-commit';

/** Stands in for a parameter while a prepared query is built; replaced by the real value per call. */
class Placeholder {
  constructor(readonly name: string) {}
}

type Slot = { name: string } | { value: unknown };

/** A value written into the SQL text as a literal: a string, a finite number or null (the rest stay parameters). */
const isLiteral = (value: unknown): value is string | number | null =>
  value === null || typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));

/**
 * Writes the constants of a prepared query (`status: 'PENDING'`, `currency: 'EUR'`, a `null`) into
 * its SQL as literals, escaped by the dialect's compiler, so each run binds only the values that
 * change. Binding is per value and not free (on SQLite a string parameter is converted to UTF-8
 * and copied twice): an order's statements had 36 parameters, 10 of them constants.
 */
class InlineConstants extends OperationNodeTransformer {
  protected override transformValue(node: ValueNode): ValueNode {
    return !node.immediate && isLiteral(node.value) ? ValueNode.createImmediate(node.value) : node;
  }
  protected override transformPrimitiveValueList(node: PrimitiveValueListNode): PrimitiveValueListNode {
    if (!node.values.some(isLiteral)) return node;
    // A list of raw values compiles every one as a parameter; a list of value nodes can mix both.
    const mixed = ValueListNode.create(node.values.map((value) => (isLiteral(value) ? ValueNode.createImmediate(value) : ValueNode.create(value))));
    return mixed as unknown as PrimitiveValueListNode;
  }
}

/** Query ids only need to be distinct objects (plugins key their per-query state on them); a counter is cheaper than Kysely's random string. */
let runs = 0;
const nextQueryId = (): QueryId => ({ queryId: `p${++runs}` });

/** Where a prepared query runs: a Kysely instance or a transaction of it (any database type). */
export interface QueryTarget {
  getExecutor(): QueryExecutor;
  readonly isTransaction: boolean;
}

/**
 * A query built and compiled once, run many times with new parameter values: the SQL text, the
 * operation tree and the parameter layout are kept, so a call costs a parameter array and the
 * driver round trip instead of Kysely's builder and compiler (tens of µs per query).
 */
export interface PreparedQuery<P, R> {
  /** The compiled SQL (the same for every call). */
  readonly sql: string;
  /** All result rows. */
  execute(db: QueryTarget, params: P): Promise<R[]>;
  /** The first row, or undefined. */
  executeTakeFirst(db: QueryTarget, params: P): Promise<R | undefined>;
  /** Rows inserted, updated or deleted (for statements without RETURNING). */
  executeAffected(db: QueryTarget, params: P): Promise<number>;
}

/**
 * Prepares a query whose shape never changes: `build` gets the Kysely instance and a parameter
 * object whose properties stand for values given at each call. Only scalar values (strings,
 * numbers, null) can be parameters; a list for `in (...)` changes the SQL and needs a query of its own.
 * Constants in the query (strings, finite numbers, null) are written into the SQL as literals.
 * Run it on the instance or on a transaction (`trx`): the connection is the one Kysely would use,
 * so a prepared query inside a transaction is part of it. Plugins of `db` see every call as if the
 * query had been built then (they observe; the SQL is fixed at preparation).
 * @example
 * const productBySku = prepareQuery(db, (q, $: { sku: string }) => q.selectFrom('products').selectAll().where('sku', '=', $.sku))
 * const product = await productBySku.executeTakeFirst(db, { sku: 'SKU-0001' })
 */
export function prepareQuery<DB, P extends Record<string, unknown>, R>(
  db: Kysely<DB>,
  build: (query: Kysely<DB>, params: P) => Compilable<R> & OperationNodeSource,
): PreparedQuery<P, R> {
  const placeholders = new Proxy({} as P, {
    get: (_target, name) => (typeof name === 'string' ? new Placeholder(name) : undefined),
  });
  // The builder's node as plugins left it, with its constants made literals (see InlineConstants).
  const built = new InlineConstants().transformNode(build(db, placeholders).toOperationNode()) as RootOperationNode;
  const compiled = db.getExecutor().compileQuery<R>(built, createQueryId());
  const slots: Slot[] = compiled.parameters.map((value) => (value instanceof Placeholder ? { name: value.name } : { value }));
  const node: RootOperationNode = compiled.query;
  const sql = compiled.sql;
  const bind = (params: P): unknown[] => {
    const values = new Array<unknown>(slots.length);
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!;
      values[i] = 'name' in slot ? params[slot.name] : slot.value;
    }
    return values;
  };
  const run = (target: QueryTarget, params: P): Promise<QueryResult<R>> => {
    const executor = target.getExecutor();
    const queryId = nextQueryId();
    // Plugins observe the run (spans, histograms) exactly as for a query built now.
    executor.transformQuery(node, queryId);
    const query: CompiledQuery<R> = { sql, parameters: bind(params), query: node, queryId };
    // On SQLite, straight to the connection when it is ours to use now (see executeDirect).
    return executeDirect<R>(executor, query, target.isTransaction) ?? executor.executeQuery<R>(query);
  };
  return {
    sql,
    async execute(target, params) {
      return (await run(target, params)).rows;
    },
    async executeTakeFirst(target, params) {
      return (await run(target, params)).rows[0];
    },
    async executeAffected(target, params) {
      return Number((await run(target, params)).numAffectedRows ?? 0n);
    },
  };
}
