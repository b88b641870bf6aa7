import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Sets up tracing with an OTLP endpoint (a sink in the same process) in a fresh Node process,
 * ends one span and flushes it, recording every module specifier resolved along the way
 * (module.registerHooks). Prints whether the official OTLP/HTTP (JSON) exporter was loaded before
 * and after the export, and what the sink received.
 */
const PROBE = `
import { registerHooks } from 'node:module';
import { createServer } from 'node:http';
const resolved = [];
registerHooks({ resolve(specifier, context, next) { resolved.push(specifier); return next(specifier, context); } });
const official = () => resolved.some((s) => s.includes('exporter-trace-otlp-http'));
const { initTracing } = await import(process.env.TRACING_MODULE);
const received = [];
const sink = createServer((req, res) => {
  let bytes = 0;
  req.on('data', (chunk) => (bytes += chunk.length));
  req.on('end', () => {
    received.push({ path: req.url, contentType: req.headers['content-type'], bytes });
    const json = String(req.headers['content-type']).startsWith('application/json');
    res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' }).end(json ? '{}' : '');
  });
});
await new Promise((listening) => sink.listen(0, '127.0.0.1', listening));
const tracing = initTracing({ serviceName: 'lazy-probe', otlpEndpoint: 'http://127.0.0.1:' + sink.address().port, otlpProtocol: process.env.PROTOCOL, registerGlobal: false });
tracing.tracer.startSpan('probe').end();
const loadedBeforeExport = official();
await tracing.forceFlush();
await tracing.shutdown();
sink.close();
process.stdout.write(JSON.stringify({ loadedBeforeExport, loaded: official(), received }));
`;

function probe(protocol: 'http/protobuf' | 'http/json') {
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', PROBE], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...process.env, TRACING_MODULE: new URL('./tracing.ts', import.meta.url).href, PROTOCOL: protocol },
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return JSON.parse(result.stdout) as {
    loadedBeforeExport: boolean;
    loaded: boolean;
    received: Array<{ path: string; contentType: string; bytes: number }>;
  };
}

// Each test starts a tsx process: seconds on a loaded CI machine, over vitest's default 5 s.
describe('the official OTLP/JSON exporter is loaded only when JSON is exported', { timeout: 30_000 }, () => {
  it('is never loaded for protobuf export (the production default)', () => {
    const { loaded, received } = probe('http/protobuf');
    expect(received).toEqual([{ path: '/v1/traces', contentType: 'application/x-protobuf', bytes: expect.any(Number) }]);
    expect(received[0]!.bytes).toBeGreaterThan(0);
    expect(loaded).toBe(false);
  });

  it('is loaded for http/json when the first batch leaves, not at setup', () => {
    const { loadedBeforeExport, loaded, received } = probe('http/json');
    expect(loadedBeforeExport).toBe(false);
    expect(loaded).toBe(true);
    expect(received).toHaveLength(1);
    expect(received[0]!.path).toBe('/v1/traces');
    expect(received[0]!.contentType).toMatch(/^application\/json/);
  });
});
