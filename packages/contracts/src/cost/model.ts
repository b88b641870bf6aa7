import type { CostEstimate, CostLine, CostSection, LoadProfile, PriceAssumption, TopologyResult } from '../comparison';
import { DEFAULT_LOAD_PROFILES, DEFAULT_PRICES } from './prices';

/** Hours in an average month (365.25 × 24 / 12, rounded as cloud price lists do). */
export const HOURS_PER_MONTH = 730;
const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;
const GB = 1e9;

/** How a topology is paid for. */
export type BillingModel = 'provisioned' | 'per-request';

/** The measured figures the cost model needs for one topology. */
export interface CostInputs {
  topology: string;
  billing: BillingModel;
  processCount: number | null;
  /** CPU per catalog read and per order, ms (summed over processes). */
  cpuMsPerRead: number | null;
  cpuMsPerOrder: number | null;
  /** Mean wall time of a public request, ms (for GB-s pricing when the per-kind figures are missing). */
  wallMs: number | null;
  /** Mean wall time of a read and of an order, ms (GB-s pricing: mixed at the profile's order share). */
  wallMsPerRead?: number | null;
  wallMsPerOrder?: number | null;
  /** Peak and idle resident memory summed over processes, bytes. */
  peakRssBytes: number | null;
  idleRssBytes: number | null;
  /** Invocations per order (the public request + consumer/internal calls); null: assume 1. */
  requestsPerOrder: number | null;
  queueMessagesPerOrder: number | null;
  /** Measured database rows written per order; null: the `d1-rows-written-per-order` assumption. */
  rowsWrittenPerOrder?: number | null;
}

export interface CostOptions {
  prices?: readonly PriceAssumption[];
  /** Memory provisioned = peak RSS × (1 + headroom). */
  headroom?: number;
  /** CPU provisioned = peak CPU need / targetUtilization. */
  targetUtilization?: number;
}

function priceOf(prices: readonly PriceAssumption[], id: string): number {
  const price = prices.find((p) => p.id === id);
  if (!price) throw new Error(`price ${id} missing from the price list`);
  return price.value;
}

/** Requests per month of a load profile, and the share that happens at the peak-sized rate. */
export function monthlyRequests(profile: LoadProfile): number {
  const days = HOURS_PER_MONTH / 24;
  return (profile.busyRps * profile.hoursPerDay + profile.quietRps * (24 - profile.hoursPerDay)) * 3600 * days;
}

/** The inputs of one measured topology, from a comparison's topology result. */
export function costInputsOf(t: TopologyResult, billing: BillingModel): CostInputs {
  const pr = t.perRequest ?? null;
  // A target measured without --metrics-url has no server CPU: its perRequest.cpuMs reads 0 (the
  // schema keeps it a number), which would price its compute at nothing.
  // The same when the server's CPU could not be read (a metrics scrape that failed): cpuSeconds null.
  const cpuMeasured = t.serverSide !== 'not-measured' && t.cpuSeconds !== null;
  return {
    topology: t.name,
    billing,
    processCount: t.processCount,
    cpuMsPerRead: cpuMeasured ? (pr?.cpuMsPerRead ?? pr?.cpuMs ?? null) : null,
    cpuMsPerOrder: cpuMeasured ? (pr?.cpuMsPerOrder ?? (t.cpuSecondsPer1kOrders === null ? null : t.cpuSecondsPer1kOrders)) : null,
    wallMs: pr?.wallMs ?? null,
    wallMsPerRead: pr?.wallMsPerRead ?? null,
    wallMsPerOrder: pr?.wallMsPerOrder ?? null,
    peakRssBytes: t.peakRssBytes,
    idleRssBytes: t.idle?.rssBytes ?? t.idleRssBytes ?? null,
    requestsPerOrder: pr?.requestsPerOrder ?? null,
    queueMessagesPerOrder: pr?.queueMessagesPerOrder ?? null,
    rowsWrittenPerOrder: pr?.rowsWrittenPerOrder ?? null,
  };
}

