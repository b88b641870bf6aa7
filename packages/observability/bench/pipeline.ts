/**
 * `pnpm --filter @archbench/observability exec tsx bench/pipeline.ts`: CPU per request of the span
 * pipeline alone, the OpenTelemetry SDK's stock setup against archbench's, without the app or HTTP
 * load in the way (steadier than the HTTP bench on a shared machine).
 *
 * One "request" is what the monolith's GET /products/{sku} does with spans: a SERVER span with the
 * HTTP attributes (set only when recorded, as the middleware does), a CLIENT query span under it
 * when the server span records, both ended. Each variant runs in its own Node process (server
 * flags) exporting to a sink in another process; runs alternate over rounds and the median CPU
 * per request (µs, all threads, GC and export included) is printed.
 *   stock-*     BasicTracerProvider + BatchSpanProcessor + @opentelemetry/exporter-trace-otlp-proto
 *   archbench-* initTracing (sampler asked first, spans encoded at end by OtlpProtobufSpanProcessor)
 * with `always_on` and the production default (parent-based, 10 %).
 *
 * Flags: --rounds 5 --seconds 2
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import type { Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOnSampler, BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import { benchArgs, benchNumber } from '@archbench/topologies/bench-args';
import { initTracing } from '../src/tracing';

const args = benchArgs({
  rounds: { type: 'string', default: '5' },
  seconds: { type: 'string', default: '2' },
  child: { type: 'string' },
  sink: { type: 'string' },
});

const VARIANTS = ['stock-always_on', 'archbench-always_on', 'stock-default', 'archbench-default'] as const;
type Variant = (typeof VARIANTS)[number];

function tracerFor(variant: Variant, sink: string): { tracer: Tracer; shutdown: () => Promise<void> } {
  const always = variant.endsWith('always_on');
  const batching = { maxQueueSize: 8192, maxExportBatchSize: 512, scheduledDelayMillis: 1000 };
  if (variant.startsWith('stock')) {
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'monolith', 'service.version': '0.1.0' }),
      sampler: always ? new AlwaysOnSampler() : new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.1) }),
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${sink}/v1/traces` }), batching)],
    });
    return { tracer: provider.getTracer('@archbench/observability', '0.1.0'), shutdown: () => provider.shutdown() };
  }
  const tracing = initTracing({
    serviceName: 'monolith',
    serviceVersion: '0.1.0',
    otlpEndpoint: sink,
    otlpProtocol: 'http/protobuf',
    sampler: always ? { name: 'always_on' } : { name: 'parentbased_traceidratio', arg: 0.1 },
    registerGlobal: false,
  });
  return { tracer: tracing.tracer, shutdown: () => tracing.shutdown() };
}

async function child(variant: Variant, sink: string, seconds: number) {
  const { tracer, shutdown } = tracerFor(variant, sink);
  let n = 0;
  const request = () => {
    const server = tracer.startSpan('GET', { kind: SpanKind.SERVER }, ROOT_CONTEXT);
    if (server.isRecording()) {
      server.setAttributes({
        'http.request.method': 'GET',
        'url.path': `/products/SKU-${n % 900}`,
        'url.scheme': 'http',
        'server.address': '127.0.0.1',
        'server.port': 3000,
      });
      const start = performance.now();
      const query = tracer.startSpan(
        'SELECT products',
        {
          kind: SpanKind.CLIENT,
          startTime: performance.timeOrigin + start,
          attributes: { 'db.system.name': 'sqlite', 'db.operation.name': 'SELECT', 'db.collection.name': 'products' },
        },
        trace.setSpan(ROOT_CONTEXT, server),
      );
      query.end(performance.timeOrigin + performance.now());
      server.updateName('GET /products/:sku');
      server.setAttribute('http.route', '/products/:sku');
      server.setAttribute('http.response.status_code', 200);
    }
    server.end();
    n++;
  };
  const runFor = async (ms: number) => {
    const until = performance.now() + ms;
    let count = 0;
    while (performance.now() < until) {
      for (let i = 0; i < 32; i++) request();
      count += 32;
      // Let export I/O and timers run, as between requests.
      await new Promise((resolve) => setImmediate(resolve));
    }
    return count;
  };
  await runFor(1000);
  const cpu0 = process.cpuUsage();
  const count = await runFor(seconds * 1000);
  const cpu = process.cpuUsage(cpu0);
  await shutdown();
  process.stdout.write(JSON.stringify({ variant, us: (cpu.user + cpu.system) / count }) + '\n');
}

async function main() {
  const rounds = benchNumber('rounds', args.rounds, 'count');
  const seconds = benchNumber('seconds', args.seconds, 'positive');
  // The sink runs in this process; children do the measured work.
  const sink = createServer((req, res) => {
    req.on('data', () => {});
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
  const results: Record<string, number[]> = {};
  for (let round = 0; round < rounds; round++) {
    const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]!);
    for (const variant of order) {
      const out = await new Promise<string>((resolve, reject) => {
        const p = spawn(
          process.execPath,
          ['--max-semi-space-size=4', ...process.execArgv, process.argv[1]!, '--child', variant, '--sink', url, '--seconds', String(seconds)],
          {
            stdio: ['ignore', 'pipe', 'inherit'],
          },
        );
        let text = '';
        p.stdout.on('data', (c: Buffer) => (text += c.toString()));
        p.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`${variant} exited ${code}`))));
      });
      const { us } = JSON.parse(out.trim().split('\n').pop()!) as { us: number };
      (results[variant] ??= []).push(us);
    }
  }
  sink.close();
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;
  process.stdout.write(`span pipeline CPU per request (µs, median of ${rounds} runs of ${seconds}s, range):\n`);
  for (const variant of VARIANTS) {
    const v = results[variant]!;
    process.stdout.write(`  ${variant.padEnd(20)} ${median(v).toFixed(2)}  (${Math.min(...v).toFixed(2)}–${Math.max(...v).toFixed(2)})\n`);
  }
}

if (args.child) await child(args.child as Variant, args.sink!, benchNumber('seconds', args.seconds, 'positive'));
else await main();
