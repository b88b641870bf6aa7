import { copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { nodeFileTrace } from '@vercel/nft';
import { bundleEntries } from '@archbench/topologies/bundle';
import { REPO_ROOT, deployable } from './deployables';

/** Where the bundle sits in the image (and, under rootfs/, in the build output). */
const SERVER_FILE = 'server.mjs';

export interface StandaloneOptions {
  /** Output folder; each deployable gets `<out>/<name>/rootfs/`. */
  outDir: string;
  /** Repository root the bundle's third-party imports point into (default: this checkout). */
  repoRoot?: string;
}

export interface Standalone {
  name: string;
  /** A folder laid out like the image's filesystem: copy it to `/` of the runtime stage. */
  rootfs: string;
  /** The bundle inside rootfs, at `<repoRoot>/server.mjs`. */
  server: string;
  /** Files traced from the bundle (relative to `/`), bundle excluded. */
  files: string[];
}

/**
 * Builds what one image runs: the entry bundled by the launchers' bundler (@archbench/topologies/bundle) (the same bundle the
 * launchers run), plus exactly the files of node_modules that bundle loads at run time, traced
 * with @vercel/nft (native addons such as better-sqlite3's `.node` file included). The bundle
 * imports third-party packages by absolute path, so the traced files keep their absolute paths
 * under rootfs/ and the image copies rootfs/ to `/`: nothing else of the workspace, no dev
 * dependency, no package manager reaches the runtime image.
 * @example await buildStandalone('gateway', { outDir: '/tmp/out' }) // { rootfs: '/tmp/out/gateway/rootfs', … }
 */
export async function buildStandalone(name: string, options: StandaloneOptions): Promise<Standalone> {
  const target = deployable(name);
  const repoRoot = resolve(options.repoRoot ?? REPO_ROOT);
  const entry = join(repoRoot, target.entry);
  if (!existsSync(entry)) throw new Error(`${name}: entry ${target.entry} does not exist`);
  const rootfs = join(resolve(options.outDir), name, 'rootfs');
  rmSync(join(resolve(options.outDir), name), { recursive: true, force: true });
  const server = join(rootfs, repoRoot, SERVER_FILE);
  mkdirSync(dirname(server), { recursive: true });

  const bundled = await bundleEntries({ [name]: entry });
  copyFileSync(bundled[name]!, server);

  // Traced where the bundle will live in the image, so its absolute imports resolve the same.
  const placed = join(repoRoot, `.${name}.trace.mjs`);
  copyFileSync(server, placed);
  let files: string[];
  try {
    const trace = await nodeFileTrace([placed], { base: '/', processCwd: repoRoot });
    files = [...trace.fileList].filter((file) => `/${file}` !== placed && !foreignPrebuild(file)).sort();
  } finally {
    rmSync(placed, { force: true });
  }
  for (const file of files) copyPreservingLinks(`/${file}`, join(rootfs, file));
  if (target.dockerfile === 'frontend.Dockerfile') {
    const dist = join(repoRoot, 'apps/frontend/dist');
    if (!existsSync(join(dist, 'index.html'))) throw new Error('frontend: no apps/frontend/dist; run `pnpm --filter @archbench/frontend build` first');
    cpSync(dist, join(rootfs, repoRoot, 'dist'), { recursive: true });
  }
  writeFileSync(join(options.outDir, name, 'files.txt'), `${files.join('\n')}\n`);
  return { name, rootfs, server, files };
}

/** better-sqlite3's `prebuilds/` folder: one Node-API binary per platform, all of which the tracer finds. */
const PREBUILD = /^(.*\/better-sqlite3)\/prebuilds\/[^/]+\.node$/;

/**
 * A better-sqlite3 binary for another platform than this one (`darwin-x64.node` on Linux, the musl
 * build on glibc…). The build stage runs on the image's own platform and libc, so the one binary
 * the package loads here is the one the image needs; the other seven (about 2 MB each) stay out.
 */
function foreignPrebuild(file: string): boolean {
  const match = PREBUILD.exec(`/${file}`);
  if (!match) return false;
  const packageDir = match[1]!;
  const { getPrebuildPath } = createRequire(join(packageDir, 'package.json'))('./lib/binding.js') as { getPrebuildPath(): string | null };
  const here = getPrebuildPath();
  return here === null || basename(here) !== basename(file);
}

/** pnpm links packages with relative symlinks; keep them as links so the layout stays pnpm's. */
function copyPreservingLinks(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true });
  const stat = lstatSync(from);
  if (stat.isSymbolicLink()) {
    const link = readlinkSync(from);
    // An absolute link would point outside rootfs; re-point it relative to where it lands.
    symlinkSync(link.startsWith('/') ? relative(dirname(from), link) : link, to);
  } else if (stat.isDirectory()) {
    mkdirSync(to, { recursive: true });
  } else {
    copyFileSync(from, to);
  }
}
