import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, PersistentVolumeClaim, Service } from 'kubernetes-models/v1';
import type { K8sObject } from './kustomize';

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
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean; capabilities?: { drop?: string[] }; runAsNonRoot?: boolean };
  volumeMounts?: { name: string; mountPath: string }[];
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
 * The project's rules for every workload: readiness and liveness probes, CPU and memory requests
 * and limits, non-root with no privilege escalation and ALL capabilities dropped, a read-only
 * root filesystem (except documented backing services), a termination grace period, a pinned
 * image, and a Service and a PodDisruptionBudget selecting its pods.
 */
export function workloadProblems(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const w of workloads(objects)) {
    const id = `${w.kind}/${w.metadata.name}`;
    const spec = podSpec(w);
    if (spec.securityContext?.runAsNonRoot !== true) problems.push(`${id}: pod securityContext.runAsNonRoot is not true`);
    if (spec.securityContext?.seccompProfile?.type !== 'RuntimeDefault') problems.push(`${id}: no RuntimeDefault seccomp profile`);
    if (spec.terminationGracePeriodSeconds === undefined) problems.push(`${id}: no terminationGracePeriodSeconds`);
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
  port: number;
}

/**
 * The calls NetworkPolicies allow between archbench pods, as (from, to, port) edges: an edge
 * exists only when the caller's egress AND the callee's ingress both allow it. `*` stands for
 * "any source" on a public entry point.
 */
export function allowedEdges(objects: K8sObject[]): Edge[] {
  interface Rule {
    from?: { podSelector?: { matchLabels?: Record<string, string> }; namespaceSelector?: unknown }[];
    to?: { podSelector?: { matchLabels?: Record<string, string> }; namespaceSelector?: unknown }[];
    ports?: { port: number }[];
  }
  const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
  const appOf = (selector?: { matchLabels?: Record<string, string> }) => selector?.matchLabels?.['app.kubernetes.io/name'];
  const ingress = new Map<string, Set<string>>();
  const egress = new Map<string, Set<string>>();
  for (const policy of policies) {
    const spec = policy.spec as { podSelector: { matchLabels?: Record<string, string> }; ingress?: Rule[]; egress?: Rule[] };
    const self = appOf(spec.podSelector);
    if (!self) continue;
    for (const rule of spec.ingress ?? []) {
      for (const port of rule.ports ?? []) {
        const sources = rule.from ? rule.from.filter((f) => !f.namespaceSelector).map((f) => appOf(f.podSelector) ?? '?') : ['*'];
        for (const source of sources) (ingress.get(self) ?? ingress.set(self, new Set()).get(self)!).add(`${source}>${port.port}`);
      }
    }
    for (const rule of spec.egress ?? []) {
      for (const port of rule.ports ?? []) {
        for (const to of rule.to ?? []) {
          const target = appOf(to.podSelector);
          if (target) (egress.get(self) ?? egress.set(self, new Set()).get(self)!).add(`${target}>${port.port}`);
        }
      }
    }
  }
  const edges: Edge[] = [];
  for (const [from, targets] of egress) {
    for (const entry of targets) {
      const [to, port] = entry.split('>') as [string, string];
      const open = ingress.get(to);
      if (open?.has(`${from}>${port}`) || open?.has(`*>${port}`)) edges.push({ from, to, port: Number(port) });
    }
  }
  return edges.sort((a, b) => `${a.from}${a.to}`.localeCompare(`${b.from}${b.to}`));
}
