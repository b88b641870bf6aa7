import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TopologyDefinition } from './types';

/** The repository root (this file is packages/topologies/src/registry.ts). */
export const REPO_ROOT = resolve(import.meta.dirname, '..', '..', '..');

const DEFINITIONS_DIR = join(import.meta.dirname, 'topologies');

/**
 * Every file in src/topologies/ whose default export is a topology definition, so adding a
 * topology is adding one file (no list to edit, no merge conflict between people adding two).
 * Sorted by default port, so tables list monolith, microservices, hybrid, serverless in order.
 */
async function discover(): Promise<TopologyDefinition[]> {
  const files = readdirSync(DEFINITIONS_DIR).filter((file) => /^[a-z0-9-]+\.ts$/.test(file) && !file.endsWith('.test.ts'));
  const found: TopologyDefinition[] = [];
  for (const file of files) {
    const module = (await import(pathToFileURL(join(DEFINITIONS_DIR, file)).href)) as { default?: unknown };
    const definition = module.default as TopologyDefinition | undefined;
    if (!definition || typeof definition !== 'object' || typeof definition.name !== 'string' || !Array.isArray(definition.processes)) continue;
    if (`${definition.name}.ts` !== file) throw new Error(`src/topologies/${file} defines "${definition.name}"; name the file ${definition.name}.ts`);
    found.push(definition);
  }
  return found.sort((a, b) => a.defaultPort - b.defaultPort || a.name.localeCompare(b.name));
}

const DEFINITIONS: readonly TopologyDefinition[] = await discover();

/**
 * Names a user may type for a family of topologies: `microservices` is microservices-amqp when
 * AMQP_URL is set (and TRANSPORT is not `http`), else microservices-http.
 */
const ALIASES: Record<string, (env: Readonly<NodeJS.ProcessEnv>) => string> = {
  microservices: (env) => ((env.TRANSPORT ?? (env.AMQP_URL ? 'amqp' : 'http')) === 'amqp' ? 'microservices-amqp' : 'microservices-http'),
};

export class UnknownTopologyError extends Error {
  override readonly name = 'UnknownTopologyError';
  constructor(readonly requested: string) {
    super(`unknown topology "${requested}"; known: ${[...topologyNames(), ...Object.keys(ALIASES)].sort().join(', ')}`);
  }
}

/** Every registered topology, in default-port order. @example listTopologies().map((t) => t.name) */
export function listTopologies(): readonly TopologyDefinition[] {
  return DEFINITIONS;
}

/** Names of every registered topology. @example topologyNames() // ['monolith', 'microservices-amqp', …] */
export function topologyNames(): string[] {
  return DEFINITIONS.map((d) => d.name);
}

/**
 * The definition of a topology by name or alias; throws UnknownTopologyError listing the known ones.
 * @example getTopology('microservices', process.env).name // 'microservices-http'
 */
export function getTopology(name: string, env: Readonly<NodeJS.ProcessEnv> = {}): TopologyDefinition {
  const resolved = ALIASES[name]?.(env) ?? name;
  const definition = DEFINITIONS.find((d) => d.name === resolved);
  if (!definition) throw new UnknownTopologyError(name);
  return definition;
}

/**
 * Why a topology cannot run here (its app or an entry file is missing, or its definition says so,
 * e.g. AMQP_URL is not set), or undefined when it can.
 * @example topologyUnavailable(getTopology('microservices-amqp'), {}) // 'AMQP_URL is not set …'
 */
export function topologyUnavailable(definition: TopologyDefinition, env: Readonly<NodeJS.ProcessEnv>, root = REPO_ROOT): string | undefined {
  for (const process of definition.processes) {
    const entry = join(definition.app, process.entry);
    if (!existsSync(join(root, entry))) return `${entry} does not exist`;
  }
  return definition.unavailable?.({ env, root });
}

/** The process of a topology that runs a capability (`payments` …), or undefined. */
export function processForCapability(definition: TopologyDefinition, capability: string): string | undefined {
  return definition.processes.find((p) => (p.capabilities as readonly string[]).includes(capability))?.name;
}
