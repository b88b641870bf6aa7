import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, PersistentVolumeClaim, Service } from 'kubernetes-models/v1';
import type { K8sObject } from './kustomize';
import { urlsIn } from './compose';
import { SERVER_KIT_DEPLOYABLES, SHUTDOWN_CLOSE_SECONDS, drainSeconds } from './shutdown';

type ModelClass = new (data: never) => { validate(): void };

const MODELS: Record<string, ModelClass> = {
  'v1/Namespace': Namespace as unknown as ModelClass,
  'v1/Service': Service as unknown as ModelClass,
  'v1/ConfigMap': ConfigMap as unknown as ModelClass,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim as unknown as ModelClass,
  'apps/v1/Deployment': Deployment as unknown as ModelClass,
  'apps/v1/StatefulSet': StatefulSet as unknown as ModelClass,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget as unknown as ModelClass,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler as unknown as ModelClass,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy as unknown as ModelClass,
};

/**
 * Validates one object against the Kubernetes OpenAPI schema of its kind (kubernetes-models'
 * generated validators). Returns the validator's message, or undefined when valid.
 */
export function schemaProblem(object: K8sObject): string | undefined {
  const Class = MODELS[`${object.apiVersion}/${object.kind}`];
  if (!Class) return `${object.apiVersion} ${object.kind} has no schema here; add it to MODELS`;
  try {
    new Class(object as never).validate();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

export interface Probe {
  httpGet?: { path: string; port: string | number };
  exec?: { command: string[] };
  periodSeconds?: number;
  /** Kubernetes' default is 1 s. */
  timeoutSeconds?: number;
  failureThreshold?: number;
}

export interface Container {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string }; prefix?: string }[];
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean; capabilities?: { drop?: string[] }; runAsNonRoot?: boolean };
  volumeMounts?: { name: string; mountPath: string }[];
  lifecycle?: { preStop?: { exec?: { command: string[] }; sleep?: { seconds: number }; httpGet?: unknown } };
}

export interface PodSpec {
  containers: Container[];
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string } };
  terminationGracePeriodSeconds?: number;
  volumes?: { name: string; emptyDir?: unknown; persistentVolumeClaim?: { claimName: string } }[];
}

export const podSpec = (o: K8sObject) => (o.spec as { template: { spec: PodSpec } }).template.spec;
export const workloads = (objects: K8sObject[]) => objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');

/** Backing services whose images write outside their volumes (a writable root is documented there). */
const WRITABLE_ROOT_ALLOWED = new Set(['postgres', 'rabbitmq']);

/** Parses a Kubernetes quantity (`250m`, `1`, `160Mi`, `1Gi`) into cores or bytes. */
export function quantity(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|k|M|G)?$/.exec(value);
  if (!match) throw new Error(`not a quantity: ${value}`);
  const factor: Record<string, number> = { m: 1e-3, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, k: 1e3, M: 1e6, G: 1e9 };
  return Number(match[1]) * (match[2] ? factor[match[2]]! : 1);
}

/**
 * How long a container's preStop hook takes, in seconds: Kubernetes' `sleep` action, an exec of
 * `sleep N` (or `sh -c 'sleep N'`) or of `node -e 'setTimeout(() => {}, N)'` (what the manifests
 * use), 0 without a hook; undefined for a hook whose length cannot be read off it.
 */
export function preStopSeconds(container: Container): number | undefined {
  const preStop = container.lifecycle?.preStop;
  if (!preStop) return 0;
  if (preStop.sleep) return preStop.sleep.seconds;
  const command = preStop.exec?.command ?? [];
  const sleep = /^(?:(?:\/bin\/)?(?:sh|bash) -c )?(?:\S*\/)?sleep (\d+(?:\.\d+)?)$/.exec(command.join(' '));
  if (sleep) return Number(sleep[1]);
  const timer = command[0] === 'node' && command[1] === '-e' ? /^setTimeout\(\s*\(\)\s*=>\s*\{\s*\},\s*(\d+)\s*\)$/.exec(command[2] ?? '') : null;
  if (timer && command.length === 3) return Number(timer[1]) / 1000;
  return undefined;
}

