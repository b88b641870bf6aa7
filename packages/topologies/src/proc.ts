import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * CPU and memory of a process tree from Linux /proc. Used for every topology because it needs
 * nothing from the servers and also counts helper processes that have no /metrics endpoint.
 */
export interface ProcSnapshot {
  pids: number[];
  /** user + system CPU seconds of the live processes (and their reaped children). */
  cpuSeconds: number;
  rssBytes: number;
}

/** Clock ticks per second of /proc/<pid>/stat times; 100 on every mainstream Linux build. */
const CLOCK_TICKS = 100;

interface StatLine {
  pid: number;
  /** Executable name (from the parentheses of /proc/<pid>/stat). */
  comm: string;
  ppid: number;
  pgrp: number;
  cpuTicks: number;
}

function readStat(pid: number): StatLine | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may contain spaces: parse after the last ')'.
    const comm = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime=14, stime=15, cutime=16, cstime=17.
    const at = (field: number) => Number(fields[field - 3]);
    return { pid, comm, ppid: at(4), pgrp: at(5), cpuTicks: at(14) + at(15) + at(16) + at(17) };
  } catch {
    return undefined;
  }
}

function readRssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** True where /proc can be read (Linux). */
export function procAvailable(): boolean {
  try {
    readFileSync('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
}

/**
 * The process `root` and all its descendants (by parent pid, plus its process group, so a
 * re-parented grandchild still counts).
 * @example processTree(child.pid!) // [1234, 1240, 1241]
 */
export function processTree(root: number): StatLine[] {
  const all: StatLine[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) all.push(stat);
  }
  const members = new Set<number>([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const s of all) {
      if (!members.has(s.pid) && (members.has(s.ppid) || s.pgrp === root)) {
        members.add(s.pid);
        grew = true;
      }
    }
  }
  return all.filter((s) => members.has(s.pid));
}

/**
 * Helpers of the TypeScript loader (tsx starts an esbuild service process): not part of the
 * application, and absent when the apps run compiled, so they are left out of every figure.
 */
const TOOLING = new Set(['esbuild']);

/**
 * CPU seconds and resident memory summed over a process tree, without tooling helpers;
 * `excludeRoot` leaves out the root itself, its memory and all its CPU time (a launcher such as
 * the serverless Node host around workerd, which no deployment has). The root's CPU includes what
 * its reaped children used; with `excludeRoot` that is left out too (its own time cannot be told
 * apart from it), so the CPU of a child that exited no longer counts once it is gone.
 */
export function snapshotTree(root: number, excludeRoot = false): ProcSnapshot {
  const tree = processTree(root).filter((s) => !TOOLING.has(s.comm) && !(excludeRoot && s.pid === root));
  let ticks = 0;
  let rss = 0;
  for (const s of tree) {
    ticks += s.cpuTicks;
    rss += readRssBytes(s.pid);
  }
  return { pids: tree.map((s) => s.pid), cpuSeconds: ticks / CLOCK_TICKS, rssBytes: rss };
}

/** Inodes of the TCP sockets listening on `port` (any address, IPv4 and IPv6), from /proc/net. */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    // sl local_address rem_address st … inode: st 0A is LISTEN.
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[3] === '0A' && fields[1]?.endsWith(hexPort) && fields[9] && fields[9] !== '0') inodes.add(fields[9]);
    }
  }
  return inodes;
}

/**
 * Whether `root` or a process it spawned is what listens on TCP `port`: true; false when only
 * other processes do (a second server on the port the child failed to bind); undefined when
 * /proc lists no listener there (it cannot tell).
 * @example treeListensOn(child.pid!, 3000) // true once the monolith listens
 */
export function treeListensOn(root: number, port: number): boolean | undefined {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return undefined;
  for (const { pid } of processTree(root)) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const socket = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (socket && inodes.has(socket[1]!)) return true;
      } catch {
        // closed meanwhile
      }
    }
  }
  return false;
}

/**
 * Whether a process with this pid exists (signal 0 probes without touching it).
 * @example pidAlive(process.pid) // true
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
