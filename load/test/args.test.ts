import { describe, expect, it } from 'vitest';
import { parseCompareArgs, USAGE, UsageError } from '../src/compare/args';
import { PROFILES } from '../src/scenarios/definitions.ts';

describe('parseCompareArgs: targets, experiments, cost flags', () => {
  it('collects targets with their metrics URLs and fault hooks', () => {
    const o = parseCompareArgs([
      '--target',
      'shop=https://shop.example/',
      '--metrics-url',
      'shop=https://shop.example:9464/metrics',
      '--metrics-url',
      'shop=https://pay.example/metrics',
      '--fault-cmd',
      'shop=./inject.sh',
      '--target',
      'serverless=https://x.workers.dev',
      '--auth-secret',
      'a-secret-of-16-chars',
    ]);
    expect(o.targets).toEqual([
      { name: 'shop', url: 'https://shop.example', metricsUrls: ['https://shop.example:9464/metrics', 'https://pay.example/metrics'], faultCmd: './inject.sh' },
      { name: 'serverless', url: 'https://x.workers.dev', metricsUrls: [] },
    ]);
    expect(o.authSecret).toBe('a-secret-of-16-chars');
  });

  it('reads how each target is billed, left undefined where not said', () => {
    const o = parseCompareArgs(['--target', 'edge=https://edge.example', '--target', 'vm=https://vm.example', '--billing', 'edge=per-request']);
    expect(o.targets).toEqual([
      { name: 'edge', url: 'https://edge.example', metricsUrls: [], billing: 'per-request' },
      { name: 'vm', url: 'https://vm.example', metricsUrls: [] },
    ]);
    expect(parseCompareArgs(['--target', 'vm=https://vm.example', '--billing', 'vm=provisioned']).targets[0]?.billing).toBe('provisioned');
  });

  it('reads experiments and load profiles, and keeps the profile default when not given', () => {
    expect(parseCompareArgs([]).experiments).toBeUndefined();
    expect(parseCompareArgs(['--experiments', 'faults']).experiments).toEqual(['faults']);
    expect(parseCompareArgs(['--experiments', 'none']).experiments).toEqual([]);
    expect(parseCompareArgs(['--load-profile', 'team=busy:20,peak:300,hours:8']).loadProfiles).toEqual([
      { name: 'team', busyRps: 20, peakRps: 300, hoursPerDay: 8, quietRps: 0, orderShare: 0.2 },
    ]);
    expect(parseCompareArgs(['--topologies', 'hybrid,serverless']).topologies).toEqual(['hybrid', 'serverless']);
  });

  it('keeps a path prefix of a target URL (requests are appended to it), without trailing slashes', () => {
    const o = parseCompareArgs(['--target', 'shop=https://shop.example/prod/', '--metrics-url', 'shop=https://shop.example/metrics?format=text']);
    expect(o.targets).toEqual([{ name: 'shop', url: 'https://shop.example/prod', metricsUrls: ['https://shop.example/metrics?format=text'] }]);
  });

  it("states each profile's default experiments in the help as the profiles define them", () => {
    expect(PROFILES.quick.experiments).toEqual([]);
    expect(USAGE).toContain('(default: smoke none, quick none, standard coldstart,faults)');
    for (const [name, profile] of Object.entries(PROFILES)) expect(USAGE).toContain(`${name} ${profile.experiments.join(',') || 'none'}`);
  });

  it.each([
    [['--target', 'shop'], /--target shop: use NAME=VALUE/],
    [['--target', 'Shop=https://a'], /kebab-case/],
    [['--target', 'shop=ftp://a'], /not an http\(s\) URL/],
    [['--target', 'shop=https://a', '--target', 'shop=https://b'], /given twice/],
    [['--target', 'shop=https://a/prod?stage=1'], /--target shop: "https:\/\/a\/prod\?stage=1" has a query or fragment/],
    [['--target', 'shop=https://a/prod#top'], /has a query or fragment/],
    [['--target', 'shop=https://a/prod?'], /has a query or fragment/],
    [['--target', 'shop=https://bob:secret@a/prod'], /--target shop: the URL carries credentials/],
    [['--metrics-url', 'shop=https://a/metrics'], /there is no --target shop/],
    [
      ['--target', 'shop=https://a', '--metrics-url', 'shop=https://a:9464/metrics', '--metrics-url', 'shop=https://a:9464/metrics'],
      /^--metrics-url shop: "https:\/\/a:9464\/metrics" is given twice \(each URL is one process, counted once\)$/,
    ],
    [['--target', 'shop=https://a', '--metrics-url', 'shop=https://a:9464/metrics', '--metrics-url', 'shop=HTTPS://A:9464/metrics'], /is given twice/],
    [['--target', 'shop=https://a', '--metrics-url', 'shop=https://bob:pw@a:9464/metrics'], /^--metrics-url shop: the URL carries credentials/],
    [['--fault-cmd', 'shop=x'], /there is no --target shop/],
    [['--billing', 'shop=per-request'], /there is no --target shop/],
    [['--target', 'shop=https://a', '--billing', 'shop=free'], /use provisioned or per-request, got "free"/],
    [['--target', 'shop=https://a', '--billing', 'shop=provisioned', '--billing', 'shop=per-request'], /--billing shop is given twice/],
    [['--target', 'shop=https://a', '--topologies', 'monolith'], /do not mix/],
    [['--experiments', 'chaos'], /unknown experiment "chaos"/],
    [['--auth-secret', 'short'], /at least 16 characters/],
    [['--auth-secret', 'a-secret-of-16-chars', '--token-file', 't.txt'], /not both/],
    [['--load-profile', 'team=busy:20'], /hours are required/],
    [['--topologies', 'mainframe'], /unknown topology "mainframe"/],
  ])('refuses %j with a one-line reason', (argv, message) => {
    expect(() => parseCompareArgs(argv)).toThrow(UsageError);
    expect(() => parseCompareArgs(argv)).toThrow(message);
  });
});

