import { isAbsolute, join, resolve } from 'node:path';
import { LauncherConfigError, childEnvironment, invokedAs, loadLauncherEnv, portVariable, processPorts } from './env';
import { serveSupervisorMetrics } from './metrics';
import { stopOnSignals } from './parent';
import { REPO_ROOT, UnknownTopologyError, getTopology, topologyNames } from './registry';
import { TopologyStartError, TopologyUnavailableError, startTopology } from './start-topology';
import type { RunningTopology } from './start-topology';
import { describeEvent, describeTopology } from './describe';

/**
 * `pnpm start:<topology>` (bin `archbench-topology <topology>`): starts one topology supervised
 * by this process, prints its processes, restarts any that crash (with backoff, each restart
 * logged), serves the restart counts on SUPERVISOR_PORT (default PORT+9), and stops every
 * process on Ctrl-C, SIGTERM, or when its parent (pnpm) goes away: each server gets its drain
 * (SHUTDOWN_DRAIN_MS) + 10 s before SIGKILL, and a second Ctrl-C or SIGTERM kills them all at once.
 * Exit codes: 0 stopped by a signal, 1 a process could not start or a port it needs is taken
 * (refused before anything starts), 2 bad arguments or environment, 128 + the signal's number
 * (130 for Ctrl-C) when a second signal killed every process at once.
 */
const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The usage line, naming the command the user ran (`pnpm start:monolith`) when pnpm ran it. */
function usageLine(argv: readonly string[]): string {
  const command = invokedAs();
  const topology = argv.find((a) => !a.startsWith('-'));
  if (command && topology) return `usage: ${command}`;
  return `usage: archbench-topology <topology>   (known: ${topologyNames().join(', ')}, microservices)`;
}

function help(argv: readonly string[]): string {
  const topology = argv.find((a) => !a.startsWith('-'));
  return `${usageLine(argv)}

Starts ${topology ? `${topology} (archbench-topology ${topology})` : 'the topology'} supervised by this process: a process
that crashes is restarted with backoff. Prints its processes; Ctrl-C or SIGTERM stops them all
(each server lets its requests finish first: SHUTDOWN_DRAIN_MS); a second Ctrl-C kills them at once.

environment:
  PORT              the public port (default the topology's own); other processes take PORT+1…
  <PROCESS>_PORT    move one process (INVENTORY_PORT, PAYMENTS_PORT, …)
  HOST              the address to listen on (default 127.0.0.1)
  DATA_DIR          the databases (default apps/<app>/data; relative to where pnpm ran)
  SUPERVISOR_PORT   restart counts on /metrics and /processes (default PORT+9; off for none)
  RUNNER            bundle (default) or tsx
everything else (AUTH_SECRET, DATABASE_URL, AMQP_URL, LOG_LEVEL, …) passes to the processes.

exit codes: 0 stopped by a signal, 1 a process could not start or a port it needs is taken, 2 bad arguments or environment,
  130 (128 + the signal's number) a second signal killed every process at once
`;
}

async function main(args: string[]): Promise<void> {
  const argv = args.filter((a) => a !== '--');
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(help(argv));
    process.exit(0);
  }
  const option = argv.find((a) => a.startsWith('-'));
  if (option !== undefined) throw new UsageError(`unknown option ${option} (${usageLine(argv)})`);
  if (argv.length !== 1) {
    throw new UsageError(argv.length === 0 ? usageLine(argv) : `one topology only, got ${argv.join(' ')} (${usageLine(argv)})`);
  }
  const env = loadLauncherEnv();
  const childEnv = childEnvironment();
  const definition = getTopology(argv[0]!, childEnv);
  const base = env.INIT_CWD ?? process.cwd();
  const dataDir = env.DATA_DIR ? (isAbsolute(env.DATA_DIR) ? env.DATA_DIR : resolve(base, env.DATA_DIR)) : join(REPO_ROOT, definition.app, 'data');
  const port = env.PORT ?? definition.defaultPort;
  const ports = processPorts(definition.processes.filter((p) => p.name !== definition.publicProcess).map((p) => p.name));
  // Named when a port is taken: the launcher refuses it before starting anything.
  const portSettings = Object.fromEntries(
    definition.processes.map((p) => {
      if (p.name === definition.publicProcess) return [p.name, 'PORT'];
      return [p.name, ports[p.name] !== undefined ? portVariable(p.name) : `PORT+${p.portOffset}; ${portVariable(p.name)} moves it`];
    }),
  );
  const supervisorPort = env.SUPERVISOR_PORT === 'off' ? undefined : (env.SUPERVISOR_PORT ?? (port === 0 ? 0 : port + 9));
  const supervisorSetting = env.SUPERVISOR_PORT === undefined ? 'supervisor: PORT+9; SUPERVISOR_PORT moves it, off for none' : 'supervisor: SUPERVISOR_PORT';

  // Set once started; the signal handlers are installed before, so a Ctrl-C during startup stops what runs.
  const running: { topology?: RunningTopology } = {};
  let stopping = false;
  let closeMetrics: (() => Promise<void>) | undefined;
  const shutdown = async (why: string) => {
    if (stopping) return;
    stopping = true;
    err(`launcher: ${why}, stopping every process`);
    await closeMetrics?.();
    await running.topology?.stop();
    process.exit(0);
  };
  stopOnSignals((why) => void shutdown(why));

  const topology = await startTopology(definition, {
    port,
    ports,
    portSettings,
    extraPorts: supervisorPort ? [{ port: supervisorPort, what: supervisorSetting }] : [],
    host: env.HOST,
    env: childEnv,
    dataDir,
    runner: env.RUNNER,
    output: 'inherit',
    onEvent: (event) => {
      const line = describeEvent(event);
      if (line && !stopping) err(line);
    },
  });
  running.topology = topology;
  if (stopping) return void (await topology.stop());
  let supervisorUrl: string | undefined;
  if (supervisorPort !== undefined) {
    try {
      const served = await serveSupervisorMetrics(() => [topology], supervisorPort, env.HOST);
      closeMetrics = served.close;
      supervisorUrl = `http://${env.HOST === '0.0.0.0' ? '127.0.0.1' : env.HOST}:${served.port}`;
    } catch (error) {
      err(`launcher: no supervisor metrics endpoint (${error instanceof Error ? error.message : String(error)}); set SUPERVISOR_PORT`);
    }
  }
  out(describeTopology(topology, supervisorUrl, Boolean(childEnv.DATABASE_URL)));
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (
    error instanceof UsageError ||
    error instanceof UnknownTopologyError ||
    error instanceof LauncherConfigError ||
    error instanceof TopologyUnavailableError
  ) {
    err(`archbench-topology: ${error.message}`);
    process.exit(2);
  }
  err(`archbench-topology: ${error instanceof TopologyStartError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
