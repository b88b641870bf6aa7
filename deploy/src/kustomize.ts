import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

/** A Kubernetes object as rendered: the fields every object has, the rest untyped. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

interface PatchTarget {
  kind?: string;
  name?: string;
  labelSelector?: string;
}

interface JsonPatchOp {
  op: 'add' | 'replace' | 'remove' | 'test';
  path: string;
  value?: unknown;
}

/** The subset of kustomization.yaml this layout uses; anything else is refused, not ignored. */
interface Kustomization {
  apiVersion: string;
  kind: 'Kustomization' | 'Component';
  namespace?: string;
  resources?: string[];
  components?: string[];
  patches?: { target: PatchTarget; patch: string }[];
  images?: { name: string; newName?: string; newTag?: string }[];
}

const SUPPORTED = new Set(['apiVersion', 'kind', 'namespace', 'resources', 'components', 'patches', 'images']);
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'PersistentVolume', 'StorageClass']);

class KustomizeError extends Error {
  override readonly name = 'KustomizeError';
}

function readKustomization(dir: string, expected: 'Kustomization' | 'Component'): Kustomization {
  const file = join(dir, 'kustomization.yaml');
  if (!existsSync(file)) throw new KustomizeError(`${dir}: no kustomization.yaml`);
  const k = parse(readFileSync(file, 'utf8')) as Kustomization;
  const unsupported = Object.keys(k).filter((key) => !SUPPORTED.has(key));
  if (unsupported.length > 0)
    throw new KustomizeError(`${file}: ${unsupported.join(', ')} not supported by this renderer; extend deploy/src/kustomize.ts first`);
  const apiVersion = expected === 'Component' ? 'kustomize.config.k8s.io/v1alpha1' : 'kustomize.config.k8s.io/v1beta1';
  if (k.kind !== expected || k.apiVersion !== apiVersion)
    throw new KustomizeError(`${file}: expected ${apiVersion} ${expected}, found ${k.apiVersion} ${k.kind}`);
  return k;
}