/**
 * Problems with how a server-kit container is stopped: the pod's terminationGracePeriodSeconds
 * must cover its preStop hook, then its drain (SHUTDOWN_DRAIN_MS as the server reads it, or its
 * 10 s default when unset; the last env entry, as Kubernetes takes it, with a duplicate reported),
 * then SHUTDOWN_CLOSE_SECONDS to close; a shorter grace period means SIGKILL cuts requests the
 * drain promised to let finish. A container with envFrom and no SHUTDOWN_DRAIN_MS in env is
 * reported: its drain could come from a ConfigMap or Secret, which this check does not read.
 */
function shutdownProblems(id: string, spec: PodSpec): string[] {
  const problems: string[] = [];
  const needs: number[] = [];
  for (const c of spec.containers) {
    const cid = `${id} container ${c.name}`;
    const preStop = preStopSeconds(c);
    if (preStop === undefined)
      problems.push(`${cid}: cannot tell how long its preStop hook takes (use sleep, or exec sleep N / node -e 'setTimeout(() => {}, N)')`);
    // Kubernetes gives the container the last entry of a name (an overlay appending to env/-
    // overrides the base), and a name in env overrides any envFrom source.
    const entries = (c.env ?? []).filter((e) => e.name === 'SHUTDOWN_DRAIN_MS');
    const variable = entries.at(-1);
    if (entries.length > 1)
      problems.push(
        `${cid}: SHUTDOWN_DRAIN_MS is set ${entries.length} times in env; Kubernetes uses the last (${JSON.stringify(variable?.value ?? variable?.valueFrom)}), so keep only one`,
      );
    if (!variable && c.envFrom?.length) {
      problems.push(`${cid}: SHUTDOWN_DRAIN_MS may come from envFrom, which the grace-period check cannot read; set it in env`);
      continue;
    }
    if (variable && variable.value === undefined) {
      problems.push(`${cid}: SHUTDOWN_DRAIN_MS comes from valueFrom; the grace-period check needs its value in the manifest`);
      continue;
    }
    const drain = drainSeconds(variable?.value);
    if ('refused' in drain) problems.push(`${cid}: ${drain.refused}`);
    else if (preStop !== undefined) needs.push(preStop + drain.seconds);
  }
  const need = Math.max(0, ...needs) + SHUTDOWN_CLOSE_SECONDS;
  const grace = spec.terminationGracePeriodSeconds ?? 30;
  if (needs.length > 0 && grace < need)
    problems.push(
      `${id}: terminationGracePeriodSeconds ${grace} does not cover preStop + SHUTDOWN_DRAIN_MS + ${SHUTDOWN_CLOSE_SECONDS} s to close (${need} s): SIGKILL would cut requests still draining`,
    );
  return problems;
}

/**
 * The project's rules for every workload: readiness and liveness probes, CPU and memory requests
 * and limits, non-root with no privilege escalation and ALL capabilities dropped, a read-only
 * root filesystem (except documented backing services), a termination grace period (for a
 * server-kit server, one that covers its preStop hook, its SHUTDOWN_DRAIN_MS and closing), a
 * pinned image, and a Service and a PodDisruptionBudget selecting its pods.
 */
