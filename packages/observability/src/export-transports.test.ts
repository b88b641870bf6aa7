// What both OTLP transports do alike: SocketPoster (http:, on the server's thread) and
// ExportThread (https:, and any URL it is given, from a worker thread).
import { afterEach, describe, expect, it } from 'vitest';
import { ExportThread } from './export-thread';
import { SocketPoster } from './otlp-socket';
import { runScript, startReceiver } from './test-support';
import type { Receiver } from './test-support';

let opened: Receiver | undefined;
afterEach(async () => {
  await opened?.close();
  opened = undefined;
});

describe.each([
  { transport: 'ExportThread', Poster: ExportThread, module: './export-thread.ts' },
  { transport: 'SocketPoster', Poster: SocketPoster, module: './otlp-socket.ts' },
])('$transport', ({ transport, Poster, module }) => {
  /** Runs `script` in a child process, where `Poster` is this transport's class and URL the receiver's. */
  const child = (script: string, url: string) =>
    runScript(`const Poster = (await import(process.env.MODULE)).${transport};\n${script}`, {
      ...process.env,
      MODULE: new URL(module, import.meta.url).href,
      URL: url,
    });

  it('gives up on a receiver that refuses connections within the timeout, with the error code', async () => {
    opened = await startReceiver();
    const url = opened.tracesUrl;
    await opened.close();
    opened = undefined;
    const poster = new Poster({ url, headers: {}, timeoutMs: 1500 });
    const started = Date.now();
    const outcome = await poster.send(Buffer.from('x'));
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && (outcome.error as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    expect(!outcome.ok && outcome.error.message).toMatch(/OTLP export to .* failed: connect ECONNREFUSED/);
    // Retried once after about a second, then the next backoff would pass the timeout.
    expect(Date.now() - started).toBeGreaterThanOrEqual(700);
    expect(Date.now() - started).toBeLessThan(1500);
    await poster.close();
  });

  it('keeps the process alive while an export is in flight, and lets it exit once answered', async () => {
    // The receiver is here, the exporting process a child with nothing else to keep it alive: it
    // must live to see the answer (sent after 400 ms), then exit on its own (a kept-alive
    // connection, or the idle thread, must not hold it).
    opened = await startReceiver((_req, res) => setTimeout(() => res.writeHead(200).end(), 400));
    const run = await child(
      `const started = Date.now();
       new Poster({ url: process.env.URL, headers: {}, timeoutMs: 5000 }).send(Buffer.from('x'))
         .then((outcome) => process.stdout.write(JSON.stringify({ outcome, ms: Date.now() - started })));`,
      opened.tracesUrl,
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0); // not killed: it exited by itself
    const { outcome, ms } = JSON.parse(run.stdout) as { outcome: unknown; ms: number };
    expect(outcome).toEqual({ ok: true });
    expect(ms).toBeGreaterThanOrEqual(350);
    // Soon after the answer: not when the receiver closes the idle connection (node's server: 5 s later).
    expect(run.ms).toBeLessThan(4500);
  }, 20_000);

  it('does not keep the process alive while waiting out a retry backoff', async () => {
    // The receiver answers 503 with Retry-After: 3; the child, with nothing else to do, exits
    // during the wait instead of sitting it out (as with the official exporter's unref'd timer).
    opened = await startReceiver((_req, res) => res.writeHead(503, { 'retry-after': '3' }).end());
    const run = await child(`void new Poster({ url: process.env.URL, headers: {}, timeoutMs: 10000 }).send(Buffer.from('x'));`, opened.tracesUrl);
    expect(run.code).toBe(0);
    expect(opened.bodies).toHaveLength(1);
    expect(run.ms).toBeLessThan(2900);
  }, 20_000);
});
