import type { LoadProfile, PriceAssumption } from '../comparison';

/**
 * The default price list. Every figure is an assumption a user can override
 * (`pnpm compare --price ID=VALUE`); each names the provider price list it came from and that
 * list's date, and both are printed next to every estimate. Provisioned topologies are priced as
 * containers on AWS Fargate (Linux/x86, us-east-1, on demand); serverless as Cloudflare Workers
 * (Standard usage model) with Queues and D1.
 */
export const DEFAULT_PRICES: readonly PriceAssumption[] = [
  {
    id: 'vcpu-hour',
    description: 'provisioned vCPU, per hour (container, on demand)',
    value: 0.04048,
    unit: 'USD per vCPU-hour',
    source: 'AWS Fargate pricing, Linux/x86, us-east-1 — https://aws.amazon.com/fargate/pricing/',
    date: '2024-06-01',
  },
  {
    id: 'gb-hour',
    description: 'provisioned memory, per GB-hour (container, on demand)',
    value: 0.004445,
    unit: 'USD per GB-hour',
    source: 'AWS Fargate pricing, Linux/x86, us-east-1 — https://aws.amazon.com/fargate/pricing/',
    date: '2024-06-01',
  },
  {
    id: 'min-vcpu-per-process',
    description: 'smallest vCPU size of one process (container task)',
    value: 0.25,
    unit: 'vCPU',
    source: 'AWS Fargate task sizes — https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html',
    date: '2024-06-01',
  },
  {
    id: 'min-gb-per-process',
    description: 'smallest memory size of one process (container task)',
    value: 0.5,
    unit: 'GB',
    source: 'AWS Fargate task sizes — https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html',
    date: '2024-06-01',
  },
  {
    id: 'workers-plan-month',
    description: 'Workers Paid plan, per month (includes the request and CPU allowances below)',
    value: 5,
    unit: 'USD per month',
    source: 'Cloudflare Workers pricing, Standard usage model — https://developers.cloudflare.com/workers/platform/pricing/',
    date: '2024-03-01',
  },
  {
    id: 'workers-included-requests',
    description: 'requests included in the plan, per month',
    value: 10_000_000,
    unit: 'requests per month',
    source: 'Cloudflare Workers pricing, Standard usage model — https://developers.cloudflare.com/workers/platform/pricing/',
    date: '2024-03-01',
  },
  {
    id: 'workers-request-million',
    description: 'requests beyond the allowance (queue consumer invocations counted as requests)',
    value: 0.3,
    unit: 'USD per million requests',
    source: 'Cloudflare Workers pricing, Standard usage model — https://developers.cloudflare.com/workers/platform/pricing/',
    date: '2024-03-01',
  },
  {
    id: 'workers-included-cpu-ms',
    description: 'CPU milliseconds included in the plan, per month',
    value: 30_000_000,
    unit: 'CPU-ms per month',
    source: 'Cloudflare Workers pricing, Standard usage model — https://developers.cloudflare.com/workers/platform/pricing/',
    date: '2024-03-01',
  },
  {
    id: 'workers-cpu-ms-million',
    description: 'CPU time beyond the allowance',
    value: 0.02,
    unit: 'USD per million CPU-ms',
    source: 'Cloudflare Workers pricing, Standard usage model — https://developers.cloudflare.com/workers/platform/pricing/',
    date: '2024-03-01',
  },
  {
    id: 'gb-second',
    description: 'memory × duration of invocations (Workers Standard bills none; set it for a platform that does, e.g. AWS Lambda 0.0000166667)',
    value: 0,
    unit: 'USD per GB-second',
    source: 'Cloudflare Workers pricing, Standard usage model (no duration charge) — https://developers.cloudflare.com/workers/platform/pricing/',
    date: '2024-03-01',
  },
  {
    id: 'gb-per-invocation',
    description: 'memory an invocation is billed for (only with a gb-second price)',
    value: 0.128,
    unit: 'GB',
    source: 'Cloudflare Workers limits (128 MB per isolate) — https://developers.cloudflare.com/workers/platform/limits/',
    date: '2024-03-01',
  },
  {
    id: 'queue-operation-million',
    description: 'queue operations beyond 1 million a month (a message is 3: write, read, delete)',
    value: 0.4,
    unit: 'USD per million operations',
    source: 'Cloudflare Queues pricing — https://developers.cloudflare.com/queues/platform/pricing/',
    date: '2024-03-01',
  },
  {
    id: 'queue-included-operations',
    description: 'queue operations included per month',
    value: 1_000_000,
    unit: 'operations per month',
    source: 'Cloudflare Queues pricing — https://developers.cloudflare.com/queues/platform/pricing/',
    date: '2024-03-01',
  },
  {
    id: 'd1-rows-written-million',
    description: 'D1 rows written beyond 50 million a month',
    value: 1,
    unit: 'USD per million rows',
    source: 'Cloudflare D1 pricing — https://developers.cloudflare.com/d1/platform/pricing/',
    date: '2024-03-01',
  },
  {
    id: 'd1-included-rows-written',
    description: 'D1 rows written included per month',
    value: 50_000_000,
    unit: 'rows per month',
    source: 'Cloudflare D1 pricing — https://developers.cloudflare.com/d1/platform/pricing/',
    date: '2024-03-01',
  },
  {
    id: 'd1-rows-written-per-order',
    description:
      'rows one order writes (order, items, payment, shipment, outbox, stock): an estimate, used where rows per order were not measured; a value set with --price replaces a measured one too',
    value: 8,
    unit: 'rows per order',
    source: 'archbench estimate from the serverless app schema (not a price; override with --price)',
    date: '2026-11-30',
  },
];

