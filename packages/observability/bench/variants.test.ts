import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CreateOrderRequest } from '@archbench/contracts/schemas';
import { verifyToken } from '@archbench/contracts/tokens';
import { SCARCE_FROM, seedCatalog } from '@archbench/domain/catalog';
import { TSX_LOADER } from '@archbench/topologies';
import type { Request as AutocannonRequest } from 'autocannon';
import type { LoadRequest } from './keep-alive-load';
import {
  BENCH_AUTH_SECRET,
  BENCH_REQUESTS,
  autocannonRequests,
  chooseRequest,
  cpuAddedText,
  mean,
  meanWithInterval,
  median,
  processCpu,
  processUserKernel,
  range,
  ratioWithInterval,
  seededRandom,
  userKernelOfStat,
  variantEnvironments,
} from './variants';

describe('bench helpers', () => {
  it('reads CPU time finer than the 10 ms ticks of /proc/<pid>/stat, main thread within all threads', () => {
    const start = processCpu(process.pid);
    let now = start;
    // Spin until the main thread's CPU time moves at all: with ticks the first step would be 10 ms.
    while (now.main === start.main) now = processCpu(process.pid);
    expect(now.main - start.main).toBeGreaterThan(0);
    expect(now.main - start.main).toBeLessThan(0.005);
    expect(now.all).toBeGreaterThanOrEqual(now.main);
  });

  it('splits CPU time into user and kernel from /proc/<pid>/stat, whatever the command name holds', () => {
    // proc(5): pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime …
    const line = '4242 (node (x) 1) R 1 4242 4242 0 -1 4194304 900 0 2 0 1234 567 0 0 20 0 11 0 100 0 0';
    expect(userKernelOfStat(line)).toEqual({ user: 12.34, kernel: 5.67 });
    expect(() => userKernelOfStat('garbage')).toThrow(/not a \/proc\/<pid>\/stat line/);
    // A loop with no system calls: its CPU lands in user time (ticks of 10 ms, so spin ~80 ms).
    const before = processUserKernel(process.pid);
    const start = processCpu(process.pid).main;
    let x = 0;
    while (processCpu(process.pid).main - start < 0.08) for (let i = 0; i < 1e5; i++) x = (x * 31 + i) | 0;
    const after = processUserKernel(process.pid);
    expect(x).not.toBeNaN();
    expect(after.user - before.user).toBeGreaterThanOrEqual(0.03);
  });

  it('prints the statistics of a round', () => {
    expect(mean([1, 2, 6])).toBe(3);
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(range([1.234, 0.9, 1.1])).toBe('0.90–1.23');
  });

  it('gives the CPU a variant adds in per cent and in µs of off, with the same sign', () => {
    // A run of this pass printed "+4.6 % (-12.1 µs)": the µs were a difference of medians over rounds.
    expect(cpuAddedText(1.046, 67.8)).toBe('+4.6 % (+3.1 µs)');
    expect(cpuAddedText(0.95, 40)).toBe('−5.0 % (−2.0 µs)');
    expect(cpuAddedText(1, 40)).toBe('+0.0 % (+0.0 µs)');
  });

  it('gives a ratio of means with an interval that widens with the spread of the processes', () => {
    const tight = ratioWithInterval([0.9, 0.9, 0.91, 0.89], [1, 1.01, 0.99, 1]);
    expect(tight.ratio).toBeCloseTo(0.9, 3);
    expect(tight.low).toBeLessThanOrEqual(tight.ratio);
    expect(tight.high).toBeGreaterThanOrEqual(tight.ratio);
    expect(tight.high - tight.low).toBeLessThan(0.03);
    // One process of each side 30 % off: the same mean ratio, an interval wide enough to cross 1.
    const loose = ratioWithInterval([0.9, 0.9, 1.17, 0.63], [1, 1.3, 0.7, 1]);
    expect(loose.ratio).toBeCloseTo(0.9, 3);
    expect(loose.high).toBeGreaterThan(1);
    expect(loose.low).toBeLessThan(0.8);
    // Seeded: the same numbers give the same interval.
    expect(ratioWithInterval([0.9, 0.9, 1.17, 0.63], [1, 1.3, 0.7, 1])).toEqual(loose);
  });

  it('draws reproducible numbers in [0, 1) from a seed', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const values = Array.from({ length: 1000 }, () => a());
    expect(values).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    expect(mean(values)).toBeGreaterThan(0.45);
    expect(mean(values)).toBeLessThan(0.55);
  });

  it('gives the mean of whole runs with a Student t interval', () => {
    // Mean 0.86, sample sd 0.06, n 3: half-width 2.92 * 0.06 / sqrt(3).
    const three = meanWithInterval([0.8, 0.86, 0.92]);
    expect(three.mean).toBeCloseTo(0.86, 10);
    expect(three.high - three.mean).toBeCloseTo((2.92 * 0.06) / Math.sqrt(3), 6);
    expect(three.mean - three.low).toBeCloseTo(three.high - three.mean, 10);
    expect(meanWithInterval([0.9, 0.9]).low).toBe(0.9);
    const one = meanWithInterval([0.9]);
    expect(one.mean).toBe(0.9);
    expect(one.low).toBeNaN();
  });

  it('sends orders a production monolith of the bench accepts: its secret, a valid body, seeded SKUs with stock', () => {
    // Every variant runs with the bench's secret (a token signed with the development one got 401).
    for (const env of Object.values(variantEnvironments('http://127.0.0.1:1'))) expect(env.AUTH_SECRET).toBe(BENCH_AUTH_SECRET);
    const next = chooseRequest('order').requests();
    const stocked = new Set(
      seedCatalog()
        .filter((_, i) => i < SCARCE_FROM)
        .map((p) => p.sku),
    );
    const skus = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const request = next() as LoadRequest;
      expect(request).toMatchObject({ method: 'POST', path: '/orders', headers: { 'content-type': 'application/json', prefer: 'wait=5' } });
      const token = /^Bearer (.+)$/.exec(request.headers!.authorization!)![1]!;
      expect(verifyToken(token, BENCH_AUTH_SECRET).ok).toBe(true);
      const body = CreateOrderRequest.parse(JSON.parse(request.body!));
      expect(body.payment.token).toBe('tok_ok');
      for (const item of body.items) {
        expect(stocked.has(item.sku)).toBe(true);
        skus.add(item.sku);
      }
    }
    expect(skus.size).toBe(900);
  });

  it('gives autocannon the same requests: a GET path, or method, headers and body', () => {
    type Setup = (request: AutocannonRequest, context: object) => AutocannonRequest;
    const setup = (requests: AutocannonRequest[]) => requests[0]!.setupRequest as Setup;
    expect(setup(autocannonRequests(BENCH_REQUESTS.product))({ headers: { a: '1' } }, {})).toMatchObject({
      method: 'GET',
      path: expect.stringMatching(/^\/products\/SKU-\d{4}$/),
    });
    const sent = setup(autocannonRequests(BENCH_REQUESTS.order))({ headers: { a: '1' } }, {});
    expect(sent).toMatchObject({ method: 'POST', path: '/orders', headers: { a: '1', prefer: 'wait=5' } });
    expect(CreateOrderRequest.safeParse(JSON.parse(String(sent.body))).success).toBe(true);
  });

  it('refuses an unknown --request or --variants with exit code 2, inherited object keys too', () => {
    const bench = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', TSX_LOADER, join(import.meta.dirname, 'overhead.ts'), ...args], { encoding: 'utf8', timeout: 60_000 });
    for (const name of ['nope', 'toString']) {
      const r = bench('--request', name);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`unknown --request "${name}"; known: product, order`);
    }
    const v = bench('--variants', 'constructor');
    expect(v.status).toBe(2);
    expect(v.stderr).toContain('unknown variant constructor');
    // Three tsx start-ups: over 5 s on a loaded CI machine.
  }, 60_000);
});
