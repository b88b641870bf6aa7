import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { StackError, startPart, stopParts } from './stack';

const sink = { write: () => true } as unknown as NodeJS.WritableStream;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

describe('stack parts', () => {
  it('waits for readiness, then stops the process', async () => {
    const port = await freePort();
    const script = `setTimeout(() => require('node:http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1'), 300)`;
    const part = { name: 'demo', cwd: '.', args: ['-e', script], env: process.env, readyUrl: `http://127.0.0.1:${port}/`, url: '' };
    const running = await startPart(part, 10_000, sink);
    expect((await fetch(part.readyUrl)).status).toBe(200);
    await stopParts([running]);
    expect(running.child.signalCode ?? running.child.exitCode).not.toBeNull();
    await expect(fetch(part.readyUrl)).rejects.toThrow();
  });

  it('reports a part that dies before it is ready, with its output', async () => {
    const part = { name: 'broken', cwd: '.', args: ['-e', "console.error('no database'); process.exit(3)"], env: process.env, readyUrl: 'http://127.0.0.1:9/', url: '' };
    const error = await startPart(part, 10_000, sink).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StackError);
    expect(String((error as Error).message)).toMatch(/broken exited with code 3[\s\S]*no database/);
  });
});
