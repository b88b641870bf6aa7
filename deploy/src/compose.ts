import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { REPO_ROOT } from './deployables';
import { SERVER_KIT_DEPLOYABLES, SHUTDOWN_CLOSE_SECONDS, drainSeconds } from './shutdown';

export const COMPOSE_DIR = join(REPO_ROOT, 'deploy/compose');
const COMPOSE_FILE = join(COMPOSE_DIR, 'compose.yaml');
/** A Compose duration: Go's syntax (`45s`, `1m30s`), not ISO 8601's. */
const GO_DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;

export interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile?: string; args?: Record<string, string> };
  profiles?: string[];
  /**
   * `KEY: value` (a map) or `- KEY=value` (a list); a bare `KEY` (`KEY:` in a map) takes the
   * value from the environment docker compose runs in. Read it with environmentOf().
   */
  environment?: Record<string, string | number | boolean | null> | string[];
  healthcheck?: { test?: string[] | string; disable?: boolean };
  depends_on?: string[] | Record<string, { condition?: string }>;
  ports?: string[];
  volumes?: string[];
  command?: string[];
  /** How long Docker waits after SIGTERM before SIGKILL (a Go duration); Docker's default is 10 s. */
  stop_grace_period?: string;
  [extension: `x-${string}`]: unknown;
}

export interface ComposeFile {
  name?: string;
  services: Record<string, ComposeService>;
  [key: string]: unknown;
}

/**
 * Replaces `${VAR}`, `${VAR:-default}` and `${VAR-default}` as Compose does, from `variables`
 * (an unset variable without a default becomes empty, as Compose warns and does).
 */
export function interpolate(text: string, variables: Record<string, string | undefined> = {}): string {
  return text.replace(/\$\{(\w+)(?:(:?-)([^}]*))?\}/g, (_match, name: string, operator: string | undefined, fallback: string | undefined) => {
    const value = variables[name];
    if (operator === ':-') return value ? value : (fallback ?? '');
    if (operator === '-') return value ?? fallback ?? '';
    return value ?? '';
  });
}

/** Reads compose.yaml: variables interpolated (defaults only unless given), YAML merge keys applied. */
export function loadCompose(file = COMPOSE_FILE, variables: Record<string, string | undefined> = {}): ComposeFile {
  return parse(interpolate(readFileSync(file, 'utf8'), variables), { merge: true }) as ComposeFile;
}

/**
 * Validates against the Compose Specification's JSON schema (vendored in deploy/compose/schema
 * with its license). Returns one line per violation.
 */
export function schemaErrors(compose: unknown): string[] {
  const { $schema: _dialect, ...schema } = withoutDraft4Ids(JSON.parse(readFileSync(join(COMPOSE_DIR, 'schema/compose-spec.json'), 'utf8'))) as Record<
    string,
    unknown
  >;
  // The file names its dialect with a non-canonical URI (http://…/draft/2019-09/schema#) that Ajv
  // does not know, so the dialect is set by using Ajv2019 instead. Its draft-04 style `id`
  // annotations (string values, never referenced) are dropped: Ajv refuses that keyword.
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  addFormats.default(ajv);
  // Formats the Compose implementation defines for itself (Go durations, not ISO 8601 ones).
  ajv.addFormat('duration', GO_DURATION);
  ajv.addFormat('ports', /^(\d{1,5}(-\d{1,5})?|((\S+:)?\d{1,5}(-\d{1,5})?:\d{1,5}(-\d{1,5})?))(\/(tcp|udp))?$/);
  ajv.addFormat('expose', /^\d{1,5}(-\d{1,5})?(\/(tcp|udp))?$/);
  ajv.addFormat('subnet_ip_address', /^[\d.:a-fA-F]+\/\d{1,3}$/);
  const validate = ajv.compile(schema);
  if (validate(compose)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
}

function withoutDraft4Ids(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutDraft4Ids);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => !(key === 'id' && typeof value === 'string'))
      .map(([key, value]) => [key, withoutDraft4Ids(value)]),
  );
}

/** Seconds in a Compose duration (`45s`, `1m30s`, `1500ms`); undefined when it is not one. */
export function durationSeconds(value: string): number | undefined {
  if (!GO_DURATION.test(value)) return undefined;
  const unit: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  let seconds = 0;
  for (const m of value.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) seconds += Number(m[1]) * unit[m[2]!]!;
  return seconds;
}

