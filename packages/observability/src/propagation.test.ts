import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { observe } from './hono';
import type { ObservabilityEnv } from './hono';
import { createHttpClient } from './http-client';
import { createLogger } from './logging';
import { captureLogs, serveApp } from './test-support';
import type { Served } from './test-support';
import { InMemorySpanExporter, initTracing, tracingOptionsFromEnv, withConsumerSpan, withProducerSpan } from './tracing';
import type { Tracing } from './tracing';

/**
 * A call traced upstream must be findable in this service's logs and must keep its trace on the
 * next hop, whatever this service does with spans: none at all (no exporter configured), made
 * but not sampled (the 10 % production default said no, or the caller did not sample), or
 * sampled and exported.
 */
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';

let next: Served;
const seenByNext: Array<{ traceparent?: string; requestId?: string }> = [];

beforeAll(async () => {
  const app = new Hono();
  app.get('/next', (c) => {
    seenByNext.push({ traceparent: c.req.header('traceparent'), requestId: c.req.header('x-request-id') });
    return c.json({ ok: true });
  });
  next = await serveApp(app);
});
afterAll(async () => {
  await next.close();
});

/** A service that logs a line and calls the next hop over HTTP, and publishes a message. */
async function hop(tracing: Tracing, sampledFlag: '00' | '01') {
  const logs = captureLogs();
  const logger = createLogger({ service: 'middle', destination: logs.destination });
  const client = createHttpClient({ baseUrl: next.url, name: 'next', tracing });
  let messageHeaders: Record<string, unknown> = {};
  const app = new Hono<ObservabilityEnv>();
  observe(app, { service: 'middle', logger, tracing });
  app.get('/hop', async (c) => {
    c.var.logger.info('handling');
    await client.getJson('/next');
    await withProducerSpan('orders.events', (headers) => void (messageHeaders = headers), { tracing });
    return c.json({ ok: true });
  });
  const served = await serveApp(app);
  try {
    const res = await fetch(`${served.url}/hop`, { headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-${sampledFlag}`, 'x-request-id': 'req-prop-1' } });
    expect(res.status).toBe(200);
    // The consumer side of the message, in this same (non-exporting or exporting) service.
    await withConsumerSpan('orders.events', messageHeaders, () => logger.info('consumed'), { tracing });
  } finally {
    await served.close();
    await client.close();
  }
  const line = (msg: string) => logs.lines().find((l) => l.msg === msg);
  return { handling: line('handling'), consumed: line('consumed'), sent: seenByNext.at(-1)!, messageHeaders };
}

describe('incoming traceparent', () => {
  it('reaches the logs and the next hop when this service makes no spans (no exporter configured)', async () => {
    const tracing = initTracing({ serviceName: 'middle', registerGlobal: false, ...tracingOptionsFromEnv({}) });
    expect(tracing.enabled).toBe(false);
    const { handling, consumed, sent, messageHeaders } = await hop(tracing, '01');
    expect(handling).toMatchObject({ trace_id: TRACE_ID, request_id: 'req-prop-1' });
    // Not tracing, this hop forwards the caller's context unchanged.
    expect(sent.traceparent).toBe(`00-${TRACE_ID}-${PARENT_ID}-01`);
    expect(sent.requestId).toBe('req-prop-1');
    expect(messageHeaders.traceparent).toBe(`00-${TRACE_ID}-${PARENT_ID}-01`);
    expect(consumed).toMatchObject({ trace_id: TRACE_ID });
  });

  it('reaches the logs and the next hop when spans are made but the trace is not sampled', async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = initTracing({ serviceName: 'middle', registerGlobal: false, exporter, sampler: { name: 'parentbased_traceidratio', arg: 0.1 } });
    const { handling, consumed, sent, messageHeaders } = await hop(tracing, '00');
    expect(exporter.getFinishedSpans()).toEqual([]);
    expect(handling).toMatchObject({ trace_id: TRACE_ID, request_id: 'req-prop-1' });
    expect(sent.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-00$`));
    expect(String(messageHeaders.traceparent)).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-00$`));
    expect(consumed).toMatchObject({ trace_id: TRACE_ID });
  });

  it('reaches the logs, the next hop and the exported spans when the caller sampled it', async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = initTracing({ serviceName: 'middle', registerGlobal: false, exporter, sampler: { name: 'parentbased_traceidratio', arg: 0.1 } });
    const { handling, sent } = await hop(tracing, '01');
    const spans = exporter.getFinishedSpans();
    const server = spans.find((s) => s.name === 'GET /hop');
    expect(server?.spanContext().traceId).toBe(TRACE_ID);
    expect(server?.parentSpanContext?.spanId).toBe(PARENT_ID);
    expect(handling).toMatchObject({ trace_id: TRACE_ID, span_id: server?.spanContext().spanId });
    expect(sent.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
  });
});
