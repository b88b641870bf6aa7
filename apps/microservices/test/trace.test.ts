import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken, api, customerToken, skipSetup, startSystem } from './helpers';
import type { Running, Setup } from './helpers';

interface OtlpAttribute {
  key: string;
  value: { stringValue?: string };
}
interface OtlpExport {
  resourceSpans: Array<{ resource: { attributes: OtlpAttribute[] }; scopeSpans: Array<{ spans: Array<{ name: string; traceId: string; kind: number }> }> }>;
}
interface Span {
  service: string;
  name: string;
  traceId: string;
}

/** A minimal OTLP/HTTP receiver that every process of the system exports to. */
function otlpReceiver() {
  const spans: Span[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as OtlpExport;
      for (const resource of body.resourceSpans ?? []) {
        const service = resource.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '?';
        for (const scope of resource.scopeSpans) for (const span of scope.spans) spans.push({ service, name: span.name, traceId: span.traceId });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return {
    spans,
    async listen(): Promise<string> {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

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
      const token = customerToken();
      const placed = await api<{ id: string; status: string }>(gateway, 'POST', '/orders', {
        token,
        headers: { prefer: 'wait=10' },
        json: { items: [{ sku: 'SKU-0042', quantity: 1 }], payment: { token: 'tok_ok' } },
      });
      expect(placed.status).toBe(201);
      expect(placed.body.status).toBe('CONFIRMED');
      expect((await api(gateway, 'GET', `/orders/${placed.body.id}/shipment`, { token })).status).toBe(200);

      // The POST's trace: the gateway's server span names the route template.
      const expected = ['gateway', 'orders', 'inventory', 'payments', 'shipping'];
      let services: string[] = [];
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        const post = receiver.spans.find((s) => s.service === 'gateway' && s.name === 'POST /orders');
        if (post) {
          services = [...new Set(receiver.spans.filter((s) => s.traceId === post.traceId).map((s) => s.service))].sort();
          if (expected.every((name) => services.includes(name))) break;
        }
        await sleep(250);
      }
      expect(services).toEqual([...expected].sort());
      // The shipment was written inside the order's trace (the event carried it), not in a new one.
      const post = receiver.spans.find((s) => s.service === 'gateway' && s.name === 'POST /orders')!;
      const shippingSpans = receiver.spans.filter((s) => s.service === 'shipping' && s.traceId === post.traceId).map((s) => s.name);
      expect(
        shippingSpans.some((name) => /insert.*shipments/i.test(name)),
        shippingSpans.join(', '),
      ).toBe(true);

      const metrics = await (await fetch(`${system!.topology.urls.orders}/metrics`)).text();
      const calls = new RegExp(`archbench_internal_calls_total\\{[^}]*transport="${setup.transport}"[^}]*\\} (\\d+)`).exec(metrics);
      expect(Number(calls?.[1] ?? 0)).toBeGreaterThanOrEqual(2); // reserve + charge at least
      const admin = await api<{ items: unknown[] }>(gateway, 'GET', `/admin/orders/${placed.body.id}/payments`, { token: adminToken() });
      expect(admin.body.items).toHaveLength(1);
    });
  });
}
