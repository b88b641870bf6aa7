import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, customerToken, skipSetup, startHybrid } from './helpers';
import type { RunningHybrid, Setup } from './helpers';

interface OtlpExport {
  resourceSpans?: Array<{
    resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> };
    scopeSpans: Array<{ spans: Array<{ name: string; traceId: string }> }>;
  }>;
}
interface Span {
  service: string;
  name: string;
  traceId: string;
}

/** A minimal OTLP/HTTP receiver both processes export to. */
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

const setups: Array<Pick<Setup, 'transport' | 'database'>> = [
  { transport: 'http', database: 'sqlite' },
  { transport: 'amqp', database: 'sqlite' },
];

for (const setup of setups) {
  describe(`one trace per order through the outbox (${setup.transport})`, async () => {
    const skip = await skipSetup(setup);
    const receiver = otlpReceiver();
    let hybrid: RunningHybrid | undefined;
    beforeAll(async () => {
      if (skip) return;
      // Every trace kept: exporting defaults to keeping 1 in 10.
      hybrid = await startHybrid({ ...setup, env: { OTEL_EXPORTER_OTLP_ENDPOINT: await receiver.listen(), OTEL_TRACES_SAMPLER: 'always_on' } });
    });
    afterAll(async () => {
      await hybrid?.stop();
      await receiver.close();
    });

    it.skipIf(skip)('the shipment is created inside the trace of the POST that confirmed the order', async () => {
      const token = customerToken();
      const placed = await api<{ id: string; status: string }>(hybrid!.baseUrl, 'POST', '/orders', {
        token,
        headers: { prefer: 'wait=10' },
        json: { items: [{ sku: 'SKU-0042', quantity: 1 }], payment: { token: 'tok_ok' } },
      });
      expect(placed.body.status).toBe('CONFIRMED');
      expect((await api(hybrid!.baseUrl, 'GET', `/orders/${placed.body.id}/shipment`, { token })).status).toBe(200);

      let shippingSpans: string[] = [];
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        const post = receiver.spans.find((s) => s.service === 'core' && s.name === 'POST /orders');
        shippingSpans = post ? receiver.spans.filter((s) => s.service === 'shipping' && s.traceId === post.traceId).map((s) => s.name) : [];
        if (shippingSpans.some((name) => /insert.*shipments/i.test(name))) break;
        await sleep(250);
      }
      expect(
        shippingSpans.some((name) => /insert.*shipments/i.test(name)),
        `shipping spans in the POST's trace: ${shippingSpans.join(', ')}`,
      ).toBe(true);
    });
  });
}
