import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// scripts/node24.sh, which assertSqliteRuntime's message points users to: which Node it leaves
// first on PATH. The Nodes here are stand-ins that only report a version, and the fetched ones are
// already in ARCHBENCH_TOOLS, so nothing is downloaded.
const script = resolve(__dirname, '../../../scripts/node24.sh');
const work = mkdtempSync(join(tmpdir(), 'archbench-node-script-'));
const tools = join(work, 'tools');
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A directory holding a `node` that answers `-p process.versions.node` and `--version`. */
function fakeNode(dir: string, version: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'node');
  writeFileSync(path, `#!/bin/sh\ncase "$1" in --version) echo v${version} ;; *) echo ${version} ;; esac\n`);
  chmodSync(path, 0o755);
  return dir;
}
fakeNode(join(tools, 'node-24.22.3', 'bin'), '24.22.3');
fakeNode(join(tools, 'node-26.12.1', 'bin'), '26.12.1');

/** Sources the script in bash with `running` first on PATH; returns the node then on PATH. */
function source(running: string, env: Record<string, string> = {}) {
  const bin = fakeNode(join(work, `running-${running}`), running);
  const result = spawnSync('bash', ['-c', `. "${script}" && echo "$(command -v node) \${npm_config_nodedir:-unset}"`], {
    encoding: 'utf8',
    env: { PATH: `${bin}:/usr/bin:/bin`, HOME: work, ARCHBENCH_TOOLS: tools, ...env },
  });
  expect(result.status, result.stderr).toBe(0);
  const [node, nodedir] = result.stdout.trim().split(' ');
  return { node, nodedir };
}

const supported = process.platform === 'linux' && ['x64', 'arm64'].includes(process.arch);

describe.skipIf(!supported)('scripts/node24.sh', () => {
  it('puts Node 24 first on PATH where the running Node is older, with node-gyp pointed at it', () => {
    expect(source('20.20.2')).toEqual({ node: join(tools, 'node-24.22.3', 'bin', 'node'), nodedir: join(tools, 'node-24.22.3') });
  });

  it('leaves a Node 24 or later alone when no version is asked for', () => {
    expect(source('24.1.0')).toEqual({ node: join(work, 'running-24.1.0', 'node'), nodedir: 'unset' });
    expect(source('26.0.0')).toEqual({ node: join(work, 'running-26.0.0', 'node'), nodedir: 'unset' });
  });

  it('switches to the version ARCHBENCH_NODE_VERSION names even where a Node 24 runs', () => {
    expect(source('24.22.3', { ARCHBENCH_NODE_VERSION: '26.12.1' })).toEqual({
      node: join(tools, 'node-26.12.1', 'bin', 'node'),
      nodedir: join(tools, 'node-26.12.1'),
    });
    expect(source('20.20.2', { ARCHBENCH_NODE_VERSION: '26.12.1' }).node).toBe(join(tools, 'node-26.12.1', 'bin', 'node'));
  });

  it('does nothing when the running Node already is the version asked for', () => {
    expect(source('26.12.1', { ARCHBENCH_NODE_VERSION: '26.12.1' })).toEqual({
      node: join(work, 'running-26.12.1', 'node'),
      nodedir: 'unset',
    });
  });
});
