import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { LIMITS } from '@archbench/contracts/schemas';
import { READY_CHECK_TIMEOUT_MS } from '@archbench/observability/health';
import { DEPLOYABLES, REPO_ROOT } from '../src/deployables';
import { allowedEdges, podSpec, preStopSeconds, quantity, schemaProblem, serviceUrlProblems, workloadProblems, workloads } from '../src/kubernetes-rules';
import type { Container } from '../src/kubernetes-rules';
import type { K8sObject } from '../src/kustomize';
import { applyJsonPatch, renderKustomization } from '../src/kustomize';
import { urlsIn } from '../src/compose';

const K8S = join(REPO_ROOT, 'deploy/kubernetes');
const overlays = readdirSync(join(K8S, 'overlays')).sort();
const rendered = new Map(overlays.map((o) => [o, renderKustomization(join(K8S, 'overlays', o))]));
const base = renderKustomization(join(K8S, 'base'));
const byName = (objects: K8sObject[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
const env = (o: K8sObject) => Object.fromEntries((podSpec(o).containers[0]!.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom]));

/** The calls the architecture makes, per transport. Nothing else may be allowed. */
const CALLS = [
  'frontend->monolith:3000',
  'frontend->gateway:3100',
  'frontend->hybrid-core:3200',
  'gateway->inventory:3101',
  'gateway->orders:3102',
  'gateway->payments:3103',
  'gateway->shipping:3104',
  'orders->inventory:3101',
  'orders->payments:3103',
  'orders->shipping:3104',
  // Over HTTP, payments posts its outbox's events (a late capture refunded) to orders.
  'payments->orders:3102',
  'hybrid-core->hybrid-shipping:3204',
];
/** Public entry points: anyone may call them (ingress controller, k6 runners, other namespaces). */
const PUBLIC = ['monolith:3000', 'gateway:3100', 'hybrid-core:3200', 'frontend:5173'];
/** Prometheus in the namespace `monitoring` scrapes the servers that are not public. */
const SCRAPED = ['inventory:3101', 'orders:3102', 'payments:3103', 'shipping:3104', 'hybrid-shipping:3204'];
const MONITORING = 'ns:kubernetes.io/metadata.name=monitoring/*';
const DB_OWNERS = ['monolith', 'inventory', 'orders', 'payments', 'shipping', 'hybrid-core', 'hybrid-shipping'];
const BROKER_USERS = ['inventory', 'orders', 'payments', 'shipping', 'hybrid-core', 'hybrid-shipping'];

describe('Kubernetes manifests (Kustomize, rendered here)', () => {
  it('has the three overlays', () => {
    expect(overlays).toEqual(['amqp', 'postgres', 'sqlite-single-node']);
  });

  describe.each([['base', base] as const, ...[...rendered].map(([n, o]) => [`overlays/${n}`, o] as const)])('%s', (_name, objects) => {
    it('every object is valid against the Kubernetes OpenAPI schema of its kind', () => {
      expect(objects.length).toBeGreaterThan(20);
      expect(objects.map((o) => [`${o.kind}/${o.metadata.name}`, schemaProblem(o)]).filter(([, p]) => p)).toEqual([]);
    });

    it('every workload follows the project rules (probes, requests and limits, non-root, read-only root, Service, PDB)', () => {
      expect(workloadProblems(objects)).toEqual([]);
    });

    it('runs every deployable with readiness on /ready and liveness on /health at its port', () => {
      for (const d of DEPLOYABLES) {
        const deployment = byName(objects, 'Deployment', d.name);
        expect(deployment, d.name).toBeDefined();
        const c = podSpec(deployment!).containers[0]!;
        expect(c.image.split(':')[0]).toMatch(new RegExp(`(^|/)(archbench[/-])${d.name}$`));
        expect(c.readinessProbe?.httpGet).toEqual({ path: d.ready, port: 'http' });
        // Migrations run before listen: a stateful process gets at least 3 minutes to start.
        if (d.stateful) expect((c.startupProbe?.periodSeconds ?? 10) * (c.startupProbe?.failureThreshold ?? 3), d.name).toBeGreaterThanOrEqual(180);
        // The kubelet gives up after timeoutSeconds (default 1 s); /ready waits up to its checks' timeout
        // (2 s) for a database or broker under load, so a shorter probe takes a slow but healthy pod
        // out of its Service exactly when it is busiest.
        expect((c.readinessProbe?.timeoutSeconds ?? 1) * 1000, d.name).toBeGreaterThan(READY_CHECK_TIMEOUT_MS);
        expect(c.livenessProbe?.timeoutSeconds ?? 1, d.name).toBeGreaterThanOrEqual(3);
        expect(c.livenessProbe?.httpGet).toEqual({ path: d.health, port: 'http' });
        expect(c.ports).toEqual([{ name: 'http', containerPort: d.port }]);
        expect(env(deployment!).PORT).toBe(String(d.port));
        const service = byName(objects, 'Service', d.name)!;
        expect((service.spec as { ports: { port: number }[] }).ports[0]!.port).toBe(d.port);
        // A read-only root needs writable /tmp (and /data for SQLite).
        expect(c.volumeMounts?.map((m) => m.mountPath)).toContain('/tmp');
        if (d.stateful) expect(c.volumeMounts?.map((m) => m.mountPath)).toContain('/data');
      }
    });

    it('every namespaced object lands in the archbench namespace', () => {
      for (const o of objects) if (o.kind !== 'Namespace') expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe('archbench');
    });
  });

  it('the project rules catch a missing probe, a missing limit and a root container', () => {
    const objects = structuredClone(base);
    const gateway = byName(objects, 'Deployment', 'gateway')!;
    delete podSpec(gateway).containers[0]!.readinessProbe;
    delete podSpec(gateway).containers[0]!.resources!.limits!.memory;
    podSpec(gateway).securityContext!.runAsNonRoot = false;
    const problems = workloadProblems(objects).join('\n');
    expect(problems).toMatch(/gateway container gateway: no readinessProbe/);
    expect(problems).toMatch(/gateway container gateway: no memory limits/);
    expect(problems).toMatch(/gateway: pod securityContext.runAsNonRoot is not true/);
  });

  it.each([['base', base] as const, ...[...rendered].map(([n, o]) => [`overlays/${n}`, o] as const)])(
    '%s: every server drains longer than the longest Prefer: wait, so a long-poll begun before a rollout gets its answer',
    (_name, objects) => {
      for (const d of DEPLOYABLES.filter((x) => x.dockerfile === 'server.Dockerfile')) {
        const drainMs = Number(env(byName(objects, 'Deployment', d.name)!).SHUTDOWN_DRAIN_MS);
        expect(drainMs, d.name).toBeGreaterThan(LIMITS.maxWaitSeconds * 1000);
      }
    },
  );

  it('the project rules catch a grace period too short for preStop + SHUTDOWN_DRAIN_MS (or its 10 s default) + closing', () => {
    const objects = structuredClone(base);
    const container = (name: string) => podSpec(byName(objects, 'Deployment', name)!).containers[0]!;
    const setDrain = (name: string, value: string | undefined) => {
      const c = container(name);
      c.env = c.env!.filter((e) => e.name !== 'SHUTDOWN_DRAIN_MS');
      if (value !== undefined) c.env.push({ name: 'SHUTDOWN_DRAIN_MS', value });
    };
    // A drain raised past what the pod's 50 s allow: 5 s preStop + 60 s + 5 s.
    setDrain('orders', '60000');
    // The variable left out: the server's 10 s default counts, 5 + 10 + 5 = 20 s.
    setDrain('payments', undefined);
    podSpec(byName(objects, 'Deployment', 'payments')!).terminationGracePeriodSeconds = 20;
    podSpec(byName(objects, 'Deployment', 'inventory')!).terminationGracePeriodSeconds = 19;
    setDrain('inventory', undefined);
    // A longer preStop hook (Kubernetes' sleep action) eats into the grace period too.
    container('shipping').lifecycle = { preStop: { sleep: { seconds: 15 } } };
    // A value the server refuses at start, and a hook whose length cannot be read.
    setDrain('gateway', '35s');
    container('monolith').lifecycle = { preStop: { httpGet: { path: '/drain', port: 'http' } } };
    // The console's server is not server-kit's (no SHUTDOWN_DRAIN_MS): not held to this rule.
    podSpec(byName(objects, 'Deployment', 'frontend')!).terminationGracePeriodSeconds = 1;
    expect(workloadProblems(objects).sort()).toEqual([
      'Deployment/gateway container gateway: SHUTDOWN_DRAIN_MS="35s" is refused by the server (must be a whole number of milliseconds from 0 to 600000)',
      'Deployment/inventory: terminationGracePeriodSeconds 19 does not cover preStop + SHUTDOWN_DRAIN_MS + 5 s to close (20 s): SIGKILL would cut requests still draining',
      "Deployment/monolith container monolith: cannot tell how long its preStop hook takes (use sleep, or exec sleep N / node -e 'setTimeout(() => {}, N)')",
      'Deployment/orders: terminationGracePeriodSeconds 50 does not cover preStop + SHUTDOWN_DRAIN_MS + 5 s to close (70 s): SIGKILL would cut requests still draining',
      'Deployment/shipping: terminationGracePeriodSeconds 50 does not cover preStop + SHUTDOWN_DRAIN_MS + 5 s to close (55 s): SIGKILL would cut requests still draining',
    ]);
    // payments' 20 s is exactly enough: it is not in the list.
  });

  it('the project rules read SHUTDOWN_DRAIN_MS as Kubernetes does: the last env entry (an overlay appending to env/-), and report a duplicate or an envFrom they cannot read', () => {
    const objects = structuredClone(base);
    // An overlay raising the drain by appending to the base's env: Kubernetes uses the last entry,
    // 60 s, which 5 s preStop + 5 s to close take past the pod's 50 s.
    applyJsonPatch(
      byName(objects, 'Deployment', 'orders'),
      [{ op: 'add', path: '/spec/template/spec/containers/0/env/-', value: { name: 'SHUTDOWN_DRAIN_MS', value: '60000' } }],
      'overlay',
    );
    // A duplicate that changes nothing is still reported: which one counts is easy to misread.
    const payments = podSpec(byName(objects, 'Deployment', 'payments')!).containers[0]!;
    payments.env!.push({ name: 'SHUTDOWN_DRAIN_MS', value: '35000' });
    // The drain from a ConfigMap the check does not read.
    const inventory = podSpec(byName(objects, 'Deployment', 'inventory')!).containers[0]!;
    inventory.env = inventory.env!.filter((e) => e.name !== 'SHUTDOWN_DRAIN_MS');
    inventory.envFrom = [{ configMapRef: { name: 'inventory-settings' } }];
    // envFrom beside SHUTDOWN_DRAIN_MS in env: env wins, so the value is known.
    podSpec(byName(objects, 'Deployment', 'shipping')!).containers[0]!.envFrom = [{ configMapRef: { name: 'shipping-settings' } }];
    expect(workloadProblems(objects).sort()).toEqual([
      'Deployment/inventory container inventory: SHUTDOWN_DRAIN_MS may come from envFrom, which the grace-period check cannot read; set it in env',
      'Deployment/orders container orders: SHUTDOWN_DRAIN_MS is set 2 times in env; Kubernetes uses the last ("60000"), so keep only one',
      'Deployment/orders: terminationGracePeriodSeconds 50 does not cover preStop + SHUTDOWN_DRAIN_MS + 5 s to close (70 s): SIGKILL would cut requests still draining',
      'Deployment/payments container payments: SHUTDOWN_DRAIN_MS is set 2 times in env; Kubernetes uses the last ("35000"), so keep only one',
    ]);
  });

  it('reads how long a preStop hook takes: the sleep action, sleep N, sh -c, node -e setTimeout', () => {
    const hook = (preStop: NonNullable<Container['lifecycle']>['preStop']) => preStopSeconds({ name: 'x', image: 'x:1', lifecycle: { preStop } });
    expect(preStopSeconds({ name: 'x', image: 'x:1' })).toBe(0);
    expect(hook({ sleep: { seconds: 7 } })).toBe(7);
    expect(hook({ exec: { command: ['sleep', '5'] } })).toBe(5);
    expect(hook({ exec: { command: ['/bin/sleep', '2.5'] } })).toBe(2.5);
    expect(hook({ exec: { command: ['sh', '-c', 'sleep 3'] } })).toBe(3);
    expect(hook({ exec: { command: ['node', '-e', 'setTimeout(() => {}, 5000)'] } })).toBe(5);
    expect(hook({ exec: { command: ['node', '-e', 'setTimeout(() => {}, 5000); doMore()'] } })).toBeUndefined();
    expect(hook({ exec: { command: ['sh', '-c', 'curl -X POST localhost/drain && sleep 3'] } })).toBeUndefined();
  });

  it('the schema check rejects a malformed object', () => {
    const deployment = structuredClone(byName(base, 'Deployment', 'monolith')!);
    (podSpec(deployment).containers[0]!.ports![0] as { containerPort: unknown }).containerPort = 'three thousand';
    expect(schemaProblem(deployment)).toMatch(/containerPort must be integer/);
  });

  it('sqlite-single-node keeps each SQLite folder on its own volume and never runs two pods on it', () => {
    const objects = rendered.get('sqlite-single-node')!;
    for (const name of DB_OWNERS) {
      const d = byName(objects, 'Deployment', name)!;
      expect(podSpec(d).volumes?.find((v) => v.name === 'data')?.persistentVolumeClaim?.claimName).toBe(`${name}-data`);
      expect(byName(objects, 'PersistentVolumeClaim', `${name}-data`)).toBeDefined();
      // rollingUpdate: null, so `kubectl apply` over a Deployment first applied from another overlay clears the defaulted field.
      expect((d.spec as { strategy?: { type: string } }).strategy).toEqual({ type: 'Recreate', rollingUpdate: null });
      expect((d.spec as { replicas?: number }).replicas).toBe(1);
    }
    expect(objects.some((o) => o.kind === 'HorizontalPodAutoscaler')).toBe(false);
  });

  it.each(['postgres', 'amqp'])('%s: every database owner gets DATABASE_URL for the PostgreSQL it deploys, its password from a Secret', (overlay) => {
    const objects = rendered.get(overlay)!;
    const postgres = byName(objects, 'StatefulSet', 'postgres');
    expect(postgres).toBeDefined();
    // pg_isready waits up to 3 s to connect (its default connect_timeout); the kubelet's default 1 s would cut it short.
    for (const probe of [podSpec(postgres!).containers[0]!.readinessProbe, podSpec(postgres!).containers[0]!.livenessProbe])
      expect(probe?.timeoutSeconds ?? 1).toBeGreaterThan(3);
    for (const name of DB_OWNERS) {
      const e = env(byName(objects, 'Deployment', name)!);
      expect(e.DATABASE_URL, name).toMatch(/^postgres:\/\/postgres:\$\(POSTGRES_PASSWORD\)@postgres:5432\/archbench_\w+$/);
      expect(e.POSTGRES_PASSWORD).toEqual({ secretKeyRef: { name: 'archbench-postgres', key: 'POSTGRES_PASSWORD' } });
      // $(VAR) expands only from variables defined earlier in the list.
      const names = podSpec(byName(objects, 'Deployment', name)!).containers[0]!.env!.map((v) => v.name);
      expect(names.indexOf('POSTGRES_PASSWORD')).toBeLessThan(names.indexOf('DATABASE_URL'));
    }
    // The init script creates the monolith's database (the monolith does not) and the hybrid core's
    // (which the core would also create when missing, as the microservices create theirs).
    const init = (byName(objects, 'ConfigMap', 'postgres-init')!.data as Record<string, string>)['10-archbench.sql']!;
    for (const name of ['monolith', 'hybrid-core'])
      expect(init).toContain(
        `CREATE DATABASE ${env(byName(objects, 'Deployment', name)!)
          .DATABASE_URL!.toString()
          .split('/')
          .pop()};`,
      );
  });

  it('amqp switches every saga process to RabbitMQ and leaves the gateway on HTTP', () => {
    const objects = rendered.get('amqp')!;
    for (const name of BROKER_USERS) {
      const e = env(byName(objects, 'Deployment', name)!);
      expect(e.TRANSPORT, name).toBe('amqp');
      expect(e.AMQP_URL).toBe('amqp://archbench:$(RABBITMQ_PASSWORD)@rabbitmq:5672');
    }
    expect(env(byName(objects, 'Deployment', 'gateway')!).AMQP_URL).toBeUndefined();
    // One broker, two topologies: the hybrid's queues and exchange must not be the microservices' (AMQP_PREFIX),
    // or the two shipping services would each take half of both topologies' events.
    const prefix = (name: string) => env(byName(objects, 'Deployment', name)!).AMQP_PREFIX ?? 'archbench';
    expect(new Set(['inventory', 'orders', 'payments', 'shipping'].map(prefix))).toEqual(new Set(['archbench']));
    expect(new Set(['hybrid-core', 'hybrid-shipping'].map(prefix))).toEqual(new Set(['archbench-hybrid']));
    for (const name of BROKER_USERS) expect(env(byName(rendered.get('postgres')!, 'Deployment', name)!).TRANSPORT).toBe('http');
  });

  it.each(['postgres', 'amqp'])('%s: the gateway and inventory reads autoscale, and the HPA owns their replica count', (overlay) => {
    const objects = rendered.get(overlay)!;
    const hpas = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler');
    expect(hpas.map((h) => h.metadata.name).sort()).toEqual(['gateway', 'inventory']);
    for (const hpa of hpas) {
      const spec = hpa.spec as { scaleTargetRef: { kind: string; name: string }; minReplicas: number; maxReplicas: number };
      const target = byName(objects, spec.scaleTargetRef.kind, spec.scaleTargetRef.name)!;
      expect(target).toBeDefined();
      expect((target.spec as { replicas?: number }).replicas).toBeUndefined();
      expect(spec.minReplicas).toBeGreaterThanOrEqual(2);
      // Inventory shares one database between replicas only with PostgreSQL; the gateway keeps no data.
      if (target.metadata.name === 'inventory') expect(String(env(target).DATABASE_URL)).toMatch(/^postgres:\/\//);
      else expect(env(target).DATABASE_URL).toBeUndefined();
    }
  });

  it.each(['sqlite-single-node', 'postgres', 'amqp'])('%s: NetworkPolicies deny everything but the calls the architecture makes', (overlay) => {
    const objects = rendered.get(overlay)!;
    const denyAll = byName(objects, 'NetworkPolicy', 'deny-all')!;
    expect(denyAll.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    for (const w of workloads(objects)) expect(byName(objects, 'NetworkPolicy', w.metadata.name), w.metadata.name).toBeDefined();
    const edges = allowedEdges(objects).map((e) => `${e.from}->${e.to}:${e.port}`);
    const expected = [
      ...CALLS,
      ...DB_OWNERS.map((n) => `${n}->postgres:5432`),
      ...BROKER_USERS.map((n) => `${n}->rabbitmq:5672`),
      ...PUBLIC.map((p) => `*->${p}`),
      ...SCRAPED.map((s) => `${MONITORING}->${s}`),
      // Every pod resolves names with the cluster DNS, in whatever namespace it runs.
      '*->ns:*/k8s-app=kube-dns:53',
    ];
    expect(edges.sort()).toEqual(expected.sort());
  });

  it('the network-policy graph shows an over-permissive rule: any destination, any port, any namespace, any source', () => {
    const policies = rendered.get('postgres')!;
    const edgesWith = (mutate: (objects: K8sObject[]) => void) => {
      const objects = structuredClone(policies);
      mutate(objects);
      return allowedEdges(objects).map((e) => `${e.from}->${e.to}:${e.port}`);
    };
    type Spec = { egress: unknown[]; ingress: unknown[] };
    const spec = (objects: K8sObject[], name: string) => byName(objects, 'NetworkPolicy', name)!.spec as Spec;
    // A ports-only egress rule reaches any destination on that port.
    expect(edgesWith((o) => spec(o, 'frontend').egress.push({ ports: [{ port: 443, protocol: 'TCP' }] }))).toContain('frontend->*:443');
    // An empty rule: anywhere, every port.
    expect(edgesWith((o) => spec(o, 'monolith').egress.push({}))).toContain('monolith->*:*');
    // Ingress from every namespace.
    expect(edgesWith((o) => spec(o, 'orders').ingress.push({ from: [{ namespaceSelector: {} }], ports: [{ port: 3102 }] }))).toContain('ns:*/*->orders:3102');
    // Ingress without `from`: an internal service opened to anyone.
    expect(edgesWith((o) => spec(o, 'payments').ingress.push({ ports: [{ port: 3103 }] }))).toContain('*->payments:3103');
  });

  describe.each([['base', base] as const, ...[...rendered].map(([n, o]) => [`overlays/${n}`, o] as const)])('%s: service URLs', (_name, objects) => {
    it("every URL in a workload's environment names a Service and a port that Service exposes", () => {
      const urls = workloads(objects).flatMap((w) => (podSpec(w).containers[0]!.env ?? []).filter((e) => /:\/\//.test(e.value ?? '')));
      expect(urls.length).toBeGreaterThanOrEqual(10);
      expect(serviceUrlProblems(objects)).toEqual([]);
    });
  });

  it('the URL check catches a wrong port, a default port and an unknown host', () => {
    const objects = structuredClone(rendered.get('postgres')!);
    const set = (deployment: string, variable: string, value: string) => {
      podSpec(byName(objects, 'Deployment', deployment)!).containers[0]!.env!.find((e) => e.name === variable)!.value = value;
    };
    set('gateway', 'ORDERS_URL', 'http://orders:3103');
    set('orders', 'INVENTORY_URL', 'http://inventory');
    set('frontend', 'BACKENDS', 'monolith=http://monolith:3000,hybrid=http://hybrid:3200');
    // postgres:// without a port is 5432, which the Service exposes.
    set('monolith', 'DATABASE_URL', 'postgres://postgres:$(POSTGRES_PASSWORD)@postgres/archbench_monolith');
    expect(serviceUrlProblems(objects).sort()).toEqual([
      'frontend.BACKENDS: no Service hybrid',
      'gateway.ORDERS_URL: Service orders exposes 3102, not 3103',
      'orders.INVENTORY_URL: Service inventory exposes 3101, not 80',
    ]);
  });

  it('the console offers every topology the base deploys, hybrid included', () => {
    const backends = String(env(byName(base, 'Deployment', 'frontend')!).BACKENDS);
    expect(urlsIn(backends).map((u) => `${u.host}:${u.port}`)).toEqual(PUBLIC.filter((p) => !p.startsWith('frontend')));
  });

  it('names every server process and its topology in its spans (the topologies run side by side in one namespace)', () => {
    const names = new Set<string>();
    for (const d of DEPLOYABLES.filter((x) => x.dockerfile === 'server.Dockerfile')) {
      const deployment = byName(base, 'Deployment', d.name)!;
      const e = env(deployment);
      expect(e.OTEL_SERVICE_NAME, d.name).toBe(d.name);
      names.add(String(e.OTEL_SERVICE_NAME));
      const component = (deployment.metadata as { labels: Record<string, string> }).labels['app.kubernetes.io/component'];
      expect(e.OTEL_RESOURCE_ATTRIBUTES, d.name).toBe(`deployment.environment.name=${component}`);
    }
    expect(names.size).toBe(8);
  });

  it('hybrid-shipping runs the microservices shipping process, which listens on PORT: it gets no SHIPPING_PORT (only the hybrid core reads it)', () => {
    for (const objects of [base, ...rendered.values()]) expect(env(byName(objects, 'Deployment', 'hybrid-shipping')!)).not.toHaveProperty('SHIPPING_PORT');
  });

  it('resources come from the measured RSS and CPU (measured-resources.json, `pnpm --filter @archbench/deploy measure`)', () => {
    const measured = JSON.parse(readFileSync(join(K8S, 'measured-resources.json'), 'utf8')) as {
      groups: { processes: { name: string; peakRssMiB: number; loadCpuCores: number }[] }[];
    };
    const figures = new Map(measured.groups.flatMap((g) => g.processes.map((p) => [p.name, p] as const)));
    // A server's V8 heap may grow to --max-old-space-size; the limit leaves room for the rest of the
    // process (code, stacks, buffers, SQLite: ~100 MB at rest), so V8 reports a full heap before the kernel OOM-kills.
    const oldSpaceMiB = (dockerfile: string) =>
      Number(/--max-old-space-size=(\d+)/.exec(readFileSync(join(REPO_ROOT, 'deploy/docker', dockerfile), 'utf8'))?.[1] ?? 0);
    for (const d of DEPLOYABLES) {
      const f = figures.get(d.name);
      expect(f, `${d.name} was measured`).toBeDefined();
      const r = podSpec(byName(base, 'Deployment', d.name)!).containers[0]!.resources!;
      const peak = f!.peakRssMiB * 1024 ** 2;
      // Request what it was seen to use, with headroom; limit well above it (a V8 heap grows under load).
      expect(quantity(r.requests!.memory!), d.name).toBeGreaterThanOrEqual(1.1 * peak);
      expect(quantity(r.limits!.memory!), d.name).toBeGreaterThanOrEqual(2 * peak);
      expect(quantity(r.limits!.memory!), d.name).toBeGreaterThanOrEqual((oldSpaceMiB(d.dockerfile) + 128) * 1024 ** 2);
      expect(quantity(r.requests!.cpu!), d.name).toBeGreaterThanOrEqual(f!.loadCpuCores);
      expect(quantity(r.limits!.cpu!), d.name).toBeGreaterThanOrEqual(Math.max(0.5, 2 * f!.loadCpuCores));
    }
  });
});

describe('the Kustomize renderer', () => {
  it('applies JSON 6902 add, replace, remove and test like kustomize', () => {
    const doc = { a: { list: [1, 2] }, b: 'x' };
    applyJsonPatch(
      doc,
      [
        { op: 'test', path: '/b', value: 'x' },
        { op: 'add', path: '/a/list/-', value: 3 },
        { op: 'replace', path: '/b', value: 'y' },
        { op: 'remove', path: '/a/list/0' },
      ],
      'unit',
    );
    expect(doc).toEqual({ a: { list: [2, 3] }, b: 'y' });
    expect(() => applyJsonPatch(doc, [{ op: 'test', path: '/b', value: 'x' }], 'unit')).toThrow(/test \/b failed/);
    expect(() => applyJsonPatch(doc, [{ op: 'replace', path: '/a/nope/x', value: 1 }], 'unit')).toThrow(/nope does not exist/);
  });

  it('every kustomization uses only what the renderer implements', () => {
    const dirs = [
      join(K8S, 'base'),
      ...readdirSync(join(K8S, 'components')).map((c) => join(K8S, 'components', c)),
      ...overlays.map((o) => join(K8S, 'overlays', o)),
    ];
    for (const dir of dirs) {
      const k = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as Record<string, unknown>;
      expect(
        Object.keys(k).every((key) => ['apiVersion', 'kind', 'namespace', 'resources', 'components', 'patches', 'images'].includes(key)),
        dir,
      ).toBe(true);
    }
  });

  it('every component has a README saying when to use it', () => {
    for (const c of readdirSync(join(K8S, 'components'))) expect(readFileSync(join(K8S, 'components', c, 'README.md'), 'utf8').length, c).toBeGreaterThan(200);
  });
});

describe('k6-operator TestRun (deploy/kubernetes/k6)', () => {
  const docs = readdirSync(join(K8S, 'k6')).flatMap((f) => parseAllDocuments(readFileSync(join(K8S, 'k6', f), 'utf8')).map((d) => d.toJS() as K8sObject));
  const testRun = docs.find((d) => d.kind === 'TestRun')!;
  const spec = testRun.spec as {
    parallelism: number;
    script: { configMap: { name: string; file: string } };
    arguments: string;
    runner: {
      image: string;
      env: { name: string; valueFrom?: { secretKeyRef: { name: string } } }[];
      securityContext: { runAsNonRoot: boolean };
      resources: { limits: Record<string, string> };
    };
  };

  it('is a k6.io/v1alpha1 TestRun in a namespace of its own, with N runners', () => {
    expect(testRun.apiVersion).toBe('k6.io/v1alpha1');
    const namespace = docs.find((d) => d.kind === 'Namespace')!;
    expect(schemaProblem(namespace)).toBeUndefined();
    expect(testRun.metadata.namespace).toBe(namespace.metadata.name);
    expect(spec.parallelism).toBeGreaterThanOrEqual(2);
  });

  it("runs an archive of one of the repository's k6 scripts against an in-cluster entry point", () => {
    const script = spec.script.configMap.file.replace(/\.tar$/, '.ts');
    expect(existsSync(join(REPO_ROOT, 'load/k6', script))).toBe(true);
    const baseUrl = /-e BASE_URL=(\S+)/.exec(spec.arguments)![1]!;
    const url = new URL(baseUrl);
    const [service, namespace] = url.hostname.split('.');
    expect(namespace).toBe('archbench');
    const svc = byName(base, 'Service', service!)!;
    expect((svc.spec as { ports: { port: number }[] }).ports[0]!.port).toBe(Number(url.port));
    expect(spec.arguments).toMatch(/-e SUMMARY_JSON=\/dev\/stdout/);
    expect(spec.arguments).toMatch(/-e PROFILE=(smoke|quick|standard)\b/);
  });

  it("mints tokens with the cluster's secret and runs non-root with limits, on a pinned k6", () => {
    expect(spec.runner.env.find((e) => e.name === 'AUTH_SECRET')?.valueFrom?.secretKeyRef.name).toBe('archbench-auth');
    expect(spec.runner.securityContext.runAsNonRoot).toBe(true);
    expect(spec.runner.resources.limits).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(spec.runner.image).toMatch(/^grafana\/k6:\d+\.\d+\.\d+$/);
  });
});
