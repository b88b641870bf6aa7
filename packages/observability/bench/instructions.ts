/**
 * `pnpm --filter @archbench/observability bench:instructions`: what observability costs the
 * monolith's GET /products/{sku} in machine instructions per request, counted by valgrind's
 * callgrind. An instruction count is the same for the same work whatever else the machine is
 * doing, where the throughput bench (`pnpm bench`) swings by more than the 10 % it checks on a
 * shared machine. It is a proxy, not the target: instructions leave out what the same instructions
 * cost in time (cache and branch misses, background threads), so read it beside the throughput
 * bench, not instead of it.
 *
 * Each variant (the environments of `pnpm bench`, see bench/variants.ts) runs the bundled monolith
 * under callgrind, all at once (counts do not depend on contention). Each gets --warmup-requests
 * unmeasured requests (under valgrind the JIT needs as many requests as at full speed, at about
 * 1/60 of the rate), then callgrind's counters are zeroed, --requests requests are sent and the
 * counters dumped, twice. Printed: instructions per request of the main thread (the event loop,
 * where the request runs: JS, node's C++, the driver, the GC's main-thread part) and of all threads
 * (adds V8's compiler and GC helper threads and libuv's pool: these vary with when a compile or a
 * collection lands in the window), and each variant's main-thread ratio to `off`.
 *
 * Needs valgrind (`apt-get install valgrind`); 10–20 minutes with the defaults on 2 cores.
 * Flags: --variants off,default,full --warmup-requests 60000 --requests 5000 --connections 8
 *        --cache-sim (also simulate the caches and branch predictor: misses and an estimated cycle count; slower)
 *        --last-level-kb 1024 (with --cache-sim: simulate a last-level cache of this size, 16-way, instead
 *        of valgrind's pick from the CPU, usually the whole L3; a core's own L2 is what a request keeps
 *        to itself when the L3 is shared with other tenants)
 *        --by-function 25 (also print, per variant, the functions whose instructions per request differ
 *        most from `off`'s: window 2, main thread, JavaScript named through V8's perf map; 0: not;
 *        with --cache-sim also the functions whose last-level misses differ most)
 *        --callers-of REGEX (also print, per variant, who calls the functions whose name matches: calls
 *        and instructions per request, callees included; window 2, main thread, JavaScript named
 *        through V8's perf map; say `'v8::Object::Set\('` for where a runtime slow path comes from)
 *        --keep-output DIR (keep callgrind's files, one per process, window and thread, and with
 *        --by-function or --callers-of each process's perf map, in DIR, a new or empty folder, for
 *        `callgrind_annotate --tree=caller` or KCachegrind; by default they are deleted)
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { benchArgs, benchNumber } from '@archbench/topologies/bench-args';
import { SERVER_ENV, SERVER_NODE_FLAGS, bundleEntries } from '@archbench/topologies/bundle';
import { freePorts } from '@archbench/topologies/ports';
import { callersOfFile, functionDiff, selfCostOf } from './callgrind-functions';
import { BENCH_REQUESTS, autocannonRequests, chooseVariants, keepStderrTail, mean, startSink, untilReady, variantEnvironments } from './variants';
import type { BenchServer } from './variants';

const args = benchArgs({
  variants: { type: 'string', default: 'off,default,full' },
  'warmup-requests': { type: 'string', default: '60000' },
  requests: { type: 'string', default: '5000' },
  connections: { type: 'string', default: '8' },
  'cache-sim': { type: 'boolean', default: false },
  'last-level-kb': { type: 'string', default: '0' },
  'by-function': { type: 'string', default: '0' },
  'callers-of': { type: 'string', default: '' },
  'keep-output': { type: 'string', default: '' },
});
const cacheSim = args['cache-sim'];
const lastLevelKb = benchNumber('last-level-kb', args['last-level-kb'], 'non-negative');
// valgrind takes a cache whose sets (size / (ways × 64-byte lines)) are a power of two.
if (lastLevelKb > 0 && (!cacheSim || !Number.isInteger(Math.log2(lastLevelKb)) || lastLevelKb < 64)) {
  process.stderr.write('--last-level-kb needs --cache-sim and a power of two of at least 64 (say 1024 for a 1 MiB L2)\n');
  process.exit(2);
}
const LAST_LEVEL_WAYS = 16;
/** Callers listed per variant with --callers-of. */
const CALLERS_SHOWN = 12;
/** callgrind's last-level miss events: instruction reads, data reads, data writes. */
const LAST_LEVEL_MISSES = ['ILmr', 'DLmr', 'DLmw'] as const;
const warmupRequests = benchNumber('warmup-requests', args['warmup-requests'], 'count');
const requests = benchNumber('requests', args.requests, 'count');
const connections = benchNumber('connections', args.connections, 'count');
const byFunction = benchNumber('by-function', args['by-function'], 'non-negative');
let callersPattern: RegExp | undefined;
try {
  callersPattern = args['callers-of'] === '' ? undefined : new RegExp(args['callers-of']);
} catch (error) {
  process.stderr.write(`--callers-of must be a regular expression: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
}
/** Whether the servers write V8's perf map, which names JIT code in callgrind's files. */
const perfMaps = byFunction > 0 || callersPattern !== undefined;
const keepOutput = args['keep-output'] === '' ? undefined : resolve(args['keep-output']);
if (keepOutput !== undefined && existsSync(keepOutput) && readdirSync(keepOutput).length > 0) {
  process.stderr.write(`--keep-output ${keepOutput} is not empty: give a new or empty folder (the bench would mix its files with what is there)\n`);
  process.exit(2);
}
if (spawnSync('valgrind', ['--version']).status !== 0 || spawnSync('callgrind_control', ['-h']).error) {
  process.stderr.write('this bench needs valgrind (with callgrind_control) on PATH: apt-get install valgrind\n');
  process.exit(2);
}

// valgrind names the pipes callgrind_control talks through after the user and HOST; a container
// without USER or LOGNAME gets "???" on one side only, so both sides are given the same.
const user = userInfo().username;
const HOST = '127.0.0.1';
const controlEnv = { ...process.env, USER: user, LOGNAME: user, HOST };

/** A monolith under callgrind (its stderrTail holds the end of valgrind's and the server's stderr). */
interface Server extends BenchServer {
  port: number;
  outBase: string;
}

async function send(server: Server, amount: number): Promise<void> {
  const result = await autocannon({
    url: server.url,
    connections,
    amount,
    timeout: 120,
    requests: autocannonRequests(BENCH_REQUESTS.product),
  });
  const failed = result.non2xx + result.errors + result.timeouts;
  if (failed > 0) throw new Error(`${failed} of ${amount} requests to the ${server.name} monolith failed`);
}

/** Warm-up chunks: a progress line after each (under valgrind a chunk of 10,000 takes a minute or more). */
const WARMUP_CHUNK = 10_000;

/** Sends --warmup-requests to every server, in chunks, saying how far it got and at what rate. */
async function warmUp(servers: readonly Server[]): Promise<void> {
  const started = performance.now();
  for (let done = 0; done < warmupRequests;) {
    const amount = Math.min(WARMUP_CHUNK, warmupRequests - done);
    await Promise.all(servers.map((s) => send(s, amount)));
    done += amount;
    const rate = done / ((performance.now() - started) / 1000);
    const left = Math.round((warmupRequests - done) / rate);
    process.stderr.write(
      `  warm-up ${done}/${warmupRequests} each (${Math.round(rate)} requests/s per server${done < warmupRequests ? `, about ${left} s left` : ''})\n`,
    );
  }
}

/** One thread's dump: its events (Ir, and with --cache-sim the misses) by name, from the "events:" and "totals:" lines. */
function countsOf(file: string): Record<string, number> {
  const lines = readFileSync(file, 'utf8').split('\n');
  const names = (lines.find((l) => l.startsWith('events:')) ?? 'events: Ir').split(/\s+/).slice(1);
  const values = (lines.find((l) => l.startsWith('totals:') || l.startsWith('summary:')) ?? '').split(/\s+/).slice(1);
  return Object.fromEntries(names.map((name, i) => [name, Number(values[i] ?? 0)]));
}

function totalOf(file: string): number {
  return countsOf(file).Ir ?? 0;
}

/**
 * A rough cycle count from callgrind's simulated events: an instruction a cycle, plus 10 cycles per
 * L1 miss, 100 per last-level miss and 15 per mispredicted branch. The weights are typical of a
 * current x86 core, not measured here: read it as a ranking of variants, not as time.
 */
function estimatedCycles(c: Record<string, number>): number {
  const l1 = (c.I1mr ?? 0) + (c.D1mr ?? 0) + (c.D1mw ?? 0);
  return (c.Ir ?? 0) + 10 * l1 + 100 * lastLevelMisses(c) + 15 * ((c.Bcm ?? 0) + (c.Bim ?? 0));
}

/** The last-level misses among callgrind's events (instruction reads, data reads, data writes). */
function lastLevelMisses(c: Record<string, number>): number {
  return LAST_LEVEL_MISSES.reduce((sum, event) => sum + (c[event] ?? 0), 0);
}

/** Zeroes the counters, sends `requests`, dumps: main-thread and all-thread instructions per request. */
async function measure(server: Server, window: number): Promise<{ main: number; all: number; events: Record<string, number> }> {
  const pid = String(server.child.pid);
  execFileSync('callgrind_control', ['-z', pid], { env: controlEnv, stdio: 'ignore' });
  await send(server, requests);
  execFileSync('callgrind_control', ['-d', pid], { env: controlEnv, stdio: 'ignore' });
  // One file per thread: <base>.<pid>.<dump>-<thread>, thread 01 the main thread.
  const prefix = `${basename(server.outBase)}.${pid}.${window}-`;
  const dir = dirname(server.outBase);
  for (let i = 0; i < 50 && !existsSync(join(dir, `${prefix}01`)); i++) await sleep(200);
  const all = readdirSync(dir)
    .filter((f) => f.startsWith(prefix))
    .reduce((sum, f) => sum + totalOf(join(dir, f)), 0);
  const main = countsOf(join(dir, `${prefix}01`));
  const events = Object.fromEntries(Object.entries(main).map(([name, value]) => [name, value / requests]));
  return { main: (main.Ir ?? 0) / requests, all: all / requests, events };
}

async function main() {
  const workDir = keepOutput ?? mkdtempSync(join(tmpdir(), 'archbench-obs-instructions-'));
  if (keepOutput !== undefined) mkdirSync(keepOutput, { recursive: true });
  const sink = await startSink();
  const variants = variantEnvironments(sink.url);
  const chosen = chooseVariants(args.variants, variants);
  const servers: Server[] = [];
  try {
    process.stderr.write('bundling the monolith…\n');
    const entry = new URL('../../../apps/monolith/src/main.ts', import.meta.url).pathname;
    const { monolith } = await bundleEntries({ monolith: entry });
    const ports = await freePorts(chosen.length);
    for (const [i, name] of chosen.entries()) {
      const outBase = join(workDir, name);
      const child = spawn(
        'valgrind',
        [
          '--tool=callgrind',
          '--separate-threads=yes',
          ...(cacheSim ? ['--cache-sim=yes', '--branch-sim=yes'] : []),
          ...(lastLevelKb > 0 ? [`--LL=${lastLevelKb * 1024},${LAST_LEVEL_WAYS},64`] : []),
          '--smc-check=all-non-file',
          `--callgrind-out-file=${outBase}.%p`,
          process.execPath,
          ...SERVER_NODE_FLAGS,
          // V8 writes /tmp/perf-<pid>.map: which function each range of JIT code holds. The flag
          // also turns on V8's log, one isolate-*.log per isolate in the working directory unless
          // it is sent to one file in the bench's data directory.
          ...(perfMaps ? ['--perf-basic-prof', '--no-logfile-per-isolate', `--logfile=${outBase}-v8.log`] : []),
          monolith,
        ],
        {
          // A batch leaves when full (512 spans), never on the 1 s timer: at full speed a batch of the
          // default fills in about 130 ms, but at valgrind's few hundred requests a second the timer
          // would send one POST per second, charging each request ten times its share of export.
          env: {
            ...controlEnv,
            ...SERVER_ENV,
            ...variants[name],
            OTEL_BSP_SCHEDULE_DELAY: '600000',
            PORT: String(ports[i]),
            DATA_DIR: join(workDir, `${name}-data`),
          },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      const server: Server = { name, port: ports[i]!, url: `http://${HOST}:${ports[i]}`, child, outBase, stderrTail: '' };
      keepStderrTail(server);
      servers.push(server);
    }
    process.stderr.write(`starting ${servers.length} monoliths under callgrind (a minute or two)…\n`);
    await Promise.all(servers.map((s) => untilReady(s, 300_000, 1000)));
    process.stderr.write(`warming up: ${warmupRequests} requests each, ${connections} connections (several minutes)…\n`);
    await warmUp(servers);
    const results = new Map<string, Array<{ main: number; all: number; events: Record<string, number> }>>();
    for (const window of [1, 2]) {
      process.stderr.write(`measuring window ${window}/2: ${requests} requests each…\n`);
      const got = await Promise.all(servers.map((s) => measure(s, window)));
      servers.forEach((s, i) => results.set(s.name, [...(results.get(s.name) ?? []), got[i]!]));
    }
    const offMain = mean(results.get('off')!.map((r) => r.main));
    const lines = [
      '',
      `instructions per GET /products/{sku} (callgrind), bundled monolith, NODE_ENV=production; ${warmupRequests} warm-up requests, then two windows of ${requests}; Node ${process.versions.node}`,
      '',
      '| variant | main thread (window 1 / 2) | main-thread ratio to off | all threads (window 1 / 2) |',
      '|---|---|---|---|',
    ];
    for (const name of chosen) {
      const r = results.get(name)!;
      const k = (n: number) => `${(n / 1000).toFixed(1)}k`;
      lines.push(
        `| ${name} | ${r.map((w) => k(w.main)).join(' / ')} | ${(mean(r.map((w) => w.main)) / offMain).toFixed(3)} | ${r.map((w) => k(w.all)).join(' / ')} |`,
      );
    }
    if (cacheSim) {
      const offEvents = results.get('off')!;
      const perRequest = (name: string, pick: (e: Record<string, number>) => number) => mean(results.get(name)!.map((w) => pick(w.events)));
      const offCycles = perRequest('off', estimatedCycles);
      lines.push(
        '',
        `simulated caches and branches (main thread, per request, mean of ${offEvents.length} windows; last level: ${
          lastLevelKb > 0 ? `${lastLevelKb} KiB, ${LAST_LEVEL_WAYS}-way` : "valgrind's pick from the CPU (its stderr names it)"
        })`,
        '',
        '| variant | L1 instruction misses | L1 data misses | last-level misses | mispredicted branches | estimated cycles | ratio to off |',
        '|---|---|---|---|---|---|---|',
      );
      for (const name of chosen) {
        const k = (n: number) => `${(n / 1000).toFixed(2)}k`;
        const cycles = perRequest(name, estimatedCycles);
        lines.push(
          `| ${name} | ${k(perRequest(name, (e) => e.I1mr ?? 0))} | ${k(perRequest(name, (e) => (e.D1mr ?? 0) + (e.D1mw ?? 0)))} | ${k(
            perRequest(name, lastLevelMisses),
          )} | ${k(perRequest(name, (e) => (e.Bcm ?? 0) + (e.Bim ?? 0)))} | ${k(cycles)} | ${(cycles / offCycles).toFixed(3)} |`,
        );
      }
      lines.push('', 'estimated cycles = instructions + 10 per L1 miss + 100 per last-level miss + 15 per mispredicted branch (typical weights, not measured)');
    }
    // A process whose two windows disagree was still changing its compiled code, or V8 left it
    // in a slow state (seen: node's nextTick calling the runtime for every tick object, +21k per
    // request): its figures say more about that process than about the variant.
    for (const name of chosen) {
      const windows = results.get(name)!.map((w) => w.main);
      const spread = (Math.max(...windows) - Math.min(...windows)) / Math.min(...windows);
      if (spread > 0.05) lines.push(`warning: ${name}'s windows differ by ${(spread * 100).toFixed(0)} %; its process was not steady, run again`);
    }
    if (byFunction > 0) {
      // Window 2's main thread of each process, its JIT code named through its perf map.
      const selfOf = (s: Server, events: readonly string[]) =>
        selfCostOf(join(dirname(s.outBase), `${basename(s.outBase)}.${s.child.pid}.2-01`), `/tmp/perf-${s.child.pid}.map`, events);
      const offServer = servers.find((s) => s.name === 'off')!;
      const others = servers.filter((s) => s.name !== 'off');
      /** One variant's functions against off's, as a table under `title`. */
      const diffTable = (title: string, server: Server, base: ReadonlyMap<string, number>, self: ReadonlyMap<string, number>, digits: number) => {
        lines.push('', title, '', '| Δ per request | off | ' + server.name + ' | function |', '|---|---|---|---|');
        for (const row of functionDiff(base, self, requests, byFunction)) {
          lines.push(
            `| ${row.delta >= 0 ? '+' : ''}${row.delta.toFixed(digits)} | ${row.base.toFixed(digits)} | ${row.other.toFixed(digits)} | ${row.name.replaceAll('|', '\\|')} |`,
          );
        }
      };
      const off = selfOf(offServer, ['Ir']);
      lines.push(
        '',
        `instructions per request by function against off (window 2, main thread, each function's own instructions): the ${byFunction} largest increases, then the largest decreases.`,
        'Processes inline differently, so a + and a − on related code (a function and its caller) is work that moved, not work added; GC work (v8::internal::…Scaveng…, IterateObjectCache) follows valgrind’s slow clock, not the request count (bench/README.md, "Eighth pass").',
      );
      for (const server of others) {
        const self = selfOf(server, ['Ir']);
        const delta = ([...self.values()].reduce((a, b) => a + b, 0) - [...off.values()].reduce((a, b) => a + b, 0)) / requests;
        diffTable(`${server.name} (${delta >= 0 ? '+' : ''}${(delta / 1000).toFixed(1)}k over off):`, server, off, self, 0);
      }
      if (cacheSim) {
        // Where the extra last-level misses land: a function that misses is not always the one that
        // evicted the line (code that runs after the variant's own code pays for what it pushed out).
        const offMisses = selfOf(offServer, LAST_LEVEL_MISSES);
        for (const server of others) {
          diffTable(
            `${server.name}: last-level misses per request by function against off (window 2, main thread; a function pays for lines that other code evicted)`,
            server,
            offMisses,
            selfOf(server, LAST_LEVEL_MISSES),
            1,
          );
        }
      }
    }
    if (callersPattern !== undefined) {
      lines.push(
        '',
        `callers of ${String(callersPattern)} (window 2, main thread; per request: calls, and instructions of those calls with what they call), the ${CALLERS_SHOWN} dearest per variant:`,
      );
      for (const s of servers) {
        const rows = callersOfFile(join(dirname(s.outBase), `${basename(s.outBase)}.${s.child.pid}.2-01`), `/tmp/perf-${s.child.pid}.map`, callersPattern);
        lines.push('', `${s.name}:`, '', '| calls | instructions | function | called from |', '|---|---|---|---|');
        if (rows.length === 0) lines.push('| – | – | no call matched | – |');
        for (const row of rows.slice(0, CALLERS_SHOWN)) {
          const cell = (name: string) => name.replaceAll('|', '\\|');
          lines.push(`| ${(row.calls / requests).toFixed(2)} | ${(row.cost / requests).toFixed(0)} | ${cell(row.callee)} | ${cell(row.caller)} |`);
        }
      }
    }
    lines.push('', 'instructions, not time: read beside `pnpm bench` (throughput), which holds the targets', '');
    process.stdout.write(lines.join('\n'));
  } finally {
    for (const s of servers) s.child.kill('SIGKILL');
    sink.close();
    if (keepOutput === undefined) rmSync(workDir, { recursive: true, force: true });
    else {
      // The servers' databases are not output; the perf maps name the JIT code in callgrind's files.
      for (const name of chosen) rmSync(join(workDir, `${name}-data`), { recursive: true, force: true });
      if (perfMaps)
        for (const s of servers)
          if (existsSync(`/tmp/perf-${s.child.pid}.map`)) copyFileSync(`/tmp/perf-${s.child.pid}.map`, `${s.outBase}.${s.child.pid}.perf.map`);
      process.stderr.write(
        `callgrind's files are in ${keepOutput}: <variant>.<pid>.<window>-<thread> (thread 01 the main thread)${perfMaps ? ', and <variant>.<pid>.perf.map naming the JIT code' : ''}; read one with callgrind_annotate --tree=caller\n`,
      );
    }
    if (perfMaps) for (const s of servers) rmSync(`/tmp/perf-${s.child.pid}.map`, { force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
