import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measuredTarget } from '../src/compare/measured';

/** A process's /metrics as prom-client serves it: 1.5 CPU seconds and 100 MB resident. */
const METRICS = [
  '# TYPE process_cpu_seconds_total counter',
  'process_cpu_seconds_total 1.5',
  '# TYPE process_resident_memory_bytes gauge',
  'process_resident_memory_bytes 100000000',
  '',
].join('\n');

describe('a target measured through --metrics-url', () => {
  let server: Server;
  let url: string;
  let closedUrl: string;
  beforeAll(async () => {
    server = createServer((_req, res) => res.end(METRICS));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
    // A port that was open a moment ago and is closed now: nothing answers there.
    const gone = createServer();
    await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve));
    closedUrl = `http://127.0.0.1:${(gone.address() as AddressInfo).port}/metrics`;
    await new Promise((resolve) => gone.close(resolve));
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('sums CPU and memory over every process', async () => {
    const target = measuredTarget('shop', 'http://127.0.0.1:1', [url, url], undefined);
    expect(await target.snapshot()).toEqual({ processCount: 2, cpuSeconds: 3, rssBytes: 200_000_000 });
  });

  it('is not measured at a moment one process does not answer: half a sum would pass for the total', async () => {
    const target = measuredTarget('shop', 'http://127.0.0.1:1', [url, closedUrl], undefined);
    expect(await target.snapshot()).toBeNull();
  });
});