export function workloadProblems(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const w of workloads(objects)) {
    const id = `${w.kind}/${w.metadata.name}`;
    const spec = podSpec(w);
    if (spec.securityContext?.runAsNonRoot !== true) problems.push(`${id}: pod securityContext.runAsNonRoot is not true`);
    if (spec.securityContext?.seccompProfile?.type !== 'RuntimeDefault') problems.push(`${id}: no RuntimeDefault seccomp profile`);
    if (spec.terminationGracePeriodSeconds === undefined) problems.push(`${id}: no terminationGracePeriodSeconds`);
    if (SERVER_KIT_DEPLOYABLES.has(w.metadata.name)) problems.push(...shutdownProblems(id, spec));
    for (const c of spec.containers) {
      const cid = `${id} container ${c.name}`;
      if (!c.readinessProbe) problems.push(`${cid}: no readinessProbe`);
      if (!c.livenessProbe) problems.push(`${cid}: no livenessProbe`);
      for (const kind of ['requests', 'limits'] as const) {
        for (const resource of ['cpu', 'memory']) if (!c.resources?.[kind]?.[resource]) problems.push(`${cid}: no ${resource} ${kind}`);
      }
      if (c.securityContext?.allowPrivilegeEscalation !== false) problems.push(`${cid}: allowPrivilegeEscalation is not false`);
      if (!c.securityContext?.capabilities?.drop?.includes('ALL')) problems.push(`${cid}: capabilities do not drop ALL`);
      if (c.securityContext?.readOnlyRootFilesystem !== true && !WRITABLE_ROOT_ALLOWED.has(w.metadata.name))
        problems.push(`${cid}: root filesystem is writable`);
      if (!/:[\w.-]+$/.test(c.image) || c.image.endsWith(':latest')) problems.push(`${cid}: image ${c.image} is not pinned to a tag`);
    }
    const labels = (w.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
    const selects = (o: K8sObject, path: (o: K8sObject) => Record<string, string> | undefined) => {
      const selector = path(o);
      return selector !== undefined && Object.entries(selector).every(([k, v]) => labels[k] === v);
    };
    if (!objects.some((o) => o.kind === 'Service' && selects(o, (s) => (s.spec as { selector?: Record<string, string> }).selector)))
      problems.push(`${id}: no Service selects its pods`);
    if (
      w.kind === 'Deployment' &&
      !objects.some(
        (o) => o.kind === 'PodDisruptionBudget' && selects(o, (p) => (p.spec as { selector?: { matchLabels?: Record<string, string> } }).selector?.matchLabels),
      )
    ) {
      problems.push(`${id}: no PodDisruptionBudget`);
    }
  }
  return problems;
}

export interface Edge {
  from: string;
  to: string;
  /** `*` when the rule lists no ports (every port). */
  port: number | '*';
}

interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: unknown[];
}
interface Peer {
  podSelector?: Selector;
  namespaceSelector?: Selector;
  ipBlock?: { cidr: string };
}

