import { join, resolve } from 'node:path';
import {
  DEFAULT_RESTART_POLICY,
  ProcessSupervisor,
  REPO_ROOT,
  TSX_LOADER,
  TopologyStartError,
  displayName,
  runnableSideBySide,
  getTopology,
  portInUse,
  portsInUseMessage,
  startTopology,
  topologyNames,
  topologyUnavailable,
} from '@archbench/topologies';
import type { RunningTopology, TopologyDefinition, TopologyEvent } from '@archbench/topologies';

export class StackError extends Error {
  override readonly name = 'StackError';
}

/** One topology of `pnpm start`: where it listens and keeps its data, or why it is left out. */
export interface PlannedTopology {
  definition: TopologyDefinition;
  /** What the frontend and the table call it: the family name (`microservices`) or the topology name. */
  id: string;
  port: number;
  dataDir: string;
  /** Why it cannot run here (it is skipped), or undefined. */
  skip: string | undefined;
}

export interface StackPlan {
  host: string;
  topologies: PlannedTopology[];
  frontendPort: number;
  /** The supervisor's /metrics (archbench_process_restarts_total) and /processes. */
  supervisorPort: number | undefined;
  dataDir: string;
}

const portOf = (name: string, value: string | undefined, fallback: number): number => {
  if (value === undefined || value === '') return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new StackError(`${name} must be a port number, got ${JSON.stringify(value)}`);
  return port;
};

/**
 * Why a registered variant is not the one its family runs here, and how to choose it:
 * `microservices-amqp` without AMQP_URL, `microservices-http` with AMQP_URL set.
 */
function notChosen(variant: string, env: Readonly<NodeJS.ProcessEnv>): string {
  const family = displayName(getTopology(variant));
  const chosen = getTopology(family, env).name;
  const transport = variant.startsWith(`${family}-`) ? variant.slice(family.length + 1) : undefined;
  // AMQP_URL alone picks the amqp variant (unless TRANSPORT says otherwise).
  const how = transport === undefined ? 'see pnpm start --help' : transport === 'amqp' && !env.AMQP_URL ? 'set AMQP_URL' : `set TRANSPORT=${transport}`;
  return `${variant}, which pnpm start does not run with this environment (it runs ${family} as ${chosen}; ${how} to run ${variant})`;
}

/** `MICROSERVICES_PORT` for `microservices`, `HYBRID_PORT` for `hybrid` … */
const portVariable = (id: string) => `${id.toUpperCase().replace(/-/g, '_')}_PORT`;

/**
 * What `pnpm start` runs, from the topology registry and the environment: one topology per family
 * (the variant the environment picks, e.g. microservices over RabbitMQ when AMQP_URL is set), each
 * on `<NAME>_PORT` (default its own port), with its data in DATA_DIR/<name>; the frontend on
 * FRONTEND_PORT (5173); the supervisor's metrics on SUPERVISOR_PORT (3009, `off` for none).
 * TOPOLOGIES=monolith,hybrid limits it to some.
 * @example planStack({}).topologies.map((t) => `${t.id}:${t.port}`) // ['monolith:3000', 'microservices:3100', …]
 */
export function planStack(env: Readonly<NodeJS.ProcessEnv>): StackPlan {
  const host = env.HOST || '127.0.0.1';
  const dataDir = resolve(REPO_ROOT, env.DATA_DIR ?? 'data');
  const wanted = env.TOPOLOGIES
    ? env.TOPOLOGIES.split(',')
        .map((t) => t.trim())
        .filter(Boolean)
    : undefined;
  const all = runnableSideBySide(env);
  if (wanted) {
    const missing = wanted.filter((w) => !all.some((d) => d.name === w || displayName(d) === w));
    // A variant of a family that runs another variant here (microservices-amqp without AMQP_URL) is known, just not chosen.
    const variants = missing.filter((w) => topologyNames().includes(w));
    if (variants.length) throw new StackError(`TOPOLOGIES names ${variants.map((v) => notChosen(v, env)).join('; ')}`);
    if (missing.length) throw new StackError(`TOPOLOGIES names unknown topologies: ${missing.join(', ')} (known: ${all.map(displayName).join(', ')})`);
  }
  const topologies = all
    .filter((d) => !wanted || wanted.includes(d.name) || wanted.includes(displayName(d)))
    .map((definition) => {
      const id = displayName(definition);
      return {
        definition,
        id,
        port: portOf(portVariable(id), env[portVariable(id)], definition.defaultPort),
        dataDir: join(dataDir, id),
        skip: topologyUnavailable(definition, env),
      };
    });
  const supervisor = env.SUPERVISOR_PORT === 'off' ? undefined : portOf('SUPERVISOR_PORT', env.SUPERVISOR_PORT, 3009);
  return { host, topologies, frontendPort: portOf('FRONTEND_PORT', env.FRONTEND_PORT, 5173), supervisorPort: supervisor, dataDir };
}

/** `BACKENDS` for the frontend: `id=url` of every running topology, in registry order. */
export function frontendBackends(running: readonly { id: string; topology: RunningTopology }[]): string {
  return running.map(({ id, topology }) => `${id}=${topology.baseUrl}`).join(',');
}

export interface RunningStack {
  topologies: { id: string; topology: RunningTopology }[];
  /** Topologies left out, with the reason (cannot run here, or failed to start). */
  skipped: { id: string; reason: string }[];
  frontend: ProcessSupervisor;
  frontendUrl: string;
  stop(): Promise<void>;
}

