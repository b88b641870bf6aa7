// Instructions per function from a callgrind dump, with V8's JIT code named through the perf map
// node writes with --perf-basic-prof. callgrind knows the names of native code (node, V8, libc and
// V8's builtins) but sees JavaScript compiled at run time as bare addresses; V8's map says which
// function each address range holds. Used by `bench:instructions --by-function`.
import { readFileSync } from 'node:fs';

/** One range of V8's perf map (`/tmp/perf-<pid>.map`: `<start hex> <size hex> <name>` per line). */
interface MapEntry {
  start: number;
  end: number;
  name: string;
}

/**
 * The entries of a perf map, sorted by start. V8 appends an entry whenever it compiles code, so an
 * address range reused after its code was collected appears again later: the later entry wins.
 */
export function parsePerfMap(text: string): MapEntry[] {
  const byStart = new Map<number, MapEntry>();
  for (const line of text.split('\n')) {
    const first = line.indexOf(' ');
    const second = line.indexOf(' ', first + 1);
    if (first <= 0 || second <= first) continue;
    const start = Number.parseInt(line.slice(0, first), 16);
    const size = Number.parseInt(line.slice(first + 1, second), 16);
    if (Number.isNaN(start) || Number.isNaN(size)) continue;
    byStart.set(start, { start, end: start + size, name: line.slice(second + 1).trim() });
  }
  return [...byStart.values()].sort((a, b) => a.start - b.start);
}

/**
 * A readable name for a perf map entry: `JS:*'startSpan file:///tmp/archbench-bundle-x/monolith.mjs:1993:12`
 * becomes `startSpan monolith.mjs:1993`. The tier mark (`*` TurboFan, `+` Maglev, `^` Sparkplug,
 * `~` interpreted) goes, so the same function sums across tiers; the line stays, as many functions
 * share a name (`get`, `end`).
 */
export function jsName(entry: string): string {
  const match = /^JS:[*+^~]?'?(\S*) (\S+?)(?::(\d+))?(?::\d+)?$/.exec(entry);
  if (match === null) return entry;
  const [, name, file, line] = match;
  const short = file!.startsWith('node:') ? file! : file!.slice(file!.lastIndexOf('/') + 1);
  return `${name || '(anonymous)'} ${short}${line ? `:${line}` : ''}`;
}

/** The name of the JIT code at `address`, or undefined when no map entry holds it. */
function lookup(entries: readonly MapEntry[], address: number): string | undefined {
  // The last entry starting at or before the address, then a few before it (ranges may overlap).
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (entries[mid]!.start <= address) low = mid + 1;
    else high = mid;
  }
  for (let i = low - 1; i >= 0 && i >= low - 8; i--) {
    const entry = entries[i]!;
    if (address < entry.end) return entry.name.startsWith('JS:') ? jsName(entry.name) : entry.name;
  }
  return undefined;
}

/**
 * Self instructions (`Ir`, the first event) per function of one callgrind dump: each function's
 * own cost lines, not what it called (the line after `calls=` is a call's inclusive cost). Names
 * that callgrind gives as addresses (`0x…`) are looked up in the perf map; an address no entry
 * holds counts as `(unnamed JIT code)`.
 */
export function selfInstructions(dump: string, perfMap: readonly MapEntry[]): Map<string, number> {
  return selfCost(dump, perfMap, ['Ir']);
}

/** The `events:` line's order of a dump, and the cost-line positions of the named events (field 0 is the line number). */
function eventPositions(dump: string, events: readonly string[]): number[] {
  const header = /^events: (.*)$/m.exec(dump);
  const order = header === null ? ['Ir'] : header[1]!.trim().split(/\s+/);
  return events
    .map((e) => order.indexOf(e))
    .filter((i) => i >= 0)
    .map((i) => i + 1);
}

/** The sum of the fields at `positions` of a cost line. */
function costOf(line: string, positions: readonly number[]): number {
  const fields = line.split(' ');
  let cost = 0;
  for (const i of positions) cost += Number(fields[i] ?? 0);
  return cost;
}

/**
 * Reads callgrind's name compression: `fn=(12) name` defines id 12, a later `fn=(12)` or
 * `cfn=(12)` reuses it. Returns the name a spec stands for.
 */
function nameReader(): (spec: string) => string {
  const names = new Map<string, string>();
  return (spec) => {
    const match = /^\((\d+)\)(?: (.*))?$/.exec(spec);
    if (match === null) return spec;
    if (match[2] !== undefined) names.set(match[1]!, match[2]);
    return names.get(match[1]!) ?? spec;
  };
}

