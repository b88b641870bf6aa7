import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { otlpReceiver, traceOfOrder } from '@archbench/server-kit/testing';
import { customerToken, skipSetup, startHybrid } from './helpers';
import type { RunningHybrid, Setup } from './helpers';

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
      const { order, shipmentStatus, trace } = await traceOfOrder(receiver, { baseUrl: hybrid!.baseUrl, token: customerToken(), root: 'core' });
      expect(order.status).toBe('CONFIRMED');
      expect(shipmentStatus).toBe(200);
      const shippingSpans = trace.filter((s) => s.service === 'shipping').map((s) => s.name);
      expect(
        shippingSpans.some((name) => /insert.*shipments/i.test(name)),
        `shipping spans in the POST's trace: ${shippingSpans.join(', ')}`,
      ).toBe(true);
    });
  });
}