export interface StartStackOptions {
  env: NodeJS.ProcessEnv;
  /** Each process's output lines, prefixed with its name. */
  output: NodeJS.WritableStream;
  onEvent?: (event: TopologyEvent) => void;
  /** Progress lines (`starting hybrid…`). */
  progress?: (line: string) => void;
}

/**
 * Starts every planned topology (one after another: a 2-core machine starts them faster that
 * way than all at once), then the frontend with BACKENDS listing the ones that came up. A
 * topology that fails to start is reported and left out; the stack fails only if none starts.
 */
export async function startStack(plan: StackPlan, options: StartStackOptions): Promise<RunningStack> {
  const progress = options.progress ?? (() => undefined);
  const topologies: { id: string; topology: RunningTopology }[] = [];
  const skipped: { id: string; reason: string }[] = [];
  const base = { ...options.env, LOG_LEVEL: options.env.LOG_LEVEL ?? 'warn' };
  const stopAll = async () => {
    await Promise.all(topologies.map(({ topology }) => topology.stop()));
  };
  // The console's port is checked before the topologies start: found busy after them, they would all be stopped again.
  if (plan.frontendPort !== 0 && (await portInUse(plan.frontendPort, plan.host)))
    throw new StackError(portsInUseMessage('frontend', [{ port: plan.frontendPort, what: 'FRONTEND_PORT' }]));
  for (const planned of plan.topologies) {
    if (planned.skip) {
      skipped.push({ id: planned.id, reason: planned.skip });
      continue;
    }
    progress(`starting ${planned.id} (${planned.definition.name})…`);
    try {
      const variable = portVariable(planned.id);
      const topology = await startTopology(planned.definition, {
        port: planned.port,
        // Named when a port is in use: `MONOLITH_PORT`, `MICROSERVICES_PORT+3` (PORT+offset).
        portSettings: Object.fromEntries(
          planned.definition.processes.map((p) => [p.name, p.name === planned.definition.publicProcess ? variable : `${variable}+${p.portOffset}`]),
        ),
        host: plan.host,
        env: base,
        dataDir: planned.dataDir,
        output: { prefix: options.output },
        onEvent: options.onEvent,
      });
      topologies.push({ id: planned.id, topology });
    } catch (error) {
      if (!(error instanceof TopologyStartError)) {
        await stopAll();
        throw error;
      }
      skipped.push({ id: planned.id, reason: `did not start: ${error.message}` });
      progress(`${planned.id} did not start; continuing without it:\n${error.message}`);
    }
  }
  if (topologies.length === 0) throw new StackError(`no topology started (${skipped.map((s) => `${s.id}: ${s.reason}`).join('; ')})`);

  const frontendUrl = `http://${plan.host}:${plan.frontendPort}`;
  const frontendDir = join(REPO_ROOT, 'apps/frontend');
  const frontend = new ProcessSupervisor(
    {
      name: 'frontend',
      command: process.execPath,
      args: ['--import', TSX_LOADER, join(frontendDir, 'server.ts')],
      cwd: frontendDir,
      env: { ...base, HOST: plan.host, PORT: String(plan.frontendPort), BACKENDS: frontendBackends(topologies) },
      readyUrl: `${frontendUrl}/config.json`,
      portSetting: 'FRONTEND_PORT',
    },
    {
      output: { prefix: options.output },
      restart: DEFAULT_RESTART_POLICY,
      onEvent: options.onEvent ? (e) => options.onEvent!({ ...e, topology: 'stack' }) : undefined,
    },
  );
  progress('starting the frontend…');
  try {
    await frontend.start(60_000);
  } catch (error) {
    await stopAll();
    throw new StackError(`the frontend did not start: ${error instanceof Error ? error.message : String(error)}`);
  }
  return {
    topologies,
    skipped,
    frontend,
    frontendUrl,
    async stop() {
      await frontend.stop();
      await stopAll();
    },
  };
}

/** The table `pnpm start` prints: each topology's public URL, processes, pids and restarts. */
export function describeStack(stack: RunningStack, supervisorUrl: string | undefined): string {
  const lines = [
    '',
    'archbench is running:',
    `  frontend        ${stack.frontendUrl}   order console, concurrency lab, report viewer   pid ${stack.frontend.pid}   restarts ${stack.frontend.restarts}`,
  ];
  for (const { id, topology } of stack.topologies) {
    lines.push(`  ${id.padEnd(14)}  ${topology.baseUrl}   public API (GET /openapi.json)   ${topology.definition.name}`);
    for (const p of topology.processes)
      lines.push(`      ${p.name.padEnd(10)}  ${p.url}   pid ${p.pid}   restarts ${p.restarts}   ${p.capabilities.join(', ')}`);
  }
  for (const s of stack.skipped) lines.push(`  ${s.id.padEnd(14)}  skipped: ${s.reason.split('\n')[0]}`);
  lines.push(
    '',
    supervisorUrl ? `restarts: ${supervisorUrl}/metrics (archbench_process_restarts_total), ${supervisorUrl}/processes` : 'restarts: SUPERVISOR_PORT=off',
    'tokens: pnpm dev-token --sub alice    stop: Ctrl-C',
    '',
  );
  return lines.join('\n');
}
