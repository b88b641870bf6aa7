/**
 * `pnpm --filter @archbench/observability bench:side-by-side`: what observability costs the
 * monolith, in server CPU per request, with every variant loaded AT THE SAME TIME.
 *
 * `pnpm bench` (overhead.ts) loads one server at a time and holds the targets, in throughput. On a
 * shared VM the speed of the machine moves by more than the few per cent in question between two
 * runs a second apart, so its per-round ratios spread over ±15 %. Here every server is loaded in
 * the same seconds, so a slow stretch slows all of them alike, and a ratio compares like with like.
 * Use it to tell whether a change of a few per cent is real: run the variants it touches, or the
 * same variant from this checkout and from an earlier commit (`--against`).
 *
 * Each variant (the environments of `pnpm bench`, see bench/variants.ts; `off` is always added)
 * runs in --processes bundled monoliths, started in the order A B … B A, so a variant is not always
 * the first or the last one started: a server's position was measured to move its CPU per request
 * by 1–2 % on this machine, as much as the effects this bench is for. Each round loads all servers
 * for --duration seconds (autocannon, GET /products/{sku} or with --request order POST /orders,
 * --connections each, started in an order that rotates every round) and reads each server's CPU
 * from /proc (all threads, and the main thread alone). A variant's ratio in a round is its
 * processes' mean CPU per request over that of the `off` processes; printed: the median and range
 * over rounds.
 *
 * With `--against <git revision>` each variant also runs from a worktree of that revision (its
 * node_modules linked to this checkout's), named `<variant>@<revision>`, and the bench prints each
 * variant's ratio of this checkout to the revision.
 *
 * Loading many servers at once needs memory (about 150 MB each) and makes each one slower (they
 * share the cores); the ratios hold, the absolute µs do not compare with `pnpm bench`'s.
 *
 * Flags: --variants default --processes 2 --rounds 20 --duration 3 (s) --warmup 15 (s, once)
 *        --connections 8 --against <revision> --request product (or order: POST /orders)
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { benchArgs, benchNumber } from '@archbench/topologies/bench-args';
import { SERVER_ENV, SERVER_NODE_FLAGS, bundleEntries } from '@archbench/topologies/bundle';
import { freePorts } from '@archbench/topologies/ports';
import {
  autocannonRequests,
  chooseRequest,
  chooseVariants,
  failedStatuses,
  keepStderrTail,
  mean,
  median,
  processCpu,
  range,
  requireServed,
  startSink,
  untilReady,
  variantEnvironments,
} from './variants';
import type { BenchServer } from './variants';

const args = benchArgs({
  variants: { type: 'string', default: 'default' },
  processes: { type: 'string', default: '2' },
  rounds: { type: 'string', default: '20' },
  duration: { type: 'string', default: '3' },
  warmup: { type: 'string', default: '15' },
  connections: { type: 'string', default: '8' },
  against: { type: 'string' },
  request: { type: 'string', default: 'product' },
});
const request = chooseRequest(args.request);
const processes = benchNumber('processes', args.processes, 'count');
const rounds = benchNumber('rounds', args.rounds, 'count');
const duration = benchNumber('duration', args.duration, 'positive');
const warmup = benchNumber('warmup', args.warmup, 'non-negative');
const connections = benchNumber('connections', args.connections, 'count');
const REPO = new URL('../../../', import.meta.url).pathname;
const MONOLITH = 'apps/monolith/src/main.ts';

/** A worktree of `revision` beside this checkout, with every node_modules of this checkout linked in. */
function worktreeOf(revision: string): { dir: string; remove: () => void } {
  let commit: string;
  try {
    commit = execFileSync('git', ['-C', REPO, 'rev-parse', '--verify', `${revision}^{commit}`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    process.stderr.write(`--against: ${revision} is not a commit of ${REPO}\n`);
    process.exit(2);
  }
  const dir = mkdtempSync(join(tmpdir(), 'archbench-side-by-side-tree-'));
  execFileSync('git', ['-C', REPO, 'worktree', 'add', '--detach', '--quiet', dir, commit]);
  // The packages' dependencies: node_modules of the root, apps/* and packages/* (pnpm's layout).
  const holders = [
    '.',
    ...['apps', 'packages', 'load', 'deploy'].flatMap((top) =>
      existsSync(join(REPO, top)) ? [top, ...readdirSync(join(REPO, top)).map((d) => join(top, d))] : [],
    ),
  ];
  for (const holder of holders) {
    const modules = join(REPO, holder, 'node_modules');
    if (existsSync(modules) && existsSync(join(dir, holder)) && !existsSync(join(dir, holder, 'node_modules')))
      symlinkSync(modules, join(dir, holder, 'node_modules'));
  }
  return {
    dir,
    remove: () => {
      if (!existsSync(dir)) return;
      try {
        execFileSync('git', ['-C', REPO, 'worktree', 'remove', '--force', dir], { stdio: 'ignore' });
      } catch {
        // Removed below; `git worktree prune` forgets it.
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function load(server: BenchServer, seconds: number) {
  return autocannon({
    url: server.url,
    connections,
    duration: seconds,
    requests: autocannonRequests(request),
  });
}

async function main() {
  const sink = await startSink();
  const environments = variantEnvironments(sink.url);
  const chosen = chooseVariants(args.variants, environments);
  const base = args.against === undefined ? undefined : worktreeOf(args.against);
  const servers: BenchServer[] = [];
  const work = mkdtempSync(join(tmpdir(), 'archbench-side-by-side-data-'));
  const cleanUp = () => {
    for (const s of servers) s.child.kill('SIGKILL');
    sink.close();
    base?.remove();
    rmSync(work, { recursive: true, force: true });
  };
  // Ctrl-C: no worktree, data directory or server left behind.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      cleanUp();
      process.exit(130);
    });
  }
  try {
    process.stderr.write(`bundling the monolith${base ? ` (this checkout and ${args.against})` : ''}…\n`);
    const bundles: Record<string, string> = { '': (await bundleEntries({ monolith: join(REPO, MONOLITH) })).monolith };
    if (base) bundles[`@${args.against}`] = (await bundleEntries({ monolith: join(base.dir, MONOLITH) })).monolith;
    const names = Object.keys(bundles).flatMap((tree) => chosen.map((variant) => ({ variant, tree })));
    // A B … B A: no variant is always started first or last.
    const order = Array.from({ length: processes }, (_, p) => (p % 2 === 0 ? names : [...names].reverse())).flat();
    const ports = await freePorts(order.length);
    for (const [i, { variant, tree }] of order.entries()) {
      const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, bundles[tree]!], {
        env: { ...process.env, ...SERVER_ENV, ...environments[variant], HOST: '127.0.0.1', PORT: String(ports[i]), DATA_DIR: join(work, String(i)) },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      const server: BenchServer = { name: `${variant}${tree}`, url: `http://127.0.0.1:${ports[i]}`, child, stderrTail: '' };
      keepStderrTail(server);
      servers.push(server);
    }
    await Promise.all(servers.map((s) => untilReady(s, 60_000, 200)));
    process.stderr.write(
      `load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' / ')} on ${cpus().length} cores; warming up ${servers.length} monoliths together for ${warmup}s (${connections} connections each)…\n`,
    );
    if (warmup > 0) await Promise.all(servers.map((s) => load(s, warmup)));

    /** Per server name: per round, its processes' mean CPU µs per request (all threads, main thread). */
    const perRound = new Map<string, Array<{ all: number; main: number }>>();
    for (let round = 1; round <= rounds; round++) {
      // Rotate which server's load starts first.
      const loaded = servers.map((_, i) => servers[(i + round) % servers.length]!);
      const before = new Map(loaded.map((s) => [s, processCpu(s.child.pid!)]));
      const results = await Promise.all(loaded.map((s) => load(s, duration)));
      const byName = new Map<string, Array<{ all: number; main: number }>>();
      loaded.forEach((s, i) => {
        const after = processCpu(s.child.pid!);
        const requests = Math.max(1, results[i]!.requests.total);
        const failed = results[i]!.non2xx + results[i]!.errors;
        const statuses = failedStatuses(results[i]!.statusCodeStats);
        // All failed: its CPU per request would be the error path's. Stop, with the server's stderr.
        requireServed({
          server: s.name,
          ok: results[i]!['2xx'],
          failed,
          firstFailure: statuses ?? (results[i]!.errors > 0 ? `${results[i]!.errors} connection errors` : undefined),
          hint: s.stderrTail ? `the end of its stderr:\n${s.stderrTail}` : undefined,
        });
        if (failed > 0) process.stderr.write(`warning: ${failed} failed requests to ${s.name} in round ${round}${statuses ? ` (${statuses})` : ''}\n`);
        const us = { all: ((after.all - before.get(s)!.all) * 1e6) / requests, main: ((after.main - before.get(s)!.main) * 1e6) / requests };
        byName.set(s.name, [...(byName.get(s.name) ?? []), us]);
      });
      for (const [name, list] of byName)
        perRound.set(name, [...(perRound.get(name) ?? []), { all: mean(list.map((u) => u.all)), main: mean(list.map((u) => u.main)) }]);
      const off = perRound.get('off')!.at(-1)!;
      process.stderr.write(
        `round ${round}/${rounds}: ${[...byName.keys()].map((name) => `${name} ×${(perRound.get(name)!.at(-1)!.all / off.all).toFixed(3)}`).join(', ')}\n`,
      );
    }

    const off = perRound.get('off')!;
    const ratios = (name: string, to: Array<{ all: number; main: number }>, key: 'all' | 'main') => perRound.get(name)!.map((r, i) => r[key] / to[i]![key]);
    const lines = [
      '',
      `observability side by side on the monolith (bundled, NODE_ENV=production): ${request.label}, ${servers.length} servers loaded together, ` +
        `${processes} processes per variant, ${rounds} rounds of ${duration}s, ${connections} connections each; Node ${process.versions.node}, ${cpus().length} cores`,
      '',
      '| variant | server CPU µs/request (median, all threads) | CPU per request ratio to off (median, range) | main thread only |',
      '|---|---|---|---|',
    ];
    for (const name of perRound.keys()) {
      const all = ratios(name, off, 'all');
      const ratio = name === 'off' ? '1' : `${median(all).toFixed(3)} (${range(all)})`;
      const main = name === 'off' ? '1' : median(ratios(name, off, 'main')).toFixed(3);
      lines.push(`| ${name} | ${median(perRound.get(name)!.map((r) => r.all)).toFixed(1)} | ${ratio} | ${main} |`);
    }
    if (base) {
      lines.push('', `this checkout against ${args.against} (CPU per request, same round):`, '');
      for (const variant of chosen) {
        const r = ratios(variant, perRound.get(`${variant}@${args.against}`)!, 'all');
        lines.push(`- ${variant}: ×${median(r).toFixed(3)} (${range(r)})`);
      }
    }
    lines.push('', 'CPU per request of servers sharing the cores: compare ratios, not µs, with `pnpm bench`', '');
    process.stdout.write(lines.join('\n'));
  } finally {
    cleanUp();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
