import type { ThresholdDefinition } from './types.ts';

const EXPRESSION = /^\s*(avg|min|med|max|count|rate|p\((\d+(?:\.\d+)?)\))\s*(<=|<|>=|>|===|==|!=)\s*(-?\d+(?:\.\d+)?)\s*$/;

/** A parsed k6 threshold expression such as `p(95)<100`. */
export interface ParsedThreshold {
  aggregation: 'avg' | 'min' | 'med' | 'max' | 'count' | 'rate' | 'percentile';
  percentile?: number;
  operator: '<' | '<=' | '>' | '>=' | '==' | '!=';
  value: number;
}

/**
 * Parses the subset of k6 threshold syntax archbench uses; throws on anything else.
 * @example parseThreshold('p(95)<100') // { aggregation: 'percentile', percentile: 95, operator: '<', value: 100 }
 */
export function parseThreshold(expression: string): ParsedThreshold {
  const match = EXPRESSION.exec(expression);
  if (!match) throw new Error(`threshold expression ${JSON.stringify(expression)} is not supported (use e.g. p(95)<100, avg<50, rate<0.01)`);
  const [, agg, pct, op, value] = match;
  const operator = (op === '===' ? '==' : op) as ParsedThreshold['operator'];
  if (pct !== undefined) {
    const percentile = Number(pct);
    if (percentile <= 0 || percentile > 100) throw new Error(`threshold ${expression}: percentile must be in (0, 100]`);
    return { aggregation: 'percentile', percentile, operator, value: Number(value) };
  }
  return { aggregation: agg as ParsedThreshold['aggregation'], operator, value: Number(value) };
}

/** The measured values a threshold can be checked against. */
export interface ThresholdInputs {
  /** Latency percentile in ms (percentile 0..100). */
  latencyPercentile: (percentile: number) => number;
  latency: { avg: number; min: number; med: number; max: number };
  requests: number;
  failedRate: number;
}

function compare(actual: number, operator: ParsedThreshold['operator'], expected: number): boolean {
  switch (operator) {
    case '<':
      return actual < expected;
    case '<=':
      return actual <= expected;
    case '>':
      return actual > expected;
    case '>=':
      return actual >= expected;
    case '==':
      return actual === expected;
    case '!=':
      return actual !== expected;
  }
}

/** Evaluates a threshold the way k6 does for http_req_duration (trend) and http_req_failed (rate). */
export function evaluateThreshold(threshold: ThresholdDefinition, inputs: ThresholdInputs): boolean {
  const parsed = parseThreshold(threshold.expression);
  if (threshold.metric === 'http_req_failed') {
    if (parsed.aggregation !== 'rate') throw new Error(`threshold on http_req_failed must use rate, got ${threshold.expression}`);
    return compare(inputs.failedRate, parsed.operator, parsed.value);
  }
  switch (parsed.aggregation) {
    case 'percentile':
      return compare(inputs.latencyPercentile(parsed.percentile!), parsed.operator, parsed.value);
    case 'avg':
    case 'min':
    case 'med':
    case 'max':
      return compare(inputs.latency[parsed.aggregation], parsed.operator, parsed.value);
    case 'count':
      return compare(inputs.requests, parsed.operator, parsed.value);
    case 'rate':
      throw new Error(`threshold on http_req_duration cannot use rate: ${threshold.expression}`);
  }
}
