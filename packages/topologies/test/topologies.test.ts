import { randomBytes } from 'node:crypto';
import { runConformance } from '@archbench/contracts/conformance';
import { describe, expect, it } from 'vitest';
import { getTopology, listTopologies, pidAlive, startTopology, topologyUnavailable } from '../src/index';
import type { TopologyDefinition } from '../src/index';
import { AMQP_TEST_URL, skipWithoutAmqp } from './services';

const AUTH_SECRET = 'topologies-test-secret-0123456789';

function envFor(definition: TopologyDefinition): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AUTH_SECRET,
    LOG_LEVEL: 'warn',
    ...(definition.name.endsWith('-amqp') ? { AMQP_URL: AMQP_TEST_URL, AMQP_PREFIX: `archbench-topologies-${randomBytes(4).toString('hex')}` } : {}),
  };
}

describe('registry', () => {
  it('has the three original topologies, each process on the port scheme, and says why one cannot run', () => {
    const names = listTopologies().map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['monolith', 'microservices-http', 'microservices-amqp']));
    const ms = getTopology('microservices-http');
    expect(Object.fromEntries(ms.processes.map((p) => [p.name, p.portOffset]))).toEqual({ gateway: 0, inventory: 1, orders: 2, payments: 3, shipping: 4 });
    expect(getTopology('microservices', {}).name).toBe('microservices-http');
    expect(getTopology('microservices', { AMQP_URL: AMQP_TEST_URL }).name).toBe('microservices-amqp');
    expect(getTopology('microservices', { AMQP_URL: AMQP_TEST_URL, TRANSPORT: 'http' }).name).toBe('microservices-http');
    expect(topologyUnavailable(getTopology('microservices-amqp'), {})).toMatch(/AMQP_URL is not set/);
    expect(() => getTopology('nope')).toThrow(/unknown topology "nope"; known: .*monolith/);
    // Every definition keeps to the scheme: public on PORT, the rest at their fixed offsets.
    const offsets: Record<string, number> = { inventory: 1, orders: 2, payments: 3, shipping: 4 };
    for (const d of listTopologies()) {
      expect(d.processes.find((p) => p.name === d.publicProcess)?.portOffset).toBe(0);
      for (const p of d.processes) if (p.name in offsets) expect(p.portOffset).toBe(offsets[p.name]);
    }
  });
});

describe('stop timeouts', () => {
  it('marks exactly the server-kit servers (serveWithShutdown, a SHUTDOWN_DRAIN_MS drain) as serverKit, so stop() waits for the drain of those only', () => {
    const serverKit = Object.fromEntries(listTopologies().map((d) => [d.name, Object.fromEntries(d.processes.map((p) => [p.name, p.serverKit === true]))]));
    const services = { gateway: true, inventory: true, orders: true, payments: true, shipping: true };
    expect(serverKit).toEqual({
      monolith: { monolith: true },
      'microservices-http': services,
      'microservices-amqp': services,
      hybrid: { shipping: true, core: true },
      // A Node launcher around workerd: no drain of its own.
      serverless: { api: false },
    });
  });
});

describe('billing', () => {
  it('every definition says how it is paid for; only serverless is billed per request', () => {
    // pnpm compare prices each topology with this field (load/src/compare/measured.ts), so a
    // definition without it, or with a value the cost model does not know, fails here.
    for (const d of listTopologies()) expect(['provisioned', 'per-request'], d.name).toContain(d.billing);
    const billing = Object.fromEntries(listTopologies().map((d) => [d.name, d.billing]));
    expect(billing).toMatchObject({
      monolith: 'provisioned',
      'microservices-amqp': 'provisioned',
      'microservices-http': 'provisioned',
      hybrid: 'provisioned',
      serverless: 'per-request',
    });
  });
});

// Every registered topology, started through its definition: /ready on the public URL, /metrics of each process.
for (const definition of listTopologies()) {
  describe(`${definition.name} through its definition`, async () => {
    const skip = definition.name.endsWith('-amqp') && (await skipWithoutAmqp());
    it.skipIf(skip)(
      'starts on free ports of the scheme, is ready, passes the conformance suite, measures its processes, and stops with none left',
      async () => {
        const topology = await startTopology(definition, { port: 0, env: envFor(definition) });
        const pids = topology.pids();
        try {
          const ready = await fetch(`${topology.baseUrl}/ready`);
          expect(ready.status).toBe(200);
          expect((await fetch(`${topology.baseUrl}/products?limit=1`)).status).toBe(200);
          for (const p of topology.processes) {
            expect(p.port).toBe(topology.port + definition.processes.find((d) => d.name === p.name)!.portOffset);
            expect(p.state).toBe('ready');
          }
          expect(pids).toHaveLength(definition.processes.length);
          const snapshot = await topology.snapshot();
          expect(snapshot.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
          // A process defined with measure: 'children' (the serverless launcher) is measured by what it spawned only.
          const measured = topology.processes.filter((p) => definition.processes.find((d) => d.name === p.name)?.measure !== 'children').map((p) => p.pid!);
          expect(snapshot.pids).toEqual(expect.arrayContaining(measured));
          for (const p of topology.processes) if (!measured.includes(p.pid!)) expect(snapshot.pids).not.toContain(p.pid);
          const scraped = await topology.scrapeMetrics();
          for (const m of scraped) expect(m.text, `${m.process} /metrics`).toBeDefined();
          expect(topology.processFor('payments')).toBe(definition.processes.find((p) => p.capabilities.includes('payments'))!.name);
          // The public API of every topology is the same contract.
          const report = await runConformance({ baseUrl: topology.baseUrl, authSecret: AUTH_SECRET });
          expect(report.checks.filter((c) => !c.passed)).toEqual([]);
          expect(report.checks.length).toBeGreaterThan(40);
        } finally {
          await topology.stop();
        }
        expect(pids.filter(pidAlive)).toEqual([]);
      },
    );
  });
}

describe('restart after SIGKILL', () => {
  // Every topology that needs no broker: the figures the issue asks for, one run.
  for (const name of listTopologies()
    .filter((d) => !d.name.endsWith('-amqp'))
    .map((d) => d.name)) {
    it(`${name}: the process running payments comes back by itself and the API answers again`, async () => {
      const topology = await startTopology(name, { port: 0, env: envFor(getTopology(name)) });
      try {
        const victim = topology.processFor('payments');
        const before = topology.processes.find((p) => p.name === victim)!.pid!;
        const killedAt = Date.now();
        await topology.kill(victim, 'SIGKILL');
        await topology.waitReady(60_000);
        const readyAfterMs = Date.now() - killedAt;
        process.stdout.write(`restart figure: ${name}/${victim} SIGKILL -> ready again in ${readyAfterMs} ms\n`);
        const after = topology.processes.find((p) => p.name === victim)!;
        expect(after.restarts).toBe(1);
        expect(after.pid).not.toBe(before);
        expect((await fetch(`${topology.baseUrl}/ready`)).status).toBe(200);
        expect((await fetch(`${topology.baseUrl}/products?limit=1`)).status).toBe(200);
      } finally {
        await topology.stop();
      }
    });
  }
});
