import type { RunningTopology, TopologyEvent } from './start-topology';

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 0)} s`;

/** One line per restart, exit and recovery, so a crash loop is visible in the terminal. */
export function describeEvent(event: TopologyEvent): string | undefined {
  const who = `${event.topology}/${event.process}`;
  if (event.type === 'exited') {
    const how = event.signal ? `signal ${event.signal}` : `exit code ${event.code}`;
    const next = event.restartInMs === undefined ? 'not restarting' : `restart #${event.restarts + 1} in ${event.restartInMs} ms`;
    return `supervisor: ${who} (pid ${event.pid}) exited with ${how} after ${seconds(event.uptimeMs)}; ${next}`;
  }
  if (event.type === 'ready' && event.restarts > 0) {
    return `supervisor: ${who} ready again (pid ${event.pid}, restart #${event.restarts}), ${event.sinceExitMs} ms after it exited`;
  }
  return undefined;
}

/** The startup table: public URL, then each process with its port, pid and capabilities. */
export function describeTopology(topology: RunningTopology, supervisorUrl: string | undefined, postgres = false): string {
  const d = topology.definition;
  const width = Math.max(...topology.processes.map((p) => p.name.length));
  const lines = [
    `archbench ${d.name} ready: ${topology.baseUrl}   (public API, GET /openapi.json)`,
    `  storage: ${topology.definition.storage}; DATA_DIR ${topology.dataDir}${postgres ? ' (DATABASE_URL set: PostgreSQL)' : ''}`,
    `  transport: ${d.transport}`,
    ...topology.processes.map((p) => `  ${p.name.padEnd(width)}  ${p.url}   pid ${p.pid}   restarts ${p.restarts}   ${p.capabilities.join(', ')}`),
    supervisorUrl
      ? `  supervisor metrics: ${supervisorUrl}/metrics (archbench_process_restarts_total), ${supervisorUrl}/processes`
      : '  supervisor metrics: off',
  ];
  return lines.join('\n');
}