/** A function's readable name: callgrind's, or for an address (`0x…`, maybe `0x…'2`) the perf map's. */
function resolveName(name: string, perfMap: readonly MapEntry[]): string {
  const address = /^0x([0-9a-f]+)(?:'\d+)?$/i.exec(name);
  return address === null ? name : (lookup(perfMap, Number.parseInt(address[1]!, 16)) ?? '(unnamed JIT code)');
}

/**
 * As selfInstructions, for the sum of the named events (the dump's `events:` line gives their
 * order; a cost line leaves out trailing zeros): `['ILmr', 'DLmr', 'DLmw']` are the last-level
 * misses of a `--cache-sim` dump. An event the dump does not have counts as zero.
 */
export function selfCost(dump: string, perfMap: readonly MapEntry[], events: readonly string[]): Map<string, number> {
  const positions = eventPositions(dump, events);
  const named = nameReader();
  const totals = new Map<string, number>();
  let current = '(unknown)';
  let callCost = false;
  for (const line of dump.split('\n')) {
    if (line.startsWith('fn=')) {
      current = named(line.slice(3));
      callCost = false;
    } else if (line.startsWith('cfn=')) {
      named(line.slice(4));
    } else if (line.startsWith('calls=')) {
      callCost = true;
    } else if (/^[0-9+\-*]/.test(line)) {
      if (callCost) {
        callCost = false;
        continue;
      }
      const cost = costOf(line, positions);
      if (cost > 0) totals.set(current, (totals.get(current) ?? 0) + cost);
    }
  }
  const resolved = new Map<string, number>();
  for (const [name, ir] of totals) {
    const label = resolveName(name, perfMap);
    resolved.set(label, (resolved.get(label) ?? 0) + ir);
  }
  return resolved;
}

/** One caller of a function: how often it called it and what those calls cost, callees included. */
export interface CallerRow {
  callee: string;
  caller: string;
  calls: number;
  /** The calls' inclusive cost in the events asked for. */
  cost: number;
}

/**
 * Who calls the functions whose (resolved) name matches `pattern`, from the call lines of a dump:
 * each caller–callee pair once, with its calls and their inclusive cost, dearest first. What a
 * runtime slow path is entered from (`v8::Object::Set` ← `node::AsyncHooks::pop_async_context`),
 * which a function's own cost does not say.
 */
export function callersOf(dump: string, perfMap: readonly MapEntry[], pattern: RegExp, events: readonly string[] = ['Ir']): CallerRow[] {
  const positions = eventPositions(dump, events);
  const named = nameReader();
  const rows = new Map<string, CallerRow>();
  let current = '(unknown)';
  let callee = '(unknown)';
  let calls = 0;
  let callCost = false;
  for (const line of dump.split('\n')) {
    if (line.startsWith('fn=')) {
      current = resolveName(named(line.slice(3)), perfMap);
      callCost = false;
    } else if (line.startsWith('cfn=')) {
      callee = resolveName(named(line.slice(4)), perfMap);
    } else if (line.startsWith('calls=')) {
      calls = Number(line.slice(6).split(' ')[0]);
      callCost = true;
    } else if (callCost && /^[0-9+\-*]/.test(line)) {
      callCost = false;
      if (!pattern.test(callee)) continue;
      const key = `${callee}\u0000${current}`;
      const row = rows.get(key) ?? { callee, caller: current, calls: 0, cost: 0 };
      row.calls += calls;
      row.cost += costOf(line, positions);
      rows.set(key, row);
    }
  }
  return [...rows.values()].sort((a, b) => b.cost - a.cost);
}

/** The perf map of a process, or none (node without --perf-basic-prof: JIT code stays unnamed). */
function perfMapOf(perfMapFile: string): MapEntry[] {
  try {
    return parsePerfMap(readFileSync(perfMapFile, 'utf8'));
  } catch {
    return [];
  }
}

/** selfCost of a dump file, named through the perf map of its process (if there is one). */
export function selfCostOf(dumpFile: string, perfMapFile: string, events: readonly string[]): Map<string, number> {
  return selfCost(readFileSync(dumpFile, 'utf8'), perfMapOf(perfMapFile), events);
}

/** callersOf a dump file, named through the perf map of its process (if there is one). */
export function callersOfFile(dumpFile: string, perfMapFile: string, pattern: RegExp): CallerRow[] {
  return callersOf(readFileSync(dumpFile, 'utf8'), perfMapOf(perfMapFile), pattern);
}

/**
 * The functions whose instructions per request differ most between `base` and `other` (both
 * totals over `requests`), largest increase first, then the largest decreases.
 */
export function functionDiff(
  base: ReadonlyMap<string, number>,
  other: ReadonlyMap<string, number>,
  requests: number,
  top: number,
): Array<{ name: string; base: number; other: number; delta: number }> {
  const rows = [...new Set([...base.keys(), ...other.keys()])].map((name) => {
    const b = (base.get(name) ?? 0) / requests;
    const o = (other.get(name) ?? 0) / requests;
    return { name, base: b, other: o, delta: o - b };
  });
  rows.sort((x, y) => y.delta - x.delta);
  const increases = rows.slice(0, top).filter((r) => r.delta > 0);
  const decreases = rows
    .slice(-Math.max(1, Math.floor(top / 4)))
    .filter((r) => r.delta < 0 && !increases.includes(r))
    .reverse();
  return [...increases, ...decreases];
}
