import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  COMPOSE_DIR,
  environmentOf,
  interpolate,
  loadCompose,
  projectRuleProblems,
  runsServerKit,
  schemaErrors,
  serviceEnvironment,
  serviceUrlProblems,
  urlsIn,
} from '../src/compose';
import { stopTimeoutMs } from '../src/shutdown';
import type { ComposeFile, ComposeService } from '../src/compose';
import { DASHBOARDS, DASHBOARD_DIR, dashboardFile, renderDashboard } from '../src/dashboards';
import { LIMITS } from '@archbench/contracts/schemas';
import { DEPLOYABLES } from '../src/deployables';
import { checkDockerfile } from '../src/dockerfile-rules';

const compose = loadCompose();
const services = compose.services;
const appServices = Object.entries(services).filter(([, s]) => s.image?.includes('${') === false && /^archbench\//.test(s.image ?? ''));
const clone = (): ComposeFile => structuredClone(compose);
/** A service's `environment` to edit, written as a map (as compose.yaml writes every one). */
const mapEnvironment = (service: ComposeService): Record<string, unknown> => {
  if (!service.environment || Array.isArray(service.environment)) throw new Error('environment is not a map');
  return service.environment;
};

describe('deploy/compose/compose.yaml', () => {
  it('is valid against the Compose Specification JSON schema', () => {
    expect(schemaErrors(compose)).toEqual([]);
  });

  it('the schema check rejects what Compose would reject', () => {
    const typo = clone();
    (typo.services.monolith as Record<string, unknown>).imagee = 'x';
    expect(schemaErrors(typo).join('\n')).toMatch(/additional properties/);
    const badCondition = clone();
    badCondition.services.monolith!.depends_on = { postgres: { condition: 'service_ready' } };
    expect(schemaErrors(badCondition).join('\n')).toMatch(/depends_on/);
  });

  it('follows the project rules: every service health-checked, dependencies wait for health', () => {
    expect(projectRuleProblems(compose)).toEqual([]);
  });

  it('the project rules catch a missing healthcheck and a dependency on start only', () => {
    const broken = clone();
    delete broken.services.inventory!.healthcheck;
    broken.services.gateway!.depends_on = { orders: { condition: 'service_started' } };
    broken.services.orders!.depends_on = ['postgres'];
    const problems = projectRuleProblems(broken).join('\n');
    expect(problems).toMatch(/inventory: no healthcheck/);
    expect(problems).toMatch(/gateway: depends_on orders with condition service_started/);
    expect(problems).toMatch(/orders: depends_on as a list/);
  });

  it('every server drains longer than the longest Prefer: wait, and Docker waits for that drain before SIGKILL', () => {
    const servers = appServices.filter(([name]) => name !== 'frontend');
    expect(servers.length).toBeGreaterThanOrEqual(13);
    for (const [name, service] of servers) expect(Number(environmentOf(service).SHUTDOWN_DRAIN_MS), name).toBeGreaterThan(LIMITS.maxWaitSeconds * 1000);
    expect(projectRuleProblems(compose).filter((p) => /SHUTDOWN_DRAIN_MS/.test(p))).toEqual([]);
  });

  it('the project rules catch a stop_grace_period shorter than SHUTDOWN_DRAIN_MS (or its 10 s default) + closing', () => {
    const broken = clone();
    // Docker's default 10 s against a 35 s drain.
    delete broken.services.orders!.stop_grace_period;
    // No drain set: the server's 10 s default, + 5 s to close, against 12 s.
    delete mapEnvironment(broken.services['payments-amqp']!).SHUTDOWN_DRAIN_MS;
    broken.services['payments-amqp']!.stop_grace_period = '12s';
    broken.services['hybrid-core']!.stop_grace_period = '1m';
    mapEnvironment(broken.services.monolith!).SHUTDOWN_DRAIN_MS = '-1';
    // The console's server has no server-kit drain: not held to it.
    broken.services.frontend!.stop_grace_period = '1s';
    // A minute is enough: not in the list.
    expect(projectRuleProblems(broken).sort()).toEqual([
      'monolith: SHUTDOWN_DRAIN_MS="-1" is refused by the server (must be a whole number of milliseconds from 0 to 600000)',
      'orders: stop_grace_period 10 s does not cover SHUTDOWN_DRAIN_MS + 5 s to close (40 s): SIGKILL would cut requests still draining',
      'payments-amqp: stop_grace_period 12 s does not cover SHUTDOWN_DRAIN_MS + 5 s to close (15 s): SIGKILL would cut requests still draining',
    ]);
  });

  it('a server run from its image files locally (runStandalone, with compose’s environment) gets its whole drain + closing before SIGKILL, not a fixed 15 s', () => {
    expect(stopTimeoutMs(serviceEnvironment(compose, 'orders'))).toBe(45_000);
    expect(stopTimeoutMs({})).toBe(20_000);
    expect(stopTimeoutMs({ SHUTDOWN_DRAIN_MS: 'abc' })).toBe(20_000);
  });

  it('the stop_grace_period rule reads `environment` written as a list (- SHUTDOWN_DRAIN_MS=60000) and reports a bare - SHUTDOWN_DRAIN_MS taken from the host', () => {
    const listed = clone();
    const asList = (service: ComposeService) => Object.entries(mapEnvironment(service)).map(([key, value]) => `${key}=${value as string}`);
    // A 60 s drain against the file's 45 s: as a map it is reported, and as a list too.
    mapEnvironment(listed.services.orders!).SHUTDOWN_DRAIN_MS = '60000';
    listed.services.orders!.environment = asList(listed.services.orders!);
    expect(listed.services.orders!.environment).toContain('SHUTDOWN_DRAIN_MS=60000');
    // From the host when compose runs: its value is not in the file.
    listed.services.monolith!.environment = [...asList(listed.services.monolith!).filter((e) => !e.startsWith('SHUTDOWN_DRAIN_MS=')), 'SHUTDOWN_DRAIN_MS'];
    delete mapEnvironment(listed.services.payments!).SHUTDOWN_DRAIN_MS;
    listed.services.payments!.environment = [...asList(listed.services.payments!), 'SHUTDOWN_DRAIN_MS=-1'];
    // A list that sets it, with a grace period that covers it: no problem.
    listed.services.inventory!.environment = asList(listed.services.inventory!);
    const gatewayEnvironment = asList(listed.services.gateway!);
    expect(schemaErrors(listed)).toEqual([]);
    expect(projectRuleProblems(listed).sort()).toEqual([
      'monolith: SHUTDOWN_DRAIN_MS has no value here (taken from the environment docker compose runs in), so stop_grace_period cannot be checked against it; set it in the file',
      'orders: stop_grace_period 45 s does not cover SHUTDOWN_DRAIN_MS + 5 s to close (65 s): SIGKILL would cut requests still draining',
      'payments: SHUTDOWN_DRAIN_MS="-1" is refused by the server (must be a whole number of milliseconds from 0 to 600000)',
    ]);
    expect(serviceEnvironment(listed, 'orders')).toEqual({ ...serviceEnvironment(compose, 'orders'), SHUTDOWN_DRAIN_MS: '60000' });
    expect(serviceEnvironment(listed, 'monolith')).not.toHaveProperty('SHUTDOWN_DRAIN_MS');
    expect(environmentOf({ environment: ['A=1=2', 'B=', 'C', 'A=3'] })).toEqual({ A: '3', B: '', C: null });
    expect(environmentOf({ environment: { A: 1, B: null, C: false } })).toEqual({ A: '1', B: null, C: 'false' });
    // The URL rule reads a list too.
    listed.services.gateway!.environment = [...gatewayEnvironment.filter((e) => !e.startsWith('ORDERS_URL=')), 'ORDERS_URL=http://orders:3103'];
    expect(serviceUrlProblems(listed)).toEqual(['gateway.ORDERS_URL: orders listens on 3102, not 3103']);
  });

  it.each(['localhost:5000/me', 'ghcr.io/me'])(
    'the stop_grace_period rule still checks every server with ARCHBENCH_REGISTRY=%s (found by what builds it, not by its image name)',
    (registry) => {
      const pushed = loadCompose(undefined, { ARCHBENCH_REGISTRY: registry, ARCHBENCH_TAG: 'v1.2.3' });
      const servers = Object.entries(pushed.services).filter(([, service]) => runsServerKit(service));
      expect(servers.map(([name]) => name).sort()).toEqual(
        appServices
          .filter(([name]) => name !== 'frontend')
          .map(([name]) => name)
          .sort(),
      );
      expect(projectRuleProblems(pushed)).toEqual([]);
      delete pushed.services.orders!.stop_grace_period;
      // A service that only pulls the pushed image (no build section) is known by the image's name.
      delete pushed.services.monolith!.build;
      expect(pushed.services.monolith!.image).toBe(`${registry}/monolith:v1.2.3`);
      pushed.services.monolith!.stop_grace_period = '20s';
      expect(projectRuleProblems(pushed).sort()).toEqual([
        'monolith: stop_grace_period 20 s does not cover SHUTDOWN_DRAIN_MS + 5 s to close (40 s): SIGKILL would cut requests still draining',
        'orders: stop_grace_period 10 s does not cover SHUTDOWN_DRAIN_MS + 5 s to close (40 s): SIGKILL would cut requests still draining',
      ]);
    },
  );

  it('runs every deployable from the image its Dockerfile builds, under a profile of its own and "all"', () => {
    for (const d of DEPLOYABLES) {
      const service = services[d.name];
      expect(service, d.name).toBeDefined();
      expect(service!.image).toBe(`archbench/${d.name}:dev`);
      expect(service!.build?.dockerfile).toBe(`deploy/docker/${d.dockerfile}`);
      expect(resolve(COMPOSE_DIR, service!.build!.context)).toBe(resolve(COMPOSE_DIR, '../..'));
      if (d.dockerfile === 'server.Dockerfile') expect(service!.build?.args).toEqual({ APP: d.name, PORT: String(d.port) });
      expect(environmentOf(service!).PORT).toBe(String(d.port));
      expect(service!.profiles).toContain('all');
    }
    const profiles = new Set(Object.values(services).flatMap((s) => s.profiles ?? []));
    for (const p of ['monolith', 'microservices-http', 'microservices-amqp', 'hybrid', 'frontend', 'all']) expect(profiles).toContain(p);
  });

  it('the AMQP microservices reuse the HTTP images and differ only in transport, broker and database', () => {
    for (const name of ['gateway', 'inventory', 'orders', 'payments', 'shipping']) {
      const http = services[name]!;
      const amqp = services[`${name}-amqp`]!;
      expect(amqp.image).toBe(http.image);
      expect(environmentOf(amqp).TRANSPORT).toBe('amqp');
      expect(environmentOf(http).TRANSPORT).toBe('http');
      expect(environmentOf(amqp).AMQP_URL).toMatch(/^amqp:\/\/\w+:\w+@rabbitmq:5672$/);
      expect(environmentOf(amqp).DATABASE_URL).not.toBe(environmentOf(http).DATABASE_URL);
    }
  });

  it('service URLs in the environment name compose services at the ports they listen on', () => {
    const urls = Object.values(services).flatMap((s) => Object.values(environmentOf(s)).flatMap((v) => urlsIn(v ?? '')));
    expect(urls.length).toBeGreaterThanOrEqual(30);
    expect(serviceUrlProblems(compose)).toEqual([]);
  });

  it('the URL check catches a wrong port, a URL without one, a third-party port and an unknown host', () => {
    const broken = clone();
    mapEnvironment(broken.services.gateway!).ORDERS_URL = 'http://orders:3103';
    mapEnvironment(broken.services['gateway-amqp']!).INVENTORY_URL = 'http://inventory-amqp';
    mapEnvironment(broken.services.monolith!).DATABASE_URL = 'postgres://postgres:x@postgres:5433/archbench_monolith';
    mapEnvironment(broken.services.frontend!).BACKENDS = 'monolith=http://monolith:3000,hybrid=http://hybrid:3200';
    // The postgres scheme's default port is the image's: no problem.
    mapEnvironment(broken.services['hybrid-core']!).DATABASE_URL = 'postgres://postgres:x@postgres/archbench_hybrid';
    expect(serviceUrlProblems(broken).sort()).toEqual([
      'frontend.BACKENDS: hybrid is not a compose service',
      'gateway-amqp.INVENTORY_URL: inventory-amqp listens on 3101, not 80',
      'gateway.ORDERS_URL: orders listens on 3102, not 3103',
      'monolith.DATABASE_URL: postgres listens on 5432, not 5433',
    ]);
  });

  it('the console offers every topology `--profile all` runs: each public entry point', () => {
    const entries = appServices.filter(([name, s]) => name !== 'frontend' && (s.ports?.length ?? 0) > 0).map(([name, s]) => `${name}:${environmentOf(s).PORT}`);
    expect(entries.sort()).toEqual(['gateway-amqp:3100', 'gateway:3100', 'hybrid-core:3200', 'monolith:3000']);
    const backends = urlsIn(environmentOf(services.frontend!).BACKENDS ?? '').map((u) => `${u.host}:${u.port}`);
    expect(backends.sort()).toEqual(entries.sort());
  });

  it("names every server's spans after its compose service and topology, so Jaeger tells the topologies apart", () => {
    const prometheus = parse(readFileSync(join(COMPOSE_DIR, 'prometheus/prometheus.yaml'), 'utf8')) as {
      scrape_configs: { static_configs: { targets: string[]; labels: { topology: string } }[] }[];
    };
    const topologyOf = new Map(
      prometheus.scrape_configs.flatMap((job) => job.static_configs.flatMap((c) => c.targets.map((t) => [t.split(':')[0]!, c.labels.topology] as const))),
    );
    const servers = appServices.filter(([name]) => name !== 'frontend');
    for (const [name, service] of servers) {
      expect(environmentOf(service).OTEL_SERVICE_NAME, name).toBe(name);
      expect(environmentOf(service).OTEL_RESOURCE_ATTRIBUTES, name).toBe(`deployment.environment.name=${topologyOf.get(name)}`);
    }
    expect(new Set(servers.map(([, s]) => environmentOf(s).OTEL_SERVICE_NAME)).size).toBe(servers.length);
  });

  it('hybrid-shipping runs the microservices shipping process, which listens on PORT: it gets no SHIPPING_PORT (only the hybrid core reads it)', () => {
    expect(services['hybrid-shipping']!.environment).not.toHaveProperty('SHIPPING_PORT');
    expect(environmentOf(services['hybrid-shipping']!).PORT).toBe('3204');
  });

  it("health-checks each app exactly as its image's HEALTHCHECK does", () => {
    for (const d of DEPLOYABLES) {
      const { facts } = checkDockerfile(readFileSync(join(COMPOSE_DIR, '../docker', d.dockerfile), 'utf8'));
      expect(services[d.name]!.healthcheck?.test, d.name).toEqual(['CMD', ...facts.healthcheck!]);
    }
  });

  it('every DATABASE_URL names a database that exists at start: created by init.sql, or derived and created by the microservices', () => {
    const init = readFileSync(join(COMPOSE_DIR, 'postgres/init.sql'), 'utf8');
    for (const [name, service] of Object.entries(services)) {
      const url = environmentOf(service).DATABASE_URL;
      if (!url) continue;
      const database = new URL(url).pathname.slice(1);
      // The microservices' shipping process (also the hybrid's) derives <name>_<service> and creates it.
      const derives = ['gateway', 'inventory', 'orders', 'payments', 'shipping', 'hybrid-shipping'].includes(name.replace(/-amqp$/, ''));
      if (!derives) expect(init, `${name}: ${database}`).toContain(`CREATE DATABASE ${database};`);
      expect(new URL(url).hostname, name).toBe('postgres');
    }
  });

  it('mounts files that exist', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('.')) expect(existsSync(resolve(COMPOSE_DIR, source)), `${name}: ${source}`).toBe(true);
      }
    }
  });

  it('interpolates like Compose: defaults, overrides and empty values', () => {
    expect(interpolate('${A:-x}/${B-y}/${C}', { A: '', B: '', C: 'c' })).toBe('x//c');
    expect(interpolate('${A:-x}', { A: 'set' })).toBe('set');
  });
});

