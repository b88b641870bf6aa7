import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { bundleEntries } from '@archbench/topologies/bundle';
import { ExportThread } from './export-thread';
import { startReceiver } from './test-support';
import type { Receiver } from './test-support';

let opened: Receiver | undefined;
afterEach(async () => {
  await opened?.close();
  opened = undefined;
});

/** A receiver for one test, closed after it. */
async function receiver(answer?: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
  opened = await startReceiver(answer);
  return opened;
}

describe('ExportThread', () => {
  it('POSTs from its thread with the configured headers; a body with its own memory moves there, a pooled one is copied', async () => {
    const { tracesUrl: url, bodies, requests } = await receiver();
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
    expect(requests[0]!.headers['content-type']).toBe('application/x-protobuf');
    expect(requests[0]!.headers.authorization).toBe('Bearer k');
    await thread.close();
  });

  it('fails the exports in flight when closed, with a message saying so, and every export after at once', async () => {
    const { tracesUrl: url } = await receiver(() => {
      // never answers
    });
    const thread = new ExportThread({ url, headers: {}, timeoutMs: 60_000 });
    const held = thread.send(Buffer.from('held'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await thread.close();
    const outcome = await held;
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.error.message).toMatch(/OTLP export thread stopped/);
    const later = await thread.send(Buffer.from('later'));
    expect(!later.ok && later.error.message).toBe('the OTLP export thread is closed');
  });

  it('copies a view that starts its ArrayBuffer but does not fill it (the rest stays usable)', async () => {
    const { tracesUrl: url, bodies } = await receiver();
    const thread = new ExportThread({ url, headers: {}, timeoutMs: 5000 });
    const whole = new Uint8Array(64).fill(9);
    expect(await thread.send(whole.subarray(0, 16))).toEqual({ ok: true });
    expect(whole.byteLength).toBe(64);
    expect(whole[63]).toBe(9);
    expect(bodies[0]!.length).toBe(16);
    await thread.close();
  });

  it("fails an export node cannot even start (a refused header) with node's message, and keeps answering", async () => {
    const { tracesUrl: url, bodies } = await receiver();
    const thread = new ExportThread({ url, headers: { 'bad header': 'x' }, timeoutMs: 5000 });
    for (let i = 0; i < 2; i++) {
      const outcome = await thread.send(Buffer.from('x'));
      expect(!outcome.ok && outcome.error.message).toMatch(/Header name must be a valid HTTP token/);
      // Failed as an export, not by taking the thread down with it.
      expect(!outcome.ok && outcome.error.message).not.toMatch(/export thread/);
    }
    expect(bodies).toHaveLength(0);
    await thread.close();
  });

  it("still runs its thread from the servers' esbuild bundle (its program travels as source text)", async () => {
    const { tracesUrl: url, bodies } = await receiver();
    const dir = mkdtempSync(join(tmpdir(), 'export-thread-bundle-'));
    try {
      const entry = join(dir, 'entry.ts');
      writeFileSync(
        entry,
        `import { ExportThread } from ${JSON.stringify(fileURLToPath(new URL('./export-thread.ts', import.meta.url)))};
         const thread = new ExportThread({ url: process.env.URL!, headers: {}, timeoutMs: 5000 });
         thread.send(Buffer.from('bundled')).then((outcome) => process.stdout.write(JSON.stringify(outcome)));`,
      );
      const { entry: bundle } = await bundleEntries({ entry });
      const child = spawn(process.execPath, [bundle], { env: { ...process.env, URL: url }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toEqual({ ok: true });
      expect(bodies.map((b) => b.toString())).toEqual(['bundled']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
