import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { getTopology, startTopology } from '../src/index';
import { processTree, snapshotTree } from '../src/proc';

/** A process's own CPU seconds (utime + stime, without reaped children) and its name. */
function ownStat(pid: number): { comm: string; cpuSeconds: number } {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { comm: text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')), cpuSeconds: (Number(fields[11]) + Number(fields[12])) / 100 };
}

function rssBytes(pid: number): number {
  return Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
}

describe("measure: 'children'", () => {
  it('serverless: snapshot() counts workerd, not the Node launcher around it (neither its memory nor its CPU)', async () => {
    expect(getTopology('serverless').processes.find((p) => p.name === 'api')?.measure).toBe('children');
    const topology = await startTopology('serverless', {
      port: 0,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, AUTH_SECRET: 'measure-test-secret-0123456789abc', LOG_LEVEL: 'warn' },
    });
    try {
      const [launcher] = topology.pids();
      expect(launcher).toBeDefined();
      // Some work first, so workerd has CPU of its own to count.
      for (let i = 0; i < 20; i++) await (await fetch(`${topology.baseUrl}/products?limit=5`)).text();
      await sleep(200);

      const launcherBefore = ownStat(launcher!);
      // Bundling and miniflare's start-up cost the launcher real CPU: what must not show up.
      expect(launcherBefore.cpuSeconds).toBeGreaterThan(0.2);
      const snapshot = await topology.snapshot();
      const whole = snapshotTree(launcher!);

      expect(snapshot.pids).not.toContain(launcher);
      const names = snapshot.pids.map((pid) => ownStat(pid).comm);
      expect(names).toContain('workerd');
      // Every measured process is a descendant of the launcher.
      const tree = processTree(launcher!).map((s) => s.pid);
      for (const pid of snapshot.pids) expect(tree).toContain(pid);

      // Memory: the whole tree minus the launcher's own RSS (read moments apart, so within 16 MB).
      expect(Math.abs(whole.rssBytes - rssBytes(launcher!) - snapshot.rssBytes)).toBeLessThan(16 * 1024 * 1024);
      expect(snapshot.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
      expect(snapshot.rssBytes).toBeLessThan(whole.rssBytes);
      // CPU: `whole` was read after `snapshot` and the launcher's CPU never decreases, so a snapshot
      // that left the launcher out is at most whole - launcherBefore; one that counted it is not.
      expect(snapshot.cpuSeconds).toBeGreaterThan(0);
      expect(snapshot.cpuSeconds).toBeLessThanOrEqual(whole.cpuSeconds - launcherBefore.cpuSeconds + 0.005);
    } finally {
      await topology.stop();
    }
  });

  it('a topology without it still counts each process itself', async () => {
    const topology = await startTopology('monolith', {
      port: 0,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, AUTH_SECRET: 'measure-test-secret-0123456789abc', LOG_LEVEL: 'warn' },
    });
    try {
      const snapshot = await topology.snapshot();
      expect(snapshot.pids).toEqual(expect.arrayContaining(topology.pids()));
      expect(snapshot.cpuSeconds).toBeGreaterThanOrEqual(ownStat(topology.pids()[0]!).cpuSeconds - 0.005);
    } finally {
      await topology.stop();
    }
  });
});
