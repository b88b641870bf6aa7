import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseComparison } from '@archbench/contracts/comparison';
import type { FaultResult } from '@archbench/contracts/comparison';
import { renderSummary } from '../src/compare/summary-md';
import type { StateAudit } from '../src/faults/audit';
import { hookSubject } from '../src/faults/injectors';

// A --fault-cmd hook's `verify` exit 0 is its word, not evidence: a provider outage needs the same
// proof as on a started topology (failed provider calls), and a broker loss on a target that holds
// no broker connections proves nothing.

const audit = (failedCharges: number): StateAudit => ({
  finalStatus: new Map(),
  ordersLost: 0,
  ordersStuck: 0,
  duplicateCharges: 0,
  stockDrift: 0,
  accepted: 10,
  confirmed: 10,
  failedCharges,
  lostIds: [],
  stuckIds: [],
  duplicateIds: [],
});

async function verdict(target: string, fault: FaultResult['fault'], command: string, failedCharges: number) {
  const injector = await hookSubject(target, 'http://127.0.0.1:1', command).injector(fault);
  if ('skip' in injector) throw new Error(`skipped: ${injector.skip}`);
  return injector.verify(audit(failedCharges));
}

describe('--fault-cmd: what a hook verify proves', () => {
  it('a provider outage with no failed provider call is injected by the hook, not verified', async () => {
    expect(await verdict('monolith', 'provider-outage', 'true', 0)).toEqual({
      verified: false,
      detail: "injected by the hook, not verified: no provider call failed in the payment records of the experiment's orders (verify said: verify exit 0)",
    });
  });

  it('a provider outage is verified when the payment records show failed provider calls', async () => {
    expect(await verdict('shop', 'provider-outage', 'echo provider down', 7)).toEqual({ verified: true, detail: 'provider down; 7 provider calls failed' });
  });

  it('a broker loss on a target that is the monolith (no broker) is not verified; on an unknown deployment the hook is believed', async () => {
    const mono = await verdict('monolith', 'broker-loss', 'true', 0);
    expect(mono.verified).toBe(false);
    expect(mono.detail).toMatch(/^injected by the hook, not verified: monolith is a topology without a message broker \(transport: in-process\)/);
    expect(await verdict('microservices', 'broker-loss', 'echo closed 5', 0)).toEqual({ verified: true, detail: 'closed 5' });
    expect(await verdict('shop', 'broker-loss', 'echo closed 5', 0)).toEqual({ verified: true, detail: 'closed 5' });
  });

  it('a verify that exits non-zero is not verified, with its output', async () => {
    expect(await verdict('shop', 'dependency-crash', '[ "$ARCHBENCH_PHASE" != verify ] || { echo still there; exit 1; }', 0)).toEqual({
      verified: false,
      detail: 'still there',
    });
  });
});

describe('summary.md: faults injected by a hook', () => {
  const base = parseComparison(JSON.parse(readFileSync(new URL('./fixtures/comparison-v2-quick-faults.json', import.meta.url), 'utf8')));
  const template = base.faults[0]!;
  const hook = (fault: FaultResult['fault'], verified: boolean, detail: string): FaultResult => ({
    ...template,
    topology: 'monolith',
    fault,
    injection: { method: '--fault-cmd hook (true)', verified, detail },
  });
  const md = renderSummary({
    ...base,
    faults: [
      hook('dependency-crash', true, 'pid 4 is gone'),
      hook('provider-outage', false, 'injected by the hook, not verified: no provider call failed (verify said: verify exit 0)'),
    ],
  });

  it('labels a hook crash by the hook, not as a SIGKILL of payments', () => {
    expect(md).toMatch(/\| monolith \| dependency crash \(by the --fault-cmd hook\) \|.*\| verified: pid 4 is gone \|/);
    expect(md).not.toMatch(/\| monolith \| dependency crash \(SIGKILL payments\)/);
  });

  it('says an outage the hook did not prove was injected by the hook, not verified', () => {
    expect(md).toMatch(/\| monolith \| payment provider outage \|.*\| injected by the hook, not verified: no provider call failed/);
    expect(md).not.toMatch(/NOT VERIFIED: injected/);
  });
});
