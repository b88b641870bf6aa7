import { getTopology } from '@archbench/topologies';
import type { RunningTopology as SupervisedTopology, TopologyDefinition } from '@archbench/topologies';
import { describe, expect, it } from 'vitest';
import { measuredStarted, measuredTarget } from '../src/compare/measured';
import { RunningTopology } from '../src/compare/topologies';

/** A started topology as compare sees it, with only its definition (measuredStarted reads nothing else up front). */
function started(definition: TopologyDefinition): RunningTopology {
  const supervised = { definition, name: definition.name, baseUrl: 'http://127.0.0.1:1' } as unknown as SupervisedTopology;
  return new RunningTopology(supervised, '/dev/null', 0, '/tmp');
}

const OPTIONS = { adminToken: 'admin', authSecret: 'a-secret-of-16-chars' };

describe('billing: how compare prices each topology', () => {
  it('takes a started topology’s billing from its definition, not from its name or app', () => {
    const serverless = getTopology('serverless');
    expect(measuredStarted(started(serverless), OPTIONS)).toMatchObject({ billing: 'per-request', billedAtRest: false });
    expect(measuredStarted(started(getTopology('monolith')), OPTIONS)).toMatchObject({ billing: 'provisioned', billedAtRest: true });
    // The same app and name, declared the other way round: the declaration wins.
    expect(measuredStarted(started({ ...serverless, billing: 'provisioned' }), OPTIONS)).toMatchObject({ billing: 'provisioned', billedAtRest: true });
    expect(measuredStarted(started({ ...getTopology('hybrid'), billing: 'per-request' }), OPTIONS)).toMatchObject({
      billing: 'per-request',
      billedAtRest: false,
    });
  });

  it('prices a target as the topology of its name, as --billing says, or else as provisioned', () => {
    expect(measuredTarget('serverless', 'https://x.workers.dev', [], undefined)).toMatchObject({ billing: 'per-request', billedAtRest: false });
    expect(measuredTarget('microservices', 'https://b.example', [], undefined)).toMatchObject({ billing: 'provisioned', billedAtRest: true });
    expect(measuredTarget('shop', 'https://shop.example', [], undefined)).toMatchObject({ billing: 'provisioned', billedAtRest: true });
    expect(measuredTarget('edge', 'https://edge.example', [], undefined, 'per-request')).toMatchObject({ billing: 'per-request', billedAtRest: false });
    expect(measuredTarget('serverless', 'https://vm.example', [], undefined, 'provisioned')).toMatchObject({ billing: 'provisioned', billedAtRest: true });
  });
});