describe('parseCompareArgs: numbers are decimal, nothing else reads as a number', () => {
  const baseline = ['--baseline', 'old.json'];
  it.each([
    [[...baseline, '--tolerance', ''], '--tolerance must be a percentage between 0 and 1000, got ""'],
    [[...baseline, '--tolerance', '%'], '--tolerance must be a percentage between 0 and 1000, got "%"'],
    [[...baseline, '--tolerance', ' '], '--tolerance must be a percentage between 0 and 1000, got " "'],
    [[...baseline, '--tolerance', '0x10'], '--tolerance must be a percentage between 0 and 1000, got "0x10"'],
    [[...baseline, '--tolerance', '1e1'], '--tolerance must be a percentage between 0 and 1000, got "1e1"'],
    [['--price', 'vcpu-hour='], '--price vcpu-hour: the value must be a decimal number >= 0, got ""'],
    [['--price', 'vcpu-hour= '], '--price vcpu-hour: the value must be a decimal number >= 0, got " "'],
    [['--price', 'vcpu-hour=0x10'], '--price vcpu-hour: the value must be a decimal number >= 0, got "0x10"'],
    [['--price', 'vcpu-hour=-1'], '--price vcpu-hour: the value must be a decimal number >= 0, got "-1"'],
    [
      ['--price', '=1'],
      '--price =1: use ID=VALUE with ID one of vcpu-hour, gb-hour, min-vcpu-per-process, min-gb-per-process, workers-plan-month, workers-included-requests, workers-request-million, workers-included-cpu-ms, workers-cpu-ms-million, gb-second, gb-per-invocation, queue-operation-million, queue-included-operations, d1-rows-written-million, d1-included-rows-written, d1-rows-written-per-order',
    ],
    // An unknown id is refused here too, before anything starts.
    [
      ['--price', 'vcpu-hours=0.05'],
      '--price vcpu-hours=0.05: use ID=VALUE with ID one of vcpu-hour, gb-hour, min-vcpu-per-process, min-gb-per-process, workers-plan-month, workers-included-requests, workers-request-million, workers-included-cpu-ms, workers-cpu-ms-million, gb-second, gb-per-invocation, queue-operation-million, queue-included-operations, d1-rows-written-million, d1-included-rows-written, d1-rows-written-per-order',
    ],
    [['--load-profile', 'x=busy:,hours:'], '--load-profile x=busy:,hours:: "busy:" is not KEY:NUMBER (a decimal number >= 0)'],
    [['--load-profile', 'x=busy:10:5,hours:2'], '--load-profile x=busy:10:5,hours:2: "busy:10:5" is not KEY:NUMBER (a decimal number >= 0)'],
    [['--load-profile', 'x=busy:10,hours:0x2'], '--load-profile x=busy:10,hours:0x2: "hours:0x2" is not KEY:NUMBER (a decimal number >= 0)'],
  ])('refuses %j naming the flag and the value', (argv, message) => {
    expect(() => parseCompareArgs(argv)).toThrow(new UsageError(message));
  });

  it('still reads decimal numbers, with or without %', () => {
    expect(parseCompareArgs([...baseline, '--tolerance', '2.5%']).tolerance).toBe(2.5);
    expect(parseCompareArgs([...baseline, '--tolerance', '0']).tolerance).toBe(0);
    expect(parseCompareArgs(['--price', 'vcpu-hour=0.05']).prices).toEqual(['vcpu-hour=0.05']);
    expect(parseCompareArgs(['--load-profile', 'x=busy:.5,hours:2']).loadProfiles?.[0]).toMatchObject({ busyRps: 0.5, hoursPerDay: 2 });
  });
});

