import { lookup } from 'node:dns/promises';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareAsync } from './cli-kit';

// A wrong --target URL says why it cannot be reached: a host name that does not resolve is bad
// input (exit 2, nothing started or written); a refused connection is a failed run (exit 3) that
// names the cause.

const work = mkdtempSync(join(tmpdir(), 'archbench-target-url-'));

/** A loopback port nothing listens on (bound, then closed). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * What this machine's resolver says of a name under .invalid (RFC 6761: never resolves): ENOTFOUND
 * with a working resolver; EAI_AGAIN without one (no network), where compare rightly does not call
 * the name a typo (it then fails at the probe, exit 3), so the test of exit 2 cannot run.
 */
const invalidName = await lookup('no-such-host.invalid').then(
  () => 'resolves',
  (error: NodeJS.ErrnoException) => error.code ?? String(error),
);

describe('pnpm compare --target: a URL that cannot be reached', () => {
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it.skipIf(invalidName !== 'ENOTFOUND')(
    `a host name that does not resolve: exit 2 naming ENOTFOUND, nothing written${invalidName === 'ENOTFOUND' ? '' : ` (skipped: the resolver answers ${invalidName} for no-such-host.invalid, not ENOTFOUND)`}`,
    async () => {
      const out = join(work, 'dns');
      const run = await compareAsync(['--profile', 'smoke', '--out', out, '--target', 'shop=http://no-such-host.invalid']);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain('archbench compare: --target shop=http://no-such-host.invalid: host no-such-host.invalid does not resolve (ENOTFOUND)');
      expect(existsSync(out)).toBe(false);
    },
  );

  it('a port with nothing listening: exit 3 naming ECONNREFUSED', async () => {
    const port = await closedPort();
    const run = await compareAsync(['--profile', 'smoke', '--engine', 'embedded', '--out', join(work, 'refused'), '--target', `shop=http://127.0.0.1:${port}`]);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toContain(
      `archbench compare failed: --target shop=http://127.0.0.1:${port} does not answer GET /products/SKU-0001: fetch failed (ECONNREFUSED 127.0.0.1:${port})`,
    );
  });
});
