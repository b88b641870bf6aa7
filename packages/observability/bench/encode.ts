/**
 * `pnpm --filter @archbench/observability exec tsx bench/encode.ts`: CPU per span of OTLP protobuf
 * encoding, archbench's encoder against the official ProtobufTraceSerializer, on batches of 512
 * spans shaped like the monolith's (a SERVER span with the HTTP attributes, a CLIENT query span).
 * Alternates the two in slices and prints the median ns per span of each.
 */
import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOnSampler, BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { encodeTraceExportRequest } from '../src/otlp-protobuf';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'monolith', 'service.version': '0.1.0' }),
  sampler: new AlwaysOnSampler(),
  spanProcessors: [new SimpleSpanProcessor(exporter)],
});
const tracer = provider.getTracer('@archbench/observability', '0.1.0');
for (let i = 0; i < 256; i++) {
  const server = tracer.startSpan('GET', { kind: SpanKind.SERVER });
  server.setAttributes({
    'http.request.method': 'GET',
    'url.path': `/products/SKU-${i}`,
    'url.scheme': 'http',
    'server.address': '127.0.0.1',
    'server.port': 3000,
  });
  const query = tracer.startSpan(
    'SELECT products',
    { kind: SpanKind.CLIENT, attributes: { 'db.system.name': 'sqlite', 'db.operation.name': 'SELECT', 'db.collection.name': 'products' } },
    trace.setSpan(ROOT_CONTEXT, server),
  );
  query.end();
  server.updateName('GET /products/:sku');
  server.setAttribute('http.route', '/products/:sku');
  server.setAttribute('http.response.status_code', 200);
  server.end();
}
const spans = exporter.getFinishedSpans();
const contenders: Record<string, () => unknown> = {
  official: () => ProtobufTraceSerializer.serializeRequest(spans),
  archbench: () => encodeTraceExportRequest(spans),
};
const samples: Record<string, number[]> = { official: [], archbench: [] };
for (let slice = 0; slice < 60; slice++) {
  for (const [name, encode] of Object.entries(contenders)) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 20; i++) encode();
    samples[name]!.push(Number(process.hrtime.bigint() - t0) / (20 * spans.length));
  }
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;
for (const [name, v] of Object.entries(samples)) process.stdout.write(`${name}: ${median(v).toFixed(0)} ns per span (median of ${v.length} slices)\n`);
