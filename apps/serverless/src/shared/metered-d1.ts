import type { D1Database, D1PreparedStatement } from '@cloudflare/workers-types';

/** What D1 reports for every statement it ran (`meta` of each result). */
export interface D1Usage {
  rows_read?: number;
  rows_written?: number;
}

const RAW = Symbol('raw D1 statement');
type Wrapped = D1PreparedStatement & { [RAW]: D1PreparedStatement };

/**
 * A D1 binding that reports each statement's rows read and written, the units D1 bills, so the
 * cost model gets measured rows per order instead of an estimate. `first()` runs as `all()`
 * (what D1 does anyway: it adds no LIMIT), so its meta is seen too.
 * @example const db = meteredD1(env.DB, (meta) => metrics.d1(meta))
 */
export function meteredD1(db: D1Database, record: (usage: D1Usage) => void): D1Database {
  const wrap = (statement: D1PreparedStatement): Wrapped => {
    const wrapped = {
      [RAW]: statement,
      bind: (...values: unknown[]) => wrap(statement.bind(...values)),
      async first(column?: string) {
        const result = await statement.all<Record<string, unknown>>();
        record(result.meta);
        const row = result.results[0];
        if (row === undefined) return null;
        return column === undefined ? row : row[column];
      },
      async all() {
        const result = await statement.all();
        record(result.meta);
        return result;
      },
      async run() {
        const result = await statement.run();
        record(result.meta);
        return result;
      },
      raw: statement.raw.bind(statement),
    };
    return wrapped as unknown as Wrapped;
  };
  const metered = {
    prepare: (query: string) => wrap(db.prepare(query)),
    async batch(statements: D1PreparedStatement[]) {
      const results = await db.batch(statements.map((s) => (s as Partial<Wrapped>)[RAW] ?? s));
      for (const result of results) record(result.meta);
      return results;
    },
    exec: db.exec.bind(db),
    dump: db.dump.bind(db),
    withSession: db.withSession.bind(db),
  };
  return metered as unknown as D1Database;
}
