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

async function main() {
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
