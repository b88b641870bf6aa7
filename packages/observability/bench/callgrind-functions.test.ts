import { describe, expect, it } from 'vitest';
import { callersOf, functionDiff, jsName, parsePerfMap, selfCost, selfInstructions } from './callgrind-functions';

// The shape of a callgrind dump with name compression, a call and JIT code seen as addresses.
const DUMP = [
  'version: 1',
  'events: Ir Dr',
  'fl=(1) ???',
  'fn=(1) 0x0000000000001010',
  '0 100 7',
  '+1 20 1',
  'cfn=(2) Builtins_LoadIC_Megamorphic',
  'calls=3 0',
  '0 900 50',
  'fn=(2)',
  '0 300 30',
  'fn=(3) 0x0000000000002008',
  '0 40',
  "fn=(5) 0x0000000000002010'2",
  '0 2',
  'fn=(6) 0x0000000000001030',
  '0 3',
  'fn=(7) 0x0000000000001024',
  '0 4',
  'fn=(4) 0x0000000000009000',
  '0 5',
  'fn=(1)',
  '0 30',
  'totals: 504',
].join('\n');

const MAP = parsePerfMap(
  [
    "2000 20 JS:*'startSpan file:///tmp/archbench-bundle-Ab1/monolith.mjs:1993:12",
    "1000 100 JS:~'collected node:old:1:1",
    "1000 100 JS:+'ServerResponse node:_http_server:204:24",
    "1020 8 JS:*'inner node:inner:5:1",
    '3000 10 Builtin:LoadIC_Megamorphic',
    'not a line',
  ].join('\n'),
);

describe('callgrind functions', () => {
  it('counts each function its own instructions, not its calls, naming JIT code through the perf map (the latest entry of a range, the innermost of overlapping ones)', () => {
    const self = selfInstructions(DUMP, MAP);
    expect(Object.fromEntries(self)).toEqual({
      'ServerResponse node:_http_server:204': 153,
      'inner node:inner:5': 4,
      Builtins_LoadIC_Megamorphic: 300,
      'startSpan monolith.mjs:1993': 42,
      '(unnamed JIT code)': 5,
    });
  });

  it('sums the events asked for by the order of the events line, a missing trailing field as zero, an event the dump lacks as nothing', () => {
    expect(Object.fromEntries(selfCost(DUMP, MAP, ['Dr']))).toEqual({
      'ServerResponse node:_http_server:204': 8,
      Builtins_LoadIC_Megamorphic: 30,
    });
    expect(selfCost(DUMP, MAP, ['Ir', 'Dr']).get('ServerResponse node:_http_server:204')).toBe(161);
    expect(selfCost(DUMP, MAP, ['DLmr']).size).toBe(0);
  });

  it('lists the callers of the functions a pattern names, JIT callers through the perf map, with their calls and inclusive cost, dearest first', () => {
    const dump = [
      'events: Ir Dr',
      'fn=(1) 0x0000000000002004',
      '0 10',
      'cfn=(2) v8::Object::Set(v8::Local<v8::Context>)',
      'calls=2 0',
      '0 400 9',
      'cfn=(3) Builtins_MapConstructor',
      'calls=1 0',
      '0 70',
      'fn=(4) node::AsyncHooks::pop_async_context(double)',
      '0 5',
      'cfn=(2)',
      'calls=5 0',
      '0 1100',
      'fn=(1)',
      'cfn=(2)',
      'calls=1 0',
      '0 100 1',
      'fn=(2)',
      '0 1600',
    ].join('\n');
    expect(callersOf(dump, MAP, /^v8::Object::Set\(/)).toEqual([
      { callee: 'v8::Object::Set(v8::Local<v8::Context>)', caller: 'node::AsyncHooks::pop_async_context(double)', calls: 5, cost: 1100 },
      { callee: 'v8::Object::Set(v8::Local<v8::Context>)', caller: 'startSpan monolith.mjs:1993', calls: 3, cost: 500 },
    ]);
    // Ranked by the events asked for: by data reads the JIT caller comes first.
    expect(callersOf(dump, MAP, /^v8::Object::Set\(/, ['Dr']).map((r) => [r.caller, r.cost])).toEqual([
      ['startSpan monolith.mjs:1993', 10],
      ['node::AsyncHooks::pop_async_context(double)', 0],
    ]);
    expect(callersOf(dump, MAP, /MapConstructor/)).toEqual([{ callee: 'Builtins_MapConstructor', caller: 'startSpan monolith.mjs:1993', calls: 1, cost: 70 }]);
  });

  it('names functions without tier marks, bundle paths or columns', () => {
    expect(jsName("JS:~'emit node:events:488:44")).toBe('emit node:events:488');
    expect(jsName("JS:^' file:///work/x/node_modules/hono/dist/compose.js:23:3")).toBe('(anonymous) compose.js:23');
    expect(jsName('Builtin:ArrayPrototypePush')).toBe('Builtin:ArrayPrototypePush');
  });

  it('lists the largest increases per request first, then the largest decreases', () => {
    const base = new Map([
      ['a', 1000],
      ['b', 5000],
      ['c', 100],
    ]);
    const other = new Map([
      ['a', 3000],
      ['b', 1000],
      ['d', 500],
    ]);
    expect(functionDiff(base, other, 10, 4)).toEqual([
      { name: 'a', base: 100, other: 300, delta: 200 },
      { name: 'd', base: 0, other: 50, delta: 50 },
      { name: 'b', base: 500, other: 100, delta: -400 },
    ]);
  });
});
