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
 * A family name picks its variant from the environment: the variant named `<family>-<TRANSPORT>`
 * when TRANSPORT is set, else `<family>-amqp` when AMQP_URL is set, else the first variant that
 * needs nothing more (`microservices` is microservices-amqp with AMQP_URL, else microservices-http).
 */
function resolveFamily(family: string, env: Readonly<NodeJS.ProcessEnv>): string | undefined {
  const variants = DEFINITIONS.filter((d) => d.family === family);
  if (variants.length === 0) return undefined;
  const transport = env.TRANSPORT ?? (env.AMQP_URL ? 'amqp' : undefined);
  const named = transport ? variants.find((d) => d.name === `${family}-${transport}`) : undefined;
  return (named ?? variants.find((d) => !d.unavailable?.({ env, root: REPO_ROOT })) ?? variants[0]!).name;
}

/** The family names (aliases) next to the topology names. */
function familyNames(): string[] {
  return [...new Set(DEFINITIONS.flatMap((d) => (d.family && d.family !== d.name ? [d.family] : [])))];
}

export class UnknownTopologyError extends Error {
  override readonly name = 'UnknownTopologyError';
  constructor(readonly requested: string) {
    super(`unknown topology "${requested}"; known: ${[...topologyNames(), ...familyNames()].sort().join(', ')}`);
  }
}

/** Every registered topology, in default-port order. @example listTopologies().map((t) => t.name) */
export function listTopologies(): readonly TopologyDefinition[] {
  return DEFINITIONS;
}

/**
 * One topology per family (and every topology without one), each variant chosen from `env` as
 * `getTopology(family, env)` would: what `pnpm start` runs side by side.
 * @example runnableSideBySide(process.env).map((t) => t.name) // ['monolith', 'microservices-http', 'hybrid', …]
 */
export function runnableSideBySide(env: Readonly<NodeJS.ProcessEnv>): TopologyDefinition[] {
  const chosen: TopologyDefinition[] = [];
  for (const d of DEFINITIONS) {
    const pick = d.family ? getTopology(d.family, env) : d;
    if (!chosen.includes(pick)) chosen.push(pick);
  }
  return chosen;
}

/** The name the frontend and tables use: the family name, else the topology name. */
export function displayName(definition: TopologyDefinition): string {
  return definition.family ?? definition.name;
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
  const resolved = DEFINITIONS.some((d) => d.name === name) ? name : (resolveFamily(name, env) ?? name);
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