const labelText = (selector?: Selector) => {
  const labels = Object.entries(selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  if (selector?.matchExpressions?.length) labels.push(JSON.stringify(selector.matchExpressions));
  return labels.length > 0 ? labels.join(',') : '*';
};

/**
 * Names a NetworkPolicy peer: an archbench app by its `app.kubernetes.io/name`, other pods of the
 * namespace as `pods:<labels>`, pods of other namespaces as `ns:<namespace labels>/<pod labels>`
 * (`*` = any), an address block as `ip:<cidr>`.
 */
function peerName(peer: Peer): string {
  if (peer.ipBlock) return `ip:${peer.ipBlock.cidr}`;
  if (peer.namespaceSelector) return `ns:${labelText(peer.namespaceSelector)}/${labelText(peer.podSelector)}`;
  const labels = peer.podSelector?.matchLabels;
  const app = labels?.['app.kubernetes.io/name'];
  if (app && Object.keys(labels!).length === 1 && !peer.podSelector?.matchExpressions?.length) return app;
  return `pods:${labelText(peer.podSelector)}`;
}

/**
 * Everything the NetworkPolicies allow, as (from, to, port) edges, so a test can compare the whole
 * set with the architecture's calls. Between two archbench apps an edge exists only when the
 * caller's egress AND the callee's ingress both allow it. Peers the namespace's policies do not
 * govern are edges on one side's word: a public entry point's ingress from anyone (`*`), a
 * namespace-selector peer (`ns:…`, e.g. Prometheus in `monitoring`), an egress rule without `to`
 * (`*`, any destination) or to another namespace. A policy selecting every pod (`podSelector: {}`)
 * speaks for `*`; a rule without ports allows port `*`.
 */
export function allowedEdges(objects: K8sObject[]): Edge[] {
  interface Rule {
    from?: Peer[];
    to?: Peer[];
    ports?: { port?: number }[];
  }
  const ingress = new Map<string, Set<string>>();
  const egress = new Map<string, Set<string>>();
  const add = (map: Map<string, Set<string>>, key: string, value: string) => (map.get(key) ?? map.set(key, new Set()).get(key)!).add(value);
  const portsOf = (rule: Rule) => (rule.ports?.length ? rule.ports.map((p) => String(p.port ?? '*')) : ['*']);
  for (const policy of objects.filter((o) => o.kind === 'NetworkPolicy')) {
    const spec = policy.spec as { podSelector: Selector; policyTypes?: string[]; ingress?: Rule[]; egress?: Rule[] };
    const self = labelText(spec.podSelector) === '*' ? '*' : peerName({ podSelector: spec.podSelector });
    for (const rule of spec.ingress ?? []) {
      for (const port of portsOf(rule)) for (const source of rule.from ? rule.from.map(peerName) : ['*']) add(ingress, self, `${source}>${port}`);
    }
    for (const rule of spec.egress ?? []) {
      for (const port of portsOf(rule)) for (const target of rule.to ? rule.to.map(peerName) : ['*']) add(egress, self, `${target}>${port}`);
    }
  }
  /** Whether `to`'s ingress (or a policy over every pod) admits `from` on `port`. */
  const admits = (to: string, from: string, port: string) =>
    [...(ingress.get(to) ?? []), ...(ingress.get('*') ?? [])].some((entry) => {
      const [source, open] = entry.split('>') as [string, string];
      return (source === from || source === '*' || source === 'pods:*') && (open === port || open === '*');
    });
  const inNamespace = (peer: string) => peer !== '*' && !peer.startsWith('ns:') && !peer.startsWith('ip:');
  const edges = new Map<string, Edge>();
  const edge = (from: string, to: string, port: string) => edges.set(`${from}->${to}:${port}`, { from, to, port: port === '*' ? '*' : Number(port) });
  for (const [from, targets] of egress) {
    for (const entry of targets) {
      const [to, port] = entry.split('>') as [string, string];
      // Within the namespace the callee's ingress must agree; beyond it, this policy alone decides.
      if (!inNamespace(to) || admits(to, from, port)) edge(from, to, port);
    }
  }
  for (const [to, sources] of ingress) {
    for (const entry of sources) {
      const [from, port] = entry.split('>') as [string, string];
      if (!inNamespace(from)) edge(from, to, port);
    }
  }
  return [...edges.values()].sort((a, b) => `${a.from} ${a.to} ${a.port}`.localeCompare(`${b.from} ${b.to} ${b.port}`));
}

/**
 * URLs in the workloads' environment that name no Service of the objects, or a port that
 * Service does not expose (a URL without a port means its scheme's default). Hosts may be short
 * (`orders`) or qualified (`orders.archbench.svc.cluster.local`).
 */
export function serviceUrlProblems(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const w of workloads(objects)) {
    for (const c of podSpec(w).containers) {
      for (const variable of c.env ?? []) {
        if (typeof variable.value !== 'string') continue;
        for (const url of urlsIn(variable.value)) {
          const [host, namespace] = url.host.split('.');
          const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === host && (!namespace || o.metadata.namespace === namespace));
          const ports = ((service?.spec as { ports?: { port: number }[] } | undefined)?.ports ?? []).map((p) => p.port);
          if (!service) problems.push(`${w.metadata.name}.${variable.name}: no Service ${url.host}`);
          else if (!ports.includes(url.port))
            problems.push(`${w.metadata.name}.${variable.name}: Service ${host} exposes ${ports.join(', ')}, not ${url.port}`);
        }
      }
    }
  }
  return problems;
}