/**
 * A service's `environment` in either of Compose's forms, as a map: `KEY: value` and
 * `- KEY=value` give the value as a string (`- KEY=` an empty one); a bare `- KEY` or `KEY:`
 * (no value) is null: Compose takes it from the environment it runs in, unknown here. A key
 * written twice in a list keeps its last value.
 * @example environmentOf({ environment: ['SHUTDOWN_DRAIN_MS=60000', 'AUTH_SECRET'] }) // { SHUTDOWN_DRAIN_MS: '60000', AUTH_SECRET: null }
 */
export function environmentOf(service: ComposeService): Record<string, string | null> {
  const environment = service.environment ?? {};
  if (Array.isArray(environment)) {
    return Object.fromEntries(
      environment.map((entry) => {
        const text = String(entry);
        const equals = text.indexOf('=');
        return equals === -1 ? [text, null] : [text.slice(0, equals), text.slice(equals + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(environment).map(([key, value]) => [key, value === null || value === undefined ? null : String(value)]));
}

/** Docker's wait between SIGTERM and SIGKILL when a service sets no stop_grace_period. */
const DOCKER_STOP_SECONDS = 10;

/**
 * Whether a service runs a server-kit server: it builds from server.Dockerfile or with a
 * server's `APP` build argument, or (no build section) its image's repository is named after a
 * server, whatever registry and tag ARCHBENCH_REGISTRY and ARCHBENCH_TAG put around it
 * (`localhost:5000/me/monolith:dev`).
 */
export function runsServerKit(service: ComposeService): boolean {
  const build = service.build;
  if (build?.dockerfile !== undefined && /(^|\/)server\.Dockerfile$/.test(build.dockerfile)) return true;
  if (build?.args?.APP !== undefined && SERVER_KIT_DEPLOYABLES.has(build.args.APP)) return true;
  if (build || !service.image) return false;
  // registry[:port]/path/name[:tag][@digest] → name
  const repository = service.image.replace(/@.*$/, '').replace(/:[^/:]*$/, '');
  return SERVER_KIT_DEPLOYABLES.has(repository.slice(repository.lastIndexOf('/') + 1));
}

/**
 * The project's own rules: every service has a healthcheck (or says in `x-healthcheck-exempt`
 * why its image cannot run one), every dependency waits for health, never just for start, and a
 * server-kit server's stop_grace_period covers its drain (SHUTDOWN_DRAIN_MS, 10 s when unset,
 * in either form of `environment`) and closing, so Docker's SIGKILL does not cut requests the
 * drain would let finish; a SHUTDOWN_DRAIN_MS taken from the host's environment (a bare key) is
 * reported, as the grace period cannot be checked against it.
 */
export function projectRuleProblems(compose: ComposeFile): string[] {
  const problems: string[] = [];
  for (const [name, service] of Object.entries(compose.services)) {
    if (runsServerKit(service)) {
      const value = environmentOf(service).SHUTDOWN_DRAIN_MS;
      const drain = drainSeconds(value ?? undefined);
      const grace = service.stop_grace_period === undefined ? DOCKER_STOP_SECONDS : durationSeconds(service.stop_grace_period);
      if (value === null)
        problems.push(
          `${name}: SHUTDOWN_DRAIN_MS has no value here (taken from the environment docker compose runs in), so stop_grace_period cannot be checked against it; set it in the file`,
        );
      else if ('refused' in drain) problems.push(`${name}: ${drain.refused}`);
      else if (grace === undefined) problems.push(`${name}: stop_grace_period ${service.stop_grace_period} is not a duration`);
      else if (grace < drain.seconds + SHUTDOWN_CLOSE_SECONDS)
        problems.push(
          `${name}: stop_grace_period ${grace} s does not cover SHUTDOWN_DRAIN_MS + ${SHUTDOWN_CLOSE_SECONDS} s to close (${drain.seconds + SHUTDOWN_CLOSE_SECONDS} s): SIGKILL would cut requests still draining`,
        );
    }
    const exempt = service['x-healthcheck-exempt'];
    const test = service.healthcheck?.test;
    if (service.healthcheck?.disable) problems.push(`${name}: healthcheck disabled`);
    else if (!test && !(typeof exempt === 'string' && exempt.length > 20)) problems.push(`${name}: no healthcheck`);
    if (test && !(Array.isArray(test) && test[0] === 'CMD')) problems.push(`${name}: healthcheck test should be ["CMD", ...] (images may have no shell)`);
    const deps = service.depends_on;
    if (Array.isArray(deps)) problems.push(`${name}: depends_on as a list waits for start only; use condition: service_healthy`);
    else if (deps) {
      for (const [dep, spec] of Object.entries(deps)) {
        if (!compose.services[dep]) problems.push(`${name}: depends on unknown service ${dep}`);
        else if (spec.condition !== 'service_healthy')
          problems.push(`${name}: depends_on ${dep} with condition ${spec.condition ?? '(none)'}; use service_healthy`);
        else if (!compose.services[dep]!.healthcheck?.test) problems.push(`${name}: waits for ${dep} to be healthy, but ${dep} has no healthcheck`);
      }
    }
  }
  return problems;
}

/**
 * Environment of a service as compose hands it to the container, from either form of
 * `environment`; a key taken from the environment docker compose runs in (a bare `KEY`) is left
 * out, as its value is not in the file.
 */
export function serviceEnvironment(compose: ComposeFile, name: string): Record<string, string> {
  const service = compose.services[name];
  if (!service) throw new Error(`compose has no service ${name}`);
  return Object.fromEntries(Object.entries(environmentOf(service)).flatMap(([k, v]) => (v === null ? [] : [[k, v]])));
}

/** Default port of each URL scheme the services use, when a URL names none. */
export const SCHEME_PORTS: Record<string, number> = { http: 80, https: 443, amqp: 5672, postgres: 5432 };

/**
 * Every `scheme://[user@]host[:port]` in a value (a list such as BACKENDS holds several), with the
 * port the scheme implies when none is written.
 * @example urlsIn('a=http://x:1,b=http://y') // [{ scheme: 'http', host: 'x', port: 1 }, { scheme: 'http', host: 'y', port: 80 }]
 */
export function urlsIn(value: string): { scheme: string; host: string; port: number }[] {
  const found: { scheme: string; host: string; port: number }[] = [];
  for (const m of value.matchAll(/\b(https?|amqp|postgres):\/\/(?:[^@/\s,]*@)?([\w.-]+)(?::(\d+))?/g)) {
    found.push({ scheme: m[1]!, host: m[2]!, port: m[3] ? Number(m[3]) : SCHEME_PORTS[m[1]!]! });
  }
  return found;
}

/**
 * Ports the third-party images listen on (their documented defaults, as configured here), by
 * image repository; archbench's own images listen on their service's PORT.
 */
export const IMAGE_PORTS: Record<string, number[]> = {
  postgres: [5432],
  rabbitmq: [5672, 15672],
  'otel/opentelemetry-collector-contrib': [4317, 4318, 13133],
  'jaegertracing/jaeger': [4317, 4318, 16686],
  'prom/prometheus': [9090],
  'grafana/grafana': [3000],
};

/** Ports a compose service listens on: its PORT, else its image's defaults. */
export function listeningPorts(service: ComposeService): number[] {
  const port = environmentOf(service).PORT;
  if (port) return [Number(port)];
  return IMAGE_PORTS[(service.image ?? '').replace(/:[^/:]*$/, '')] ?? [];
}

/**
 * URLs in the services' environment that name no compose service, or a port it does not listen
 * on (a URL without a port means its scheme's default: http 80, postgres 5432, amqp 5672).
 */
export function serviceUrlProblems(compose: ComposeFile): string[] {
  const problems: string[] = [];
  for (const [name, service] of Object.entries(compose.services)) {
    for (const [key, value] of Object.entries(environmentOf(service))) {
      for (const url of urlsIn(value ?? '')) {
        const target = compose.services[url.host];
        if (!target) problems.push(`${name}.${key}: ${url.host} is not a compose service`);
        else if (!listeningPorts(target).includes(url.port))
          problems.push(`${name}.${key}: ${url.host} listens on ${listeningPorts(target).join(', ') || 'no known port'}, not ${url.port}`);
      }
    }
  }
  return problems;
}
