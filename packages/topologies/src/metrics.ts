import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { RunningTopology } from './start-topology';

/**
 * Prometheus text of the supervisor: restarts and liveness of every process it runs.
 * @example supervisorMetricsText([topology]) // 'archbench_process_restarts_total{topology="monolith",process="monolith"} 0\n…'
 */
export function supervisorMetricsText(topologies: readonly RunningTopology[]): string {
  const restarts = [
    '# HELP archbench_process_restarts_total Times the supervisor started a process again after it exited unexpectedly.',
    '# TYPE archbench_process_restarts_total counter',
  ];
  const up = ['# HELP archbench_process_up 1 while the process is running and ready.', '# TYPE archbench_process_up gauge'];
  for (const topology of topologies) {
    for (const p of topology.processes) {
      const labels = `{topology="${topology.name}",process="${p.name}"}`;
      restarts.push(`archbench_process_restarts_total${labels} ${p.restarts}`);
      up.push(`archbench_process_up${labels} ${p.state === 'ready' ? 1 : 0}`);
    }
  }
  return `${[...restarts, ...up].join('\n')}\n`;
}

/**
 * A small HTTP endpoint of the supervisor: `GET /metrics` (the text above) and `GET /processes`
 * (JSON: every process's pid, port, state and restarts). Resolves with the bound port.
 * @example const { port, close } = await serveSupervisorMetrics(() => [topology], 3009)
 */
export async function serveSupervisorMetrics(
  topologies: () => readonly RunningTopology[],
  port: number,
  host = '127.0.0.1',
): Promise<{ port: number; close: () => Promise<void> }> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method === 'GET' && path === '/metrics') {
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(supervisorMetricsText(topologies()));
    } else if (request.method === 'GET' && path === '/processes') {
      const body = topologies().map((t) => ({ topology: t.name, url: t.baseUrl, processes: t.processes }));
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    } else {
      response
        .writeHead(404, { 'content-type': 'application/problem+json' })
        .end(JSON.stringify({ type: 'about:blank', title: 'Not found', status: 404, detail: 'the supervisor serves GET /metrics and GET /processes' }));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  server.unref();
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
