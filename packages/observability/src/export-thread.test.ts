import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ExportThread } from './export-thread';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** A receiver on loopback: what it got, and `answer` deciding each reply. */
async function receiver(answer: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void): Promise<{ url: string; bodies: Buffer[] }> {
  const bodies: Buffer[] = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks));
      answer(req, res, bodies.at(-1)!);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}/v1/traces`, bodies };
}

describe('ExportThread', () => {
  it('POSTs from its thread with the configured headers; a body with its own memory moves there, a pooled one is copied', async () => {
    let headers: IncomingMessage['headers'] = {};
    const { url, bodies } = await receiver((req, res) => {
      headers = req.headers;
      res.writeHead(200).end();
    });
    const thread = new ExportThread({ url, headers: { 'content-type': 'application/x-protobuf', authorization: 'Bearer k' }, timeoutMs: 5000 });
    const own = Buffer.from(new Uint8Array(8192).fill(7).buffer);
    expect(await thread.send(own)).toEqual({ ok: true });
    expect(own.byteLength).toBe(0); // handed over, not copied
    // Buffer.from of a short string is a view into node's shared pool: moving that pool would
    // empty every other small buffer of the process.
    const neighbour = Buffer.from('neighbour');
    const pooled = Buffer.from('pooled body');
    expect(pooled.buffer).toBe(neighbour.buffer);
    expect(await thread.send(pooled)).toEqual({ ok: true });
    expect(pooled.toString()).toBe('pooled body');
    expect(neighbour.toString()).toBe('neighbour');
    expect(bodies.map((b) => b.length)).toEqual([8192, 11]);
    expect(bodies[1]!.toString()).toBe('pooled body');
    expect(headers['content-type']).toBe('application/x-protobuf');
    expect(headers.authorization).toBe('Bearer k');
    await thread.close();
  });

  it('fails the exports in flight when stopped, with a message saying so, and starts again on the next export', async () => {
    let hold = true;
    const { url } = await receiver((_req, res) => {
      if (!hold) res.writeHead(200).end();
      // held requests never get an answer
    });
    const thread = new ExportThread({ url, headers: {}, timeoutMs: 60_000 });
    const held = thread.send(Buffer.from('held'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await thread.close();
    const outcome = await held;
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.error.message).toMatch(/OTLP export thread stopped/);
    hold = false;
    expect(await thread.send(Buffer.from('again'))).toEqual({ ok: true });
    await thread.close();
    server!.closeAllConnections();
  });

  it('keeps the process alive while an export is in flight, and lets it exit once answered', async () => {
    // The receiver is here, the exporting process a child with nothing else to keep it alive: it
    // must live to see the answer (sent after 400 ms), then exit on its own.
    const { url } = await receiver((_req, res) => setTimeout(() => res.writeHead(200).end(), 400));
    const script = `
      const { ExportThread } = await import(process.env.MODULE);
      const thread = new ExportThread({ url: process.env.URL, headers: {}, timeoutMs: 5000 });
      const started = Date.now();
      thread.send(Buffer.from('x')).then((outcome) => process.stdout.write(JSON.stringify({ outcome, ms: Date.now() - started })));
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { ...process.env, MODULE: new URL('./export-thread.ts', import.meta.url).href, URL: url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const killer = setTimeout(() => child.kill(), 15_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearTimeout(killer);
    expect(stderr).toBe('');
    expect(code).toBe(0); // not killed: it exited by itself
    const { outcome, ms } = JSON.parse(stdout) as { outcome: unknown; ms: number };
    expect(outcome).toEqual({ ok: true });
    expect(ms).toBeGreaterThanOrEqual(350);
  }, 20_000);
});