function line(item: string, quantity: number, unit: string, priceId: string, usd: number): CostLine {
  return { item, quantity: round(quantity, 4), unit, priceId, usd: round(usd, 2) };
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/**
 * The monthly estimate of one topology at one load profile.
 *
 * Provisioned (monolith, microservices, hybrid): sized for the peak and paid all month. CPU need
 * at the peak = peak rate × CPU per request (reads and orders mixed by the profile's order share);
 * vCPUs = need / target utilisation, at least the smallest task size per process; memory = peak
 * RSS × (1 + headroom), at least the smallest task per process; a process that needs more than
 * one vCPU (Node runs JavaScript on one core) runs as several replicas, each with its memory.
 * With no traffic it still pays one smallest-or-idle-sized replica per process.
 *
 * Per request (serverless): the plan fee, requests (consumer invocations count as requests) and
 * CPU-ms beyond the allowances, GB-s where the price list has them, queue operations (3 per
 * message) and D1 rows written. With no traffic it pays the plan fee only.
 * @example estimateCost(costInputsOf(monolith, 'provisioned'), DEFAULT_LOAD_PROFILES[0]!)
 */
export function estimateCost(inputs: CostInputs, profile: LoadProfile, options: CostOptions = {}): CostEstimate {
  const prices = options.prices ?? DEFAULT_PRICES;
  const headroom = options.headroom ?? 0.3;
  const utilization = options.targetUtilization ?? 0.6;
  const notes: string[] = [];
  const missing: string[] = [];
  if (inputs.cpuMsPerRead === null) missing.push('CPU per read');
  if (inputs.cpuMsPerOrder === null) missing.push('CPU per order');
  const cpuMsPerRequest = (1 - profile.orderShare) * (inputs.cpuMsPerRead ?? 0) + profile.orderShare * (inputs.cpuMsPerOrder ?? 0);

  if (inputs.billing === 'provisioned') {
    if (inputs.peakRssBytes === null) missing.push('peak memory');
    if (inputs.processCount === null) missing.push('process count');
    const processes = inputs.processCount ?? 1;
    const needCores = (profile.peakRps * cpuMsPerRequest) / 1000;
    const wantCores = needCores / utilization;
    const minVcpu = priceOf(prices, 'min-vcpu-per-process');
    const minGb = priceOf(prices, 'min-gb-per-process');
    // Even spread over the processes is an assumption: per-process CPU is not separated yet.
    const replicas = Math.max(1, Math.ceil(wantCores / processes));
    const vcpus = Math.max(wantCores, processes * minVcpu);
    const rssPerProcess = (inputs.peakRssBytes ?? 0) / processes;
    const memoryGb = Math.max((rssPerProcess * (1 + headroom) * processes * replicas) / GB, processes * replicas * minGb);
    const vcpuHour = priceOf(prices, 'vcpu-hour');
    const gbHour = priceOf(prices, 'gb-hour');
    const lines = [
      line(`${round(vcpus, 2)} vCPU all month`, vcpus * HOURS_PER_MONTH, 'vCPU-hours', 'vcpu-hour', vcpus * HOURS_PER_MONTH * vcpuHour),
      line(`${round(memoryGb, 2)} GB all month`, memoryGb * HOURS_PER_MONTH, 'GB-hours', 'gb-hour', memoryGb * HOURS_PER_MONTH * gbHour),
    ];
    const idleRssPerProcess = (inputs.idleRssBytes ?? inputs.peakRssBytes ?? 0) / processes;
    const idleMonthly = processes * (minVcpu * vcpuHour + Math.max(minGb, (idleRssPerProcess * (1 + headroom)) / GB) * gbHour) * HOURS_PER_MONTH;
    notes.push(
      `sized for ${profile.peakRps} req/s at ${round(cpuMsPerRequest, 3)} CPU-ms per request: ${round(needCores, 2)} cores needed, planned at ${utilization * 100} % utilisation; memory = peak RSS × ${1 + headroom}; ${replicas} replica${replicas === 1 ? '' : 's'} of each of ${processes} process${processes === 1 ? '' : 'es'}, paid all month`,
    );
    return {
      topology: inputs.topology,
      profile: profile.name,
      model: 'provisioned',
      monthlyUsd:
        missing.length > 0
          ? null
          : round(
              lines.reduce((s, l) => s + l.usd, 0),
              2,
            ),
      idleMonthlyUsd: missing.length > 0 ? null : round(idleMonthly, 2),
      lines,
      provisioned: { vcpus: round(vcpus, 3), memoryGiB: round((memoryGb * GB) / 2 ** 30, 3), replicas },
      notes: missing.length > 0 ? [`not estimated: ${missing.join(', ')} not measured`, ...notes] : notes,
    };
  }

  const requests = monthlyRequests(profile);
  const orders = requests * profile.orderShare;
  const perOrder = inputs.requestsPerOrder ?? 1;
  if (inputs.requestsPerOrder === null) notes.push('requests per order not measured: counted as 1 (only the public request)');
  const invocations = requests - orders + orders * perOrder;
  const cpuMs = requests * cpuMsPerRequest;
  const plan = priceOf(prices, 'workers-plan-month');
  const extraRequests = Math.max(0, invocations - priceOf(prices, 'workers-included-requests'));
  const extraCpuMs = Math.max(0, cpuMs - priceOf(prices, 'workers-included-cpu-ms'));
  // Billed duration at the profile's mix of reads and orders, like the CPU; a file without the
  // per-kind figures has only the wall time of its runs as they came.
  const readWall = inputs.wallMsPerRead ?? null;
  const orderWall = inputs.wallMsPerOrder ?? null;
  const wallMsPerRequest =
    readWall !== null && orderWall !== null ? (1 - profile.orderShare) * readWall + profile.orderShare * orderWall : (inputs.wallMs ?? 0);
  const gbSeconds = requests * (wallMsPerRequest / 1000) * priceOf(prices, 'gb-per-invocation');
  const queueOps = orders * (inputs.queueMessagesPerOrder ?? 0) * 3;
  if (inputs.queueMessagesPerOrder === null) notes.push('queue messages per order not measured: queue operations not priced');
  const extraQueueOps = Math.max(0, queueOps - priceOf(prices, 'queue-included-operations'));
  // Rows per order: the measured figure, else the d1-rows-written-per-order assumption; a value the
  // user set (`--price d1-rows-written-per-order=N`) wins over both, and the note says what it replaced.
  const measuredRows = inputs.rowsWrittenPerOrder ?? null;
  const rowsAssumption = prices.find((p) => p.id === 'd1-rows-written-per-order');
  const rowsSetBy = rowsAssumption?.overriddenBy;
  const rowsPerOrder = rowsSetBy !== undefined ? rowsAssumption!.value : (measuredRows ?? priceOf(prices, 'd1-rows-written-per-order'));
  const rowsWritten = orders * rowsPerOrder;
  notes.push(
    rowsSetBy !== undefined
      ? `D1 rows per order: ${rowsPerOrder}, set by ${rowsSetBy}${measuredRows === null ? ' (not measured)' : `, overriding the ${round(measuredRows, 2)} measured`}`
      : measuredRows === null
        ? `D1 rows per order: the assumption d1-rows-written-per-order (${rowsPerOrder}), not measured`
        : `D1 rows per order measured: ${round(measuredRows, 2)}`,
  );
  const extraRows = Math.max(0, rowsWritten - priceOf(prices, 'd1-included-rows-written'));
  const lines = [
    line('Workers Paid plan', 1, 'month', 'workers-plan-month', plan),
    line(
      `${round(invocations / 1e6, 2)} M invocations (${round(extraRequests / 1e6, 2)} M beyond the plan)`,
      extraRequests / 1e6,
      'million requests',
      'workers-request-million',
      (extraRequests / 1e6) * priceOf(prices, 'workers-request-million'),
    ),
    line(
      `${round(cpuMs / 1e6, 2)} M CPU-ms (${round(extraCpuMs / 1e6, 2)} M beyond the plan)`,
      extraCpuMs / 1e6,
      'million CPU-ms',
      'workers-cpu-ms-million',
      (extraCpuMs / 1e6) * priceOf(prices, 'workers-cpu-ms-million'),
    ),
    line(`${round(gbSeconds, 0)} GB-s`, gbSeconds, 'GB-seconds', 'gb-second', gbSeconds * priceOf(prices, 'gb-second')),
    line(
      `${round(queueOps / 1e6, 2)} M queue operations`,
      extraQueueOps / 1e6,
      'million operations',
      'queue-operation-million',
      (extraQueueOps / 1e6) * priceOf(prices, 'queue-operation-million'),
    ),
    line(
      `${round(rowsWritten / 1e6, 2)} M D1 rows written`,
      extraRows / 1e6,
      'million rows',
      'd1-rows-written-million',
      (extraRows / 1e6) * priceOf(prices, 'd1-rows-written-million'),
    ),
  ];
  notes.push(
    `${round(requests / 1e6, 2)} M requests a month at ${round(cpuMsPerRequest, 3)} CPU-ms each (measured on the local workerd, which includes runtime overhead the platform does not bill); nothing paid for idle compute`,
  );
  return {
    topology: inputs.topology,
    profile: profile.name,
    model: 'per-request',
    monthlyUsd:
      missing.length > 0
        ? null
        : round(
            lines.reduce((s, l) => s + l.usd, 0),
            2,
          ),
    idleMonthlyUsd: round(plan, 2),
    lines,
    notes: missing.length > 0 ? [`not estimated: ${missing.join(', ')} not measured`, ...notes] : notes,
  };
}

/**
 * The cost section of a comparison: every topology at every profile, with the prices used.
 * @example costSection(comparison.topologies, (t) => (t.name === 'serverless' ? 'per-request' : 'provisioned'))
 */
export function costSection(
  topologies: readonly TopologyResult[],
  billingOf: (topology: TopologyResult) => BillingModel,
  options: CostOptions & { profiles?: readonly LoadProfile[] } = {},
): CostSection {
  const prices = [...(options.prices ?? DEFAULT_PRICES)];
  const profiles = [...(options.profiles ?? DEFAULT_LOAD_PROFILES)];
  const headroom = options.headroom ?? 0.3;
  const targetUtilization = options.targetUtilization ?? 0.6;
  return {
    currency: 'USD',
    hoursPerMonth: HOURS_PER_MONTH,
    headroom,
    targetUtilization,
    prices,
    profiles,
    estimates: profiles.flatMap((profile) =>
      topologies.map((t) => estimateCost(costInputsOf(t, billingOf(t)), profile, { prices, headroom, targetUtilization })),
    ),
  };
}

/** Seconds in the month the cost model uses (for tests and readers). */
export const MONTH_SECONDS = SECONDS_PER_MONTH;