describe('parseCompareArgs: a value starting with a dash', () => {
  it('says in one line to write --flag=value', () => {
    expect(() => parseCompareArgs(['--baseline', 'old.json', '--tolerance', '-1'])).toThrow(
      new UsageError('--tolerance -1: a value starting with a dash reads as a flag; write --tolerance=-1'),
    );
    // The secret is not echoed.
    expect(() => parseCompareArgs(['--auth-secret', '-abcdefghijklmnopqr'])).toThrow(
      new UsageError('--auth-secret -…: a value starting with a dash reads as a flag; write --auth-secret=-…'),
    );
    expect(parseCompareArgs(['--auth-secret=-abcdefghijklmnopqr']).authSecret).toBe('-abcdefghijklmnopqr');
  });
});

describe('parseCompareArgs: a flag that takes one value is given once', () => {
  const target = ['--target', 'shop=https://a'];
  it.each([
    [['--profile', 'smoke', '--profile', 'quick'], '--profile is given twice'],
    [['--out', 'a', '--out=b'], '--out is given twice'],
    [['--engine', 'k6', '--engine', 'embedded'], '--engine is given twice'],
    [['--baseline', 'a.json', '--baseline', 'b.json'], '--baseline is given twice'],
    [['--baseline', 'a.json', '--tolerance', '5', '--tolerance', '10'], '--tolerance is given twice'],
    [['--auth-secret', 'a-secret-of-16-chars', '--auth-secret', 'b-secret-of-16-chars'], '--auth-secret is given twice'],
    [['--topologies', 'monolith', '--topologies', 'hybrid'], '--topologies is given twice'],
    [['--experiments', 'faults', '--experiments', 'none'], '--experiments is given twice'],
    [['--token-file', 'a', '--token-file', 'b'], '--token-file is given twice'],
    [[...target, '--fault-cmd', 'shop=./a.sh', '--fault-cmd', 'shop=./b.sh'], '--fault-cmd shop is given twice'],
    [['--price', 'vcpu-hour=0.05', '--price', 'vcpu-hour=0.06'], '--price vcpu-hour is given twice'],
    [['--load-profile', 'x=busy:1,hours:2', '--load-profile', 'x=busy:3,hours:4'], '--load-profile x is given twice'],
  ])('refuses %j', (argv, message) => {
    expect(() => parseCompareArgs(argv)).toThrow(new UsageError(message));
  });

  it('still takes the repeatable flags more than once', () => {
    const o = parseCompareArgs([
      ...target,
      '--target',
      'vm=https://b',
      '--fault-cmd',
      'shop=./a.sh',
      '--fault-cmd',
      'vm=./b.sh',
      '--price',
      'vcpu-hour=0.05',
      '--price',
      'gb-hour=0.01',
      '--load-profile',
      'x=busy:1,hours:2',
      '--load-profile',
      'y=busy:1,hours:2',
      '-h',
      '--help',
    ]);
    expect(o.targets.map((t) => t.faultCmd)).toEqual(['./a.sh', './b.sh']);
    expect(o.prices).toHaveLength(2);
    expect(o.loadProfiles?.map((p) => p.name)).toEqual(['x', 'y']);
  });
});

describe('parseCompareArgs: target URLs as the URL parser reads them', () => {
  it.each([
    [' http://shop.example', 'http://shop.example'],
    ['HTTP://SHOP.EXAMPLE/', 'http://shop.example'],
    ['http:shop.example', 'http://shop.example'],
    ['https://shop.example:443/Prod/', 'https://shop.example/Prod'],
    ['http://shop.example:8080/prod//', 'http://shop.example:8080/prod'],
  ])('stores --target shop=%j as %j', (raw, url) => {
    const [target] = parseCompareArgs(['--target', `shop=${raw}`, '--metrics-url', `shop=${raw.replace(/\/*$/, '')}/metrics`]).targets;
    expect(target?.url).toBe(url);
    expect(target?.metricsUrls).toEqual([`${url}/metrics`]);
  });

  it.each([['shop.example'], ['/prod'], ['localhost:3000'], ['http://'], ['ftp://shop.example']])('refuses --target shop=%j', (raw) => {
    expect(() => parseCompareArgs(['--target', `shop=${raw}`])).toThrow(new UsageError(`--target shop: ${JSON.stringify(raw)} is not an http(s) URL`));
  });
});
