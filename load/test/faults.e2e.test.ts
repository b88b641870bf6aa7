import { randomBytes } from 'node:crypto';
import { connect } from 'amqplib';
import type { Channel, ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '@archbench/contracts/tokens';
import { AMQP_TEST_URL, shouldSkip } from '@archbench/server-kit/testing';
import { startTopology } from '@archbench/topologies';
import type { RunningTopology } from '@archbench/topologies';
import { EmbeddedEngine } from '../src/engine/embedded-engine';
import { listOrders } from '../src/faults/audit';
import { runFaultExperiment } from '../src/faults/experiment';
import type { FaultPlan, FaultSubject } from '../src/faults/experiment';
import { internalToken, startedSubject } from '../src/faults/injectors';
import { RabbitControl, amqpUser, withVhost } from '../src/faults/rabbit';

const SECRET = 'archbench-faults-test-secret-0123456789';
const ADMIN = mintToken(SECRET, { sub: 'faults-test-admin', role: 'admin' });
/** Short, but long enough for a restart to fall inside the window and recovery after it. */
const PLAN: FaultPlan = { rate: 20, durationSeconds: 14, injectAtSeconds: 3, faultSeconds: 4, recoveryWindowSeconds: 2, quietDeadlineSeconds: 20 };

function customers(tag: string): string[] {
  const run = randomBytes(3).toString('hex');
  return Array.from({ length: 6 }, (_, i) => mintToken(SECRET, { sub: `faults-${tag}-${run}-${i}` }));
}

function start(name: string, env: NodeJS.ProcessEnv = {}): Promise<RunningTopology> {
  return startTopology(name, {
    port: 0,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'development', LOG_LEVEL: 'warn', AUTH_SECRET: SECRET, ...env },
    output: 'capture',
  });
}

let engine: EmbeddedEngine;
beforeAll(async () => {
  engine = await EmbeddedEngine.start();
});
afterAll(async () => {
  await engine.close();
});

describe('dependency crash on the monolith: the process really dies and the supervisor restarts it', () => {
  let topology: RunningTopology;
  beforeAll(async () => {
    topology = await start('monolith');
  });
  afterAll(async () => {
    await topology?.stop();
  });

  it('takes browse down with it, loses no order, and reports a verified injection', async () => {
    const before = topology.processes[0]!;
    const result = await runFaultExperiment({
      engine,
      subject: startedSubject(topology, { adminToken: ADMIN, authSecret: SECRET }),
      fault: 'dependency-crash',
      plan: PLAN,
      customerTokens: customers('crash'),
      adminToken: ADMIN,
    });
    const after = topology.processes[0]!;
    expect(after.pid).not.toBe(before.pid);
    expect(after.restarts).toBe(before.restarts + 1);
    expect(() => process.kill(before.pid!, 0)).toThrow();
    expect(result.injection).toMatchObject({ verified: true });
    expect(result.injection!.detail).toMatch(/died; now pid/);
    // One process runs everything: while it is down, the catalog is down too.
    expect(result.browseAvailability).toBeLessThan(1);
    expect(result.ordersLost).toBe(0);
    expect(result.duplicateCharges).toBe(0);
    expect(result.stockDrift).toBe(0);
    expect(result.recovered).toBe(true);
  });
});

describe('provider outage on the microservices: the provider really fails, the catalog stays up', () => {
  let topology: RunningTopology;
  beforeAll(async () => {
    topology = await start('microservices-http');
  });
  afterAll(async () => {
    await topology?.stop();
  });

  it('fails checkout during the window, verified by failed provider calls, and switches the provider back', async () => {
    // A setting switched before the experiment (not the deployment's): the lift (DELETE, then a PUT
    // of what differs) puts it back too.
    const switchUrl = `${topology.baseUrl}/admin/payments/provider`;
    const admin = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
    const before = await (await fetch(switchUrl, { method: 'PUT', headers: admin, body: JSON.stringify({ latencyMs: 2 }) })).json();
    expect(before).toMatchObject({ latencyMs: 2, failureRate: 0 });
    const result = await runFaultExperiment({
      engine,
      subject: startedSubject(topology, { adminToken: ADMIN, authSecret: SECRET }),
      fault: 'provider-outage',
      plan: PLAN,
      customerTokens: customers('outage'),
      adminToken: ADMIN,
    });
    expect(result.injection).toMatchObject({ verified: true });
    expect(result.injection!.detail).toMatch(/[1-9]\d* provider calls? failed/);
    expect(result.checkoutSuccess).toBeLessThan(0.5);
    expect(result.browseAvailability).toBeGreaterThan(0.99);
    expect(result.ordersLost).toBe(0);
    expect(result.duplicateCharges).toBe(0);
    expect(result.stockDrift).toBe(0);
    const provider = await fetch(`${topology.urls.payments}/admin/provider`, { headers: { 'x-archbench-internal': internalToken(SECRET) } });
    expect(((await provider.json()) as { provider: { failureRate: number } }).provider.failureRate).toBe(0);
    expect(await (await fetch(switchUrl, { headers: admin })).json()).toEqual(before);
  });
});

