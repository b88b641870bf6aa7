import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { otlpReceiver, shipmentWritten, traceOfOrder } from '@archbench/server-kit/testing';
import { adminToken, api, customerToken, skipSetup, startSystem } from './helpers';
import type { Running, Setup } from './helpers';

const setups: Setup[] = [
  { transport: 'http', database: 'sqlite' },
  { transport: 'amqp', database: 'sqlite' },
];

for (const setup of setups) {
  describe(`one trace per order (${setup.transport})`, async () => {
    const skip = await skipSetup(setup);
    const receiver = otlpReceiver();
    let system: Running | undefined;
    beforeAll(async () => {
      if (skip) return;
      const endpoint = await receiver.listen();
      system = await startSystem({ ...setup, env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint } });
    });
    afterAll(async () => {
      await system?.stop();
      await receiver.close();
    });

    it.skipIf(skip)('follows an order from the gateway through orders, inventory, payments and shipping, and counts internal calls', async () => {
      const gateway = system!.gateway;
      // The POST's trace (the gateway's server span names the route template) reaches every service.
      const expected = ['gateway', 'inventory', 'orders', 'payments', 'shipping'];
      const services = (trace: Array<{ service: string }>) => [...new Set(trace.map((s) => s.service))].sort();
      const { status, order, shipmentStatus, trace } = await traceOfOrder(receiver, {
        baseUrl: gateway,
        token: customerToken(),
        root: 'gateway',
        complete: (spans) => shipmentWritten(spans) && expected.every((name) => services(spans).includes(name)),
      });
      expect(status).toBe(201);
      expect(order.status).toBe('CONFIRMED');
      expect(shipmentStatus).toBe(200);
      expect(services(trace)).toEqual(expected);
      // The shipment was written inside the order's trace (the event carried it), not in a new one.
      expect(
        shipmentWritten(trace),
        trace
          .filter((s) => s.service === 'shipping')
          .map((s) => s.name)
          .join(', '),
      ).toBe(true);

      const metrics = await (await fetch(`${system!.topology.urls.orders}/metrics`)).text();
      const calls = new RegExp(`archbench_internal_calls_total\\{[^}]*transport="${setup.transport}"[^}]*\\} (\\d+)`).exec(metrics);
      expect(Number(calls?.[1] ?? 0)).toBeGreaterThanOrEqual(2); // reserve + charge at least
      const admin = await api<{ items: unknown[] }>(gateway, 'GET', `/admin/orders/${order.id}/payments`, { token: adminToken() });
      expect(admin.body.items).toHaveLength(1);
    });
  });
}