function readResource(path: string): K8sObject[] {
  if (statSync(path).isDirectory()) return renderKustomization(path);
  return parseAllDocuments(readFileSync(path, 'utf8'))
    .map((doc) => {
      if (doc.errors.length > 0) throw new KustomizeError(`${path}: ${doc.errors[0]!.message}`);
      return doc.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

function matches(object: K8sObject, target: PatchTarget): boolean {
  if (target.kind && object.kind !== target.kind) return false;
  if (target.name && !new RegExp(`^(?:${target.name})$`).test(object.metadata.name)) return false;
  if (target.labelSelector) {
    for (const term of target.labelSelector.split(',')) {
      const [key, value] = term.split('=').map((s) => s.trim());
      if (object.metadata.labels?.[key!] !== value) return false;
    }
  }
  return true;
}

const unescape = (token: string) => token.replace(/~1/g, '/').replace(/~0/g, '~');

/** RFC 6902 add/replace/remove/test on a plain JSON value (in place). */
export function applyJsonPatch(document: unknown, ops: JsonPatchOp[], where: string): void {
  for (const op of ops) {
    const tokens = op.path.split('/').slice(1).map(unescape);
    const last = tokens.pop();
    if (last === undefined) throw new KustomizeError(`${where}: empty patch path`);
    let parent: unknown = document;
    for (const token of tokens) {
      const next: unknown = Array.isArray(parent) ? parent[Number(token)] : (parent as Record<string, unknown> | undefined)?.[token];
      if (next === undefined || next === null || typeof next !== 'object') throw new KustomizeError(`${where}: ${op.op} ${op.path}: ${token} does not exist`);
      parent = next;
    }
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      if (!Number.isInteger(index) || index < 0 || index > parent.length || (op.op !== 'add' && index >= parent.length))
        throw new KustomizeError(`${where}: ${op.op} ${op.path}: no index ${last}`);
      if (op.op === 'add') parent.splice(index, 0, structuredClone(op.value));
      else if (op.op === 'replace') parent[index] = structuredClone(op.value);
      else if (op.op === 'remove') parent.splice(index, 1);
      else if (JSON.stringify(parent[index]) !== JSON.stringify(op.value))
        throw new KustomizeError(`${where}: test ${op.path} failed: ${JSON.stringify(parent[index])} is not ${JSON.stringify(op.value)}`);
    } else {
      const record = parent as Record<string, unknown>;
      if (op.op !== 'add' && !(last in record)) throw new KustomizeError(`${where}: ${op.op} ${op.path}: ${last} does not exist`);
      if (op.op === 'add' || op.op === 'replace') record[last] = structuredClone(op.value);
      else if (op.op === 'remove') delete record[last];
      else if (JSON.stringify(record[last]) !== JSON.stringify(op.value))
        throw new KustomizeError(`${where}: test ${op.path} failed: ${JSON.stringify(record[last])} is not ${JSON.stringify(op.value)}`);
    }
  }
}

function podSpecOf(object: K8sObject): { containers?: { image?: string }[]; initContainers?: { image?: string }[] } | undefined {
  const spec = object.spec as { template?: { spec?: unknown }; jobTemplate?: { spec?: { template?: { spec?: unknown } } } } | undefined;
  return (spec?.template?.spec ?? spec?.jobTemplate?.spec?.template?.spec) as ReturnType<typeof podSpecOf>;
}

function applyTransformers(objects: K8sObject[], k: Kustomization, where: string): void {
  for (const patch of k.patches ?? []) {
    const ops = parse(patch.patch) as JsonPatchOp[];
    if (!Array.isArray(ops)) throw new KustomizeError(`${where}: only JSON 6902 patches (a list of ops) are supported`);
    const targets = objects.filter((o) => matches(o, patch.target));
    if (targets.length === 0) throw new KustomizeError(`${where}: patch target ${JSON.stringify(patch.target)} matches nothing`);
    for (const target of targets) applyJsonPatch(target, ops, `${where} → ${target.kind}/${target.metadata.name}`);
  }
  for (const image of k.images ?? []) {
    for (const object of objects) {
      for (const container of [...(podSpecOf(object)?.containers ?? []), ...(podSpecOf(object)?.initContainers ?? [])]) {
        const [name, tag] = (container.image ?? '').split(/:(?=[^/]*$)/);
        if (name === image.name) container.image = `${image.newName ?? name}:${image.newTag ?? tag}`;
      }
    }
  }
  if (k.namespace) {
    for (const object of objects) if (!CLUSTER_SCOPED.has(object.kind)) object.metadata.namespace = k.namespace;
  }
}

/**
 * Renders a kustomization directory as `kubectl kustomize` does for the features this layout
 * uses: resources (files and directories), components, JSON 6902 patches (add, replace, remove,
 * test) with kind/name/label targets, image overrides and the namespace. Any other field is an
 * error, so the layout cannot drift past what this renderer checks.
 * @example renderKustomization('deploy/kubernetes/overlays/postgres').length
 */
export function renderKustomization(dir: string): K8sObject[] {
  const root = resolve(dir);
  const k = readKustomization(root, 'Kustomization');
  return render(root, k);
}

function render(root: string, k: Kustomization): K8sObject[] {
  const objects = (k.resources ?? []).flatMap((r) => readResource(resolve(root, r)));
  for (const componentDir of k.components ?? []) {
    const componentRoot = resolve(root, componentDir);
    const component = readKustomization(componentRoot, 'Component');
    objects.push(...(component.resources ?? []).flatMap((r) => readResource(resolve(componentRoot, r))));
    applyTransformers(objects, component, join(componentRoot, 'kustomization.yaml'));
  }
  applyTransformers(objects, k, join(root, 'kustomization.yaml'));
  const seen = new Set<string>();
  for (const o of objects) {
    const id = `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    if (seen.has(id)) throw new KustomizeError(`${root}: ${id} is defined twice`);
    seen.add(id);
  }
  return objects;
}