describe('RabbitMQ: broker connections really cut, and a deliberately broken consumer reported as losing orders', async () => {
  const rabbit = new RabbitControl();
  const skip = await shouldSkip('RabbitMQ (with rabbitmqctl)', async () => rabbit.available());
  const vhost = `archbench-faults-test-${randomBytes(3).toString('hex')}`;
  let topology: RunningTopology;
  let connection: ChannelModel | undefined;

  beforeAll(async () => {
    if (skip) return;
    await rabbit.createVhost(vhost, amqpUser(AMQP_TEST_URL));
    // A saga deadline far beyond the test: a swallowed charge leaves its order PENDING.
    topology = await start('microservices-amqp', { AMQP_URL: withVhost(AMQP_TEST_URL, vhost), SAGA_DEADLINE_MS: '600000' });
  });
  afterAll(async () => {
    await connection?.close().catch(() => undefined);
    await topology?.stop();
    if (!skip) await rabbit.deleteVhost(vhost);
  });

  it.skipIf(skip)("broker loss: the topology's connections are closed on the broker and come back, no order lost", async () => {
    const result = await runFaultExperiment({
      engine,
      subject: startedSubject(topology, { adminToken: ADMIN, authSecret: SECRET, rabbit: { control: rabbit, vhost } }),
      fault: 'broker-loss',
      plan: PLAN,
      customerTokens: customers('broker'),
      adminToken: ADMIN,
    });
    expect(result.injection).toMatchObject({ verified: true });
    expect(result.injection!.detail).toMatch(/^[1-9]\d* connections? closed; [1-9]\d* open again/);
    expect(result.ordersLost).toBe(0);
    expect(result.duplicateCharges).toBe(0);
    expect(result.stockDrift).toBe(0);
  });

  it.skipIf(skip)('a broken consumer: counts exactly the accepted orders that never reached a terminal state', async () => {
    let swallowed = 0;
    let lostIds: string[] = [];
    const subject: FaultSubject = {
      name: topology?.name ?? 'microservices-amqp',
      baseUrl: topology?.baseUrl ?? '',
      settle: async () => undefined,
      injector: async () => ({
        method: 'a second consumer on the payments command queue acks every message without handling it',
        sustained: false,
        inject: async () => {
          connection = await connect(withVhost(AMQP_TEST_URL, vhost));
          const channel: Channel = await connection.createChannel();
          await channel.prefetch(50);
          await channel.consume('archbench.payments.commands', (message) => {
            if (!message) return;
            swallowed++;
            channel.ack(message);
          });
        },
        lift: async () => undefined,
        verify: async (audit) => {
          lostIds = audit.lostIds;
          return { verified: swallowed > 0, detail: `${swallowed} payment commands swallowed` };
        },
      }),
    };
    const tokens = customers('broken');
    const result = await runFaultExperiment({
      engine,
      subject,
      fault: 'broker-loss',
      plan: { ...PLAN, quietDeadlineSeconds: 8 },
      customerTokens: tokens,
      adminToken: ADMIN,
    });
    expect(result.injection).toMatchObject({ verified: true });
    // Independently of the audit: the accepted orders that are still not terminal. The saga keeps
    // retrying a swallowed charge, so one may still settle after the audit; none can go back to
    // PENDING: every order open now was one the audit counted as lost.
    const open = (await Promise.all(tokens.map((t) => listOrders(topology.baseUrl, t)))).flat().filter((o) => o.status === 'PENDING');
    expect(open.length).toBeGreaterThan(0);
    expect(result.ordersLost).toBe(lostIds.length);
    expect(lostIds).toEqual(expect.arrayContaining(open.map((o) => o.id)));
    expect(result.ordersLost).toBeLessThanOrEqual(swallowed);
  });
});
