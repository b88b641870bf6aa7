import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedEngine } from '../src/engine/embedded-engine';
import { LatencyHistogram } from '../src/engine/histogram';
import { runScenario } from '../src/engine/run-scenario';
import type { RunProgress } from '../src/engine/run-scenario';
import type { ScenarioDefinition } from '../src/scenarios/index';

/** A tiny product server: answers GET /products/* after `delayMs`, 500 on /products/SKU-0000..0099 when told. */
interface TinyServer {
  url: string;
  server: Server;
  /** Blocks the server's event loop (a GC pause, a sync call) for `ms`, starting `afterMs` from now. */
  stallAfter: (afterMs: number, ms: number) => void;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

// The stall must block the server's own event loop while the load generator keeps scheduling, so
// the server runs in a child process; a blocked loop here would stall the generator too.
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

async function startChildServer(delayMs: number): Promise<TinyServer & { child: ChildProcess }> {
  const child = fork(new URL('./fixtures/tiny-server.ts', import.meta.url), [String(delayMs)], {
    execArgv: ['--import', import.meta.resolve('tsx')],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.push(child);
  const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
  return {
    url: `http://127.0.0.1:${port}`,
    server: undefined as unknown as Server,
    child,
    stallAfter: (afterMs, ms) => child.send({ stallAfterMs: afterMs, stallMs: ms }),
  };
}

async function startInProcessServer(handler: (path: string) => { status: number; delayMs: number }): Promise<string> {
  const server = createServer((req, res) => {
    const { status, delayMs } = handler(req.url ?? '/');
    setTimeout(() => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ items: [], nextCursor: null }));
    }, delayMs);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function openScenario(rate: number, durationSeconds: number, maxVUs = 200): ScenarioDefinition {
  return {
    name: 'probe',
    description: 'test scenario',
    mix: [{ kind: 'get-product', weight: 1 }],
    load: { executor: 'constant-arrival-rate', rate, durationSeconds, preAllocatedVUs: Math.min(10, maxVUs), maxVUs },
    thresholds: [],
  };
}

const tokens = ['test-token'];

describe('embedded engine, open model', () => {
  it('offers the scheduled rate and measures the server delay', async () => {
    const url = await startInProcessServer(() => ({ status: 200, delayMs: 20 }));
    const result = await runScenario({ baseUrl: url, scenario: openScenario(50, 2), tokens });
    expect(result.requests).toBe(100);
    expect(result.dropped).toBe(0);
    expect(result.failed).toBe(0);
    expect(result.statusCounts).toEqual({ '200': 100 });
    expect(result.loadModel).toBe('open');
    expect(result.latencyMs.p50).toBeGreaterThanOrEqual(19);
    // Throughput is the offered 50/s, give or take the last responses' tail on a busy machine.
    expect(result.requests / result.durationSeconds).toBeGreaterThan(30);
    expect(result.requests / result.durationSeconds).toBeLessThanOrEqual(50.5);
  });

  it('charges a server stall to every request scheduled during it (no coordinated omission)', async () => {
    const server = await startChildServer(2);
    // Warm the connection path, then stall the server for 500 ms one second into a 3 s run.
    await runScenario({ baseUrl: server.url, scenario: openScenario(20, 0.5), tokens });
    server.stallAfter(1000, 500);
    const open = await runScenario({ baseUrl: server.url, scenario: openScenario(100, 3), tokens });
    // ~50 requests fall inside the stall; each waits for the rest of it, so about a quarter of
    // 300 requests see 0..500 ms extra: p90 must show it, and the worst one waited ~500 ms.
    expect(open.requests).toBe(300);
    expect(open.dropped).toBe(0);
    expect(open.latencyMs.max).toBeGreaterThanOrEqual(450);
    expect(open.latencyMs.p90).toBeGreaterThanOrEqual(150);
    const histogram = LatencyHistogram.decode(open.histogram!);
    expect(histogram.percentileMs(85)).toBeGreaterThanOrEqual(50);

    // The same stall seen by a closed-model client (one VU, sends after each reply) is a single
    // slow request: the coordinated omission the open model avoids.
    server.stallAfter(1000, 500);
    const closed = await runScenario({
      baseUrl: server.url,
      scenario: { ...openScenario(1, 1), load: { executor: 'constant-vus', vus: 1, durationSeconds: 3 } },
      tokens,
    });
    expect(closed.latencyMs.max).toBeGreaterThanOrEqual(450);
    expect(closed.latencyMs.p90).toBeLessThan(open.latencyMs.p90 / 2);
  });

  it('counts from the scheduled time even when the generator itself falls behind', async () => {
    const url = await startInProcessServer(() => ({ status: 200, delayMs: 1 }));
    // Block this process (the generator) for 300 ms, 500 ms into the run: requests due in that
    // window go out late, and their latency must include the lateness.
    setTimeout(() => {
      const until = Date.now() + 300;
      while (Date.now() < until) {
        // busy wait on purpose
      }
    }, 500);
    const result = await runScenario({ baseUrl: url, scenario: openScenario(100, 2), tokens });
    expect(result.requests).toBe(200);
    // ~30 of 200 requests were due during the block, with 0..300 ms of lateness.
    expect(result.latencyMs.p95).toBeGreaterThanOrEqual(100);
    expect(result.latencyMs.max).toBeGreaterThanOrEqual(250);
  });

  it('drops and counts iterations when every VU is busy', async () => {
    const url = await startInProcessServer(() => ({ status: 200, delayMs: 200 }));
    const result = await runScenario({ baseUrl: url, scenario: openScenario(50, 2, 2), tokens });
    // Two VUs at 200 ms each complete ~20 of the 100 scheduled iterations; the rest are dropped.
    expect(result.requests + result.dropped).toBe(100);
    expect(result.dropped).toBeGreaterThan(60);
    expect(result.requests).toBeGreaterThanOrEqual(10);
  });

  it('counts unexpected statuses and transport errors as failures', async () => {
    const url = await startInProcessServer((path) => ({ status: /SKU-00[0-4]/.test(path) ? 500 : 200, delayMs: 1 }));
    const result = await runScenario({ baseUrl: url, scenario: openScenario(100, 1), tokens });
    expect(result.failed).toBe(result.statusCounts['500']);
    expect(result.failed).toBeGreaterThan(0);
    expect(result.failed).toBeLessThan(result.requests);

    const refused = await runScenario({ baseUrl: 'http://127.0.0.1:1', scenario: openScenario(20, 0.5), tokens, requestTimeoutMs: 1000 });
    expect(refused.statusCounts).toEqual({ '0': 10 });
    expect(refused.failed).toBe(10);
  });

  it('reports live progress as successful requests per second, with the failures counted beside them', async () => {
    let n = 0;
    const url = await startInProcessServer(() => ({ status: n++ % 2 === 0 ? 500 : 200, delayMs: 1 }));
    const progress: RunProgress[] = [];
    const result = await runScenario({ baseUrl: url, scenario: openScenario(100, 2.2), tokens, onProgress: (p) => progress.push(p) });
    expect(result.failed).toBeGreaterThan(0);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    for (const p of progress) {
      expect(p.failed).toBeGreaterThan(0);
      expect(p.failed).toBeLessThan(p.requests);
      // As the results count throughput: a failed request is none.
      expect(p.rps).toBeCloseTo((p.requests - p.failed) / p.elapsedSeconds, 6);
    }
  });
});

describe('embedded engine, closed model and child process', () => {
  it('runs in a child process of its own and reports progress', async () => {
    const url = await startInProcessServer(() => ({ status: 200, delayMs: 5 }));
    const engine = await EmbeddedEngine.start();
    try {
      const progress: number[] = [];
      const result = await engine.run(url, { ...openScenario(1, 1), load: { executor: 'constant-vus', vus: 4, durationSeconds: 1.5 } }, tokens, (p) =>
        progress.push(p.requests),
      );
      expect(result.loadModel).toBe('closed');
      // 4 VUs at ~5 ms per request: hundreds of requests in 1.5 s.
      expect(result.requests).toBeGreaterThan(100);
      expect(result.latencyMs.p50).toBeGreaterThanOrEqual(4);
      expect(progress.length).toBeGreaterThanOrEqual(1);
    } finally {
      await engine.close();
    }
  });
});
