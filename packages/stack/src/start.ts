import { spawnSync } from 'node:child_process';
import { REPO_ROOT, describeEvent, serveSupervisorMetrics, stopOnSignals } from '@archbench/topologies';
import type { RunningStack } from './stack';
import { StackError, describeStack, planStack, startStack } from './stack';

/**
 * `pnpm start`: builds the frontend, then runs every topology of the registry that can run here
 * (one per family: monolith on 3000, microservices on 3100-3104, hybrid on 3200, serverless on
 * 3300; `<NAME>_PORT` moves one) and the frontend (FRONTEND_PORT, 5173) side by side, seeded,
 * supervised (a crashed process is restarted with backoff), and prints their URLs, pids and
 * restarts. Ctrl-C, SIGTERM, or its parent (pnpm) going away stops every process.
 * DATA_DIR (default ./data) holds each topology's databases; TOPOLOGIES=a,b starts only those;
 * DIST_DIR=<folder> serves an existing frontend build instead of building one.
 */
// The launcher is the entry that configures its children, so it reads the environment here.
// eslint-disable-next-line no-restricted-properties -- entry file: hands the whole env to planStack and the children
const env = process.env;

const START_USAGE = `usage: pnpm start [--help]

Builds the frontend, then starts every topology that can run here side by side, seeded and
supervised (a crashed process is restarted with backoff), and the frontend; prints their URLs,
pids and restarts. Ctrl-C or SIGTERM stops every process (each server drains first); a second
Ctrl-C kills them at once (exit 130). It takes no arguments; the environment configures it:

  TOPOLOGIES=a,b      start only these (monolith, microservices, hybrid, serverless; default all)
  <NAME>_PORT         move one topology (MONOLITH_PORT 3000, MICROSERVICES_PORT 3100 (its
                      services on the next four), HYBRID_PORT 3200, SERVERLESS_PORT 3300)
  FRONTEND_PORT       the frontend's port (default 5173)
  SUPERVISOR_PORT     restart counts on /metrics and /processes (default 3009; off for none)
  HOST                the address every process listens on (default 127.0.0.1)
  DATA_DIR            each topology's databases in DATA_DIR/<name> (default ./data)
  DIST_DIR            serve this existing frontend build instead of building one
  AMQP_URL            run the microservices over RabbitMQ instead of HTTP
  LOG_LEVEL           the servers' log level (default warn)
Everything else in the environment (AUTH_SECRET, DATABASE_URL, …) passes to every server.
`;

/** `--help`/`-h` prints the usage and exits 0; anything else on the command line exits 2 with one line. */
function readArgs(argv: readonly string[]): void {
  const args = argv[0] === '--' ? argv.slice(1) : argv;
  if (args.some((a) => a === '--help' || a === '-h')) {
    process.stdout.write(START_USAGE);
    process.exit(0);
  }
  if (args.length > 0) {
    const what = args[0]!.startsWith('-') ? `unknown option ${args[0]}` : `unexpected argument ${JSON.stringify(args[0])}`;
    throw new StackError(`${what}: pnpm start takes no arguments (configure it with TOPOLOGIES, <NAME>_PORT, …; see pnpm start --help)`);
  }
}

async function main() {
  readArgs(process.argv.slice(2));
  const plan = planStack(env);
  if (!env.DIST_DIR) {
    process.stderr.write('building the frontend…\n');
    const build = spawnSync('pnpm', ['--filter', '@archbench/frontend', 'build'], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    if (build.status !== 0) throw new StackError('the frontend build failed (see above)');
  }

  const state: { stack?: RunningStack; stopping: boolean; closeMetrics?: () => Promise<void> } = { stopping: false };
  const stop = async (why: string) => {
    if (state.stopping) return;
    state.stopping = true;
    process.stderr.write(`${why}: stopping every process…\n`);
    await state.closeMetrics?.();
    await state.stack?.stop();
    process.exit(0);
  };
  stopOnSignals((why) => void stop(why));

  const stack = await startStack(plan, {
    env,
    output: process.stderr,
    progress: (line) => process.stderr.write(`${line}\n`),
    onEvent: (event) => {
      const line = describeEvent(event);
      if (line && !state.stopping) process.stderr.write(`${line}\n`);
    },
  });
  state.stack = stack;
  if (state.stopping) return void (await stack.stop());
  let supervisorUrl: string | undefined;
  if (plan.supervisorPort !== undefined) {
    try {
      const served = await serveSupervisorMetrics(() => stack.topologies.map((t) => t.topology), plan.supervisorPort, plan.host);
      state.closeMetrics = served.close;
      supervisorUrl = `http://${plan.host}:${served.port}`;
    } catch (error) {
      process.stderr.write(
        `no supervisor metrics endpoint on ${plan.supervisorPort} (${error instanceof Error ? error.message : String(error)}); set SUPERVISOR_PORT\n`,
      );
    }
  }
  process.stdout.write(describeStack(stack, supervisorUrl));
}

main().catch((error: unknown) => {
  process.stderr.write(`start failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(error instanceof StackError ? 2 : 1);
});
