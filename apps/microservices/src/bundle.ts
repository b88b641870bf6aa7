import { fileURLToPath } from 'node:url';
import { bundleEntries } from '@archbench/server-kit/bundle';

const appRoot = fileURLToPath(new URL('..', import.meta.url));

/**
 * Bundles the entry of each process (`src/<name>/main.ts`) so it runs on plain Node; see
 * server-kit's bundleEntries for why.
 * @example const files = await bundleProcesses(['gateway', 'orders']) // { gateway: '/tmp/…/gateway.mjs', … }
 */
export function bundleProcesses<N extends string>(names: readonly N[]): Promise<Record<N, string>> {
  return bundleEntries(Object.fromEntries(names.map((name) => [name, `${appRoot}src/${name}/main.ts`])) as Record<N, string>);
}