describe('Prometheus, collector and Grafana configuration', () => {
  const prometheus = parse(readFileSync(join(COMPOSE_DIR, 'prometheus/prometheus.yaml'), 'utf8')) as {
    scrape_configs: { job_name: string; static_configs: { targets: string[]; labels?: Record<string, string> }[] }[];
  };
  const targets = prometheus.scrape_configs.flatMap((job) =>
    job.static_configs.flatMap((c) => c.targets.map((t) => ({ job: job.job_name, target: t, topology: c.labels?.topology }))),
  );

  it('scrapes /metrics of every server process in compose, at the port it listens on, with a topology label', () => {
    const servers = appServices.filter(([name]) => name !== 'frontend');
    expect(servers.length).toBeGreaterThanOrEqual(13);
    for (const [name, service] of servers) {
      const found = targets.find((t) => t.target === `${name}:${environmentOf(service).PORT}`);
      expect(found, name).toBeDefined();
      expect(found!.topology, name).toBeTruthy();
    }
  });

  it('scrapes nothing that compose does not run', () => {
    for (const { target } of targets) expect(services[target.split(':')[0]!], target).toBeDefined();
  });

  it('mounts every rule file prometheus.yaml loads (Prometheus skips a rule file that is not there without a word)', () => {
    const { rule_files: ruleFiles = [] } = parse(readFileSync(join(COMPOSE_DIR, 'prometheus/prometheus.yaml'), 'utf8')) as { rule_files?: string[] };
    expect(ruleFiles.length).toBeGreaterThan(0);
    const mounts = new Map((services.prometheus!.volumes ?? []).map((v) => [v.split(':')[1]!, v.split(':')[0]!] as const));
    for (const file of ruleFiles) {
      expect(mounts.get(file), file).toBeDefined();
      expect(existsSync(resolve(COMPOSE_DIR, mounts.get(file)!)), file).toBe(true);
    }
  });

  it('the collector pipeline uses only components it defines and exports to a compose service', () => {
    const config = parse(readFileSync(join(COMPOSE_DIR, 'otel-collector/config.yaml'), 'utf8')) as Record<string, Record<string, unknown>> & {
      service: { pipelines: Record<string, { receivers: string[]; processors: string[]; exporters: string[] }> };
    };
    for (const pipeline of Object.values(config.service.pipelines)) {
      for (const kind of ['receivers', 'processors', 'exporters'] as const) {
        for (const component of pipeline[kind]) expect(Object.keys(config[kind] ?? {}), `${kind} ${component}`).toContain(component);
      }
    }
    const exporter = (config.exporters as Record<string, { endpoint: string }>)['otlp/jaeger']!;
    expect(services[exporter.endpoint.split(':')[0]!]).toBeDefined();
    // Every server sends its spans to the collector's OTLP/HTTP receiver.
    const receiver = (config.receivers as Record<string, { protocols: { http: { endpoint: string } } }>).otlp!.protocols.http.endpoint.split(':')[1];
    for (const [name, service] of appServices.filter(([n]) => n !== 'frontend'))
      expect(environmentOf(service).OTEL_EXPORTER_OTLP_ENDPOINT, name).toBe(`http://otel-collector:${receiver}`);
  });

  it('Grafana loads the dashboards folder compose mounts, with the datasources they use', () => {
    const provider = parse(readFileSync(join(COMPOSE_DIR, 'grafana/provisioning/dashboards/dashboards.yaml'), 'utf8')) as {
      providers: { options: { path: string } }[];
    };
    const mounts = services.grafana!.volumes ?? [];
    expect(mounts).toContain(`./grafana/dashboards:${provider.providers[0]!.options.path}:ro`);
    expect(mounts.some((m) => m.startsWith('./grafana/provisioning:/etc/grafana/provisioning'))).toBe(true);
    const datasources = parse(readFileSync(join(COMPOSE_DIR, 'grafana/provisioning/datasources/datasources.yaml'), 'utf8')) as {
      datasources: { uid: string; url: string }[];
    };
    const uids = datasources.datasources.map((d) => d.uid);
    for (const file of readdirSync(DASHBOARD_DIR)) {
      const text = readFileSync(join(DASHBOARD_DIR, file), 'utf8');
      for (const match of text.matchAll(/"uid": "([^"]+)"/g)) if (match[1] !== JSON.parse(text).uid) expect(uids, file).toContain(match[1]);
    }
    for (const d of datasources.datasources) expect(services[new URL(d.url).hostname], d.url).toBeDefined();
    const home = environmentOf(services.grafana!).GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH!;
    expect(home.startsWith(`${provider.providers[0]!.options.path}/`)).toBe(true);
    expect(existsSync(join(DASHBOARD_DIR, home.split('/').pop()!))).toBe(true);
  });

  it('the checked-in dashboards are what `pnpm --filter @archbench/deploy dashboards` writes', () => {
    expect(readdirSync(DASHBOARD_DIR).sort()).toEqual(DASHBOARDS.map(dashboardFile).sort());
    for (const spec of DASHBOARDS) {
      expect(readFileSync(join(DASHBOARD_DIR, dashboardFile(spec)), 'utf8'), spec.uid).toBe(`${JSON.stringify(renderDashboard(spec), null, 2)}\n`);
    }
  });
});
