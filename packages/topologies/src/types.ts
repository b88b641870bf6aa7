/**
 * What a topology is, as data: the processes it runs, where their entries live, which ports and
 * environment each gets, and when it cannot run here. One file under `src/topologies/` per
 * topology exports one `TopologyDefinition`; the supervisor (start-topology.ts) runs any of them.
 */

/** The domain parts a process can hold; `gateway` is the public edge that routes to the others. */
export type Capability = 'catalog' | 'orders' | 'payments' | 'shipping' | 'gateway';

/** Ports after the public one, in this order, in every topology (tools and runbooks rely on it). */
export const PORT_OFFSETS = { public: 0, inventory: 1, orders: 2, payments: 3, shipping: 4 } as const;

/**
 * How a deployment of the topology is paid for, in the terms of the cost model
 * (`BillingModel` in @archbench/contracts/cost): `provisioned` capacity sized for the peak and paid
 * all month, or `per-request` (a serverless platform: requests and CPU time, nothing at rest).
 */
export type Billing = 'provisioned' | 'per-request';

/** What a definition's hooks get to compute environments and availability. */
export interface TopologyContext {
  /** The environment every child starts from (already holding PORT-independent settings). */
  env: Readonly<NodeJS.ProcessEnv>;
  host: string;
  /** The public port; processes listen on `port + portOffset`. */
  port: number;
  /** Port of each process by name. */
  ports: Readonly<Record<string, number>>;
  /** `http://host:port` of each process by name. */
  urls: Readonly<Record<string, string>>;
  /** Absolute path of the repository root (entries are resolved against it). */
  root: string;
}

/** Why a topology cannot run here is answered from the environment alone (no ports yet). */
export interface AvailabilityContext {
  env: Readonly<NodeJS.ProcessEnv>;
  root: string;
}

export interface ProcessDefinition {
  /** Unique within the topology: `monolith`, `gateway`, `payments`, `core` … */
  name: string;
  /** Entry file relative to the topology's `app` folder, e.g. `src/main.ts`. */
  entry: string;
  /** Listens on the topology's PORT + this (see PORT_OFFSETS). */
  portOffset: number;
  /** Which domain capabilities run in this process (compare's fault drills kill `payments`). */
  capabilities: readonly Capability[];
  /** Extra environment of this process (PORT, HOST and DATA_DIR are set by the supervisor). */
  env?: (context: TopologyContext) => Record<string, string>;
  /**
   * How it runs: `bundle` (default) bundles the entry with esbuild and runs it on plain Node;
   * `tsx` runs the TypeScript through the tsx loader (for entries esbuild cannot bundle).
   */
  runner?: 'bundle' | 'tsx';
  /**
   * It runs a server-kit server (`serveWithShutdown`, SHUTDOWN_DRAIN_MS): stop() then waits for
   * its drain and closing before SIGKILL. Unset (a launcher such as the serverless one, or any
   * server without a drain): SIGKILL after stop()'s grace.
   */
  serverKit?: boolean;
  /** Answers 200 once the process can serve (default `/ready`). */
  readyPath?: string;
  /** Prometheus text of the process, or null when it has none (default `/metrics`). */
  metricsPath?: string | null;
  /** Processes that must be ready before this one starts (the gateway waits for the services). */
  after?: readonly string[];
  /**
   * What `snapshot()` counts for it: `tree` (default) the process and everything it spawned;
   * `children` only what it spawned, for a local launcher that a deployment does not have (the
   * serverless Node host around workerd): neither its memory nor its own CPU time is counted.
   */
  measure?: 'tree' | 'children';
}

export interface TopologyDefinition {
  /** Registry key and `pnpm compare` topology name: `monolith`, `microservices-http` … */
  name: string;
  /**
   * Variants of one app that share ports (microservices-http and -amqp are family
   * `microservices`): `pnpm start` runs one per family, the frontend calls it by the family name,
   * and the family name is an alias that picks the variant from the environment.
   */
  family?: string;
  /** Short label for tables and the frontend's backend selector. */
  title: string;
  /** One line on what it is. */
  description: string;
  /** The app folder relative to the repository root, e.g. `apps/monolith`. */
  app: string;
  /** Public port when PORT is not given (monolith 3000, microservices 3100, hybrid 3200, serverless 3300). */
  defaultPort: number;
  /** The process that serves the public API on `port` (offset 0). */
  publicProcess: string;
  processes: readonly ProcessDefinition[];
  /** How the state is stored: SQLite files in DATA_DIR by default, PostgreSQL with DATABASE_URL. */
  storage: string;
  /** How processes talk: `in-process`, `http`, `amqp` (needs AMQP_URL) … */
  transport: string;
  /** How it is paid for when deployed; `pnpm compare` prices it with this model. */
  billing: Billing;
  /** Environment of every process of the topology (e.g. TRANSPORT). */
  env?: (context: TopologyContext) => Record<string, string>;
  /** Why it cannot run here (e.g. AMQP_URL missing), or undefined when it can. */
  unavailable?: (context: AvailabilityContext) => string | undefined;
}

/** Defines a topology with its type checked; the identity function. */
export function defineTopology(definition: TopologyDefinition): TopologyDefinition {
  return definition;
}
