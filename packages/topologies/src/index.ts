/**
 * `@archbench/topologies`: the one definition of every runnable topology and the supervisor
 * that runs them. See README.md for the API, the port scheme and how to add a topology.
 */
export { PORT_OFFSETS, defineTopology } from './types';
export type { AvailabilityContext, Capability, ProcessDefinition, TopologyContext, TopologyDefinition } from './types';
export {
  REPO_ROOT,
  UnknownTopologyError,
  displayName,
  getTopology,
  listTopologies,
  processForCapability,
  runnableSideBySide,
  topologyNames,
  topologyUnavailable,
} from './registry';
export {
  RunningTopology,
  TSX_LOADER,
  TopologyPortInUseError,
  TopologyStartError,
  TopologyUnavailableError,
  killAllTopologiesNow,
  startTopology,
} from './start-topology';
export type { ProcessInfo, ProcessMetrics, StartTopologyOptions, TopologyEvent } from './start-topology';
export {
  DEFAULT_RESTART_POLICY,
  DEFAULT_STOP_GRACE_MS,
  PortInUseError,
  ProcessStartError,
  ProcessSupervisor,
  backoffDelay,
  killAllSupervisedNow,
} from './supervisor';
export type { OutputMode, ProcessSpec, ProcessState, RestartPolicy, SupervisorEvent, SupervisorOptions } from './supervisor';
export { freePort, freePortRange, freePorts, portFree, portInUse, portsInUseMessage } from './ports';
export type { BusyPort } from './ports';
export { serveSupervisorMetrics, supervisorMetricsText } from './metrics';
export type { ProcSnapshot } from './proc';
export { stopOnSignals, watchParent } from './parent';
export { pidAlive } from './proc';
export { describeEvent, describeTopology } from './describe';