/**
 * The two load profiles every comparison prices: a steady service, and a mostly idle one with
 * bursts (the case serverless is made for). `--load-profile` replaces them.
 */
export const DEFAULT_LOAD_PROFILES: readonly LoadProfile[] = [
  { name: 'steady-200', description: 'steady 200 req/s around the clock', busyRps: 200, peakRps: 200, hoursPerDay: 24, quietRps: 0, orderShare: 0.2 },
  {
    name: 'idle-bursts-2000',
    description: 'mostly idle (0.5 req/s) with bursts of 2,000 req/s, 30 minutes a day in all',
    busyRps: 2000,
    peakRps: 2000,
    hoursPerDay: 0.5,
    quietRps: 0.5,
    orderShare: 0.2,
  },
];

export class PriceError extends Error {
  override readonly name = 'PriceError';
}

/**
 * A number as a person writes it in decimal (`10`, `0.5`, `.5`, `-1`), or undefined: unlike
 * `Number`, which reads '' and ' ' as 0 and `0x10` as 16, nothing else passes.
 * @example strictDecimal('2.5') // 2.5; strictDecimal('') // undefined
 */
export function strictDecimal(raw: string): number | undefined {
  const text = raw.trim();
  return /^-?(\d+(\.\d*)?|\.\d+)$/.test(text) ? Number(text) : undefined;
}

/**
 * Applies `ID=VALUE` overrides to the price list; an unknown id or a bad value is a PriceError.
 * @example withOverrides(DEFAULT_PRICES, ['vcpu-hour=0.05'])
 */
export function withOverrides(prices: readonly PriceAssumption[], overrides: readonly string[], flag = '--price'): PriceAssumption[] {
  const result = prices.map((p) => ({ ...p }));
  const given = new Set<string>();
  for (const raw of overrides) {
    const eq = raw.indexOf('=');
    const id = eq < 0 ? raw : raw.slice(0, eq);
    const value = strictDecimal(raw.slice(eq + 1));
    const price = result.find((p) => p.id === id);
    if (eq < 0 || !price) throw new PriceError(`${flag} ${raw}: use ID=VALUE with ID one of ${prices.map((p) => p.id).join(', ')}`);
    if (value === undefined || value < 0)
      throw new PriceError(`${flag} ${id}: the value must be a decimal number >= 0, got ${JSON.stringify(raw.slice(eq + 1))}`);
    // The last one would silently win (and only it be recorded as the override).
    if (given.has(id)) throw new PriceError(`${flag} ${id} is given twice`);
    given.add(id);
    price.value = value;
    price.overriddenBy = `${flag} ${raw}`;
  }
  return result;
}

/**
 * Parses `NAME=busy:200,peak:2000,hours:2[,quiet:0.5][,orders:0.2]` into a load profile.
 * @example parseLoadProfile('team=busy:50,peak:400,hours:10')
 */
export function parseLoadProfile(raw: string): LoadProfile {
  const eq = raw.indexOf('=');
  const name = raw.slice(0, eq).trim();
  if (eq <= 0 || !/^[a-z0-9][a-z0-9-]*$/.test(name))
    throw new PriceError(`--load-profile ${raw}: use NAME=busy:RPS,peak:RPS,hours:H[,quiet:RPS][,orders:SHARE] with a kebab-case NAME`);
  const fields = new Map<string, number>();
  for (const part of raw.slice(eq + 1).split(',')) {
    const pieces = part.split(':').map((s) => s.trim());
    const [key, value] = pieces;
    const number = pieces.length === 2 && value !== undefined ? strictDecimal(value) : undefined;
    if (!key || number === undefined || number < 0)
      throw new PriceError(`--load-profile ${raw}: ${JSON.stringify(part)} is not KEY:NUMBER (a decimal number >= 0)`);
    if (!['busy', 'peak', 'hours', 'quiet', 'orders'].includes(key))
      throw new PriceError(`--load-profile ${raw}: unknown key ${key} (busy, peak, hours, quiet, orders)`);
    fields.set(key, number);
  }
  const busy = fields.get('busy');
  const hours = fields.get('hours');
  if (busy === undefined || hours === undefined) throw new PriceError(`--load-profile ${raw}: busy and hours are required`);
  if (hours > 24) throw new PriceError(`--load-profile ${raw}: hours must be 0..24`);
  const orders = fields.get('orders') ?? 0.2;
  if (orders > 1) throw new PriceError(`--load-profile ${raw}: orders is a share 0..1`);
  const peak = fields.get('peak') ?? busy;
  if (peak < busy) throw new PriceError(`--load-profile ${raw}: peak must be at least busy`);
  return { name, busyRps: busy, peakRps: peak, hoursPerDay: hours, quietRps: fields.get('quiet') ?? 0, orderShare: orders };
}
