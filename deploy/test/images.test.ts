import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mintToken } from '@archbench/contracts/tokens';
import { SERVER_ENV, SERVER_NODE_FLAGS } from '@archbench/topologies/bundle';
import { buildStandalone } from '../src/bundle';
import { loadCompose, serviceEnvironment } from '../src/compose';
import { DEPLOYABLES, REPO_ROOT } from '../src/deployables';
import { checkDockerfile } from '../src/dockerfile-rules';
import { runStandalone } from '../src/standalone';

const dockerDir = join(REPO_ROOT, 'deploy/docker');
const dockerfiles = readdirSync(dockerDir).filter((f) => f.endsWith('.Dockerfile'));

describe('Dockerfiles', () => {
  it('there is one for every deployable', () => {
    for (const d of DEPLOYABLES) expect(dockerfiles, d.name).toContain(d.dockerfile);
  });

  describe.each(dockerfiles)('%s', (file) => {
    const text = readFileSync(join(dockerDir, file), 'utf8');
    const { facts, problems } = checkDockerfile(text);

    it('follows the image rules (multi-stage, pinned bases, non-root, exec-form CMD and HEALTHCHECK, COPY --from, no installs in the runtime)', () => {
      expect(problems).toEqual([]);
    });

    it('runs Node 24 slim in every stage, so a native addon built in the build stage matches the runtime glibc', () => {
      for (const base of facts.bases) expect(base).toMatch(/^node:24\.\d+\.\d+-(bookworm|trixie)-slim$/);
      expect(new Set(facts.bases).size).toBe(1);
    });

    it('builds with the deploy bundler and runs the bundle it produced', () => {
      expect(facts.buildRuns.join('\n')).toMatch(/pnpm --filter @archbench\/deploy bundle -- --out \/out/);
      expect(facts.buildRuns.join('\n')).toMatch(/pnpm install --offline --frozen-lockfile/);
      expect(facts.finalCommand?.at(-1)).toBe('/app/server.mjs');
      expect(facts.finalCommand?.[0]).toBe('node');
    });

    it("installs from the lockfile and the repository's .npmrc in a layer of its own (cached until they change)", () => {
      const copies = text.split('\n').filter((l) => l.startsWith('COPY '));
      expect(copies[0]).toBe('COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./');
      for (const file of ['package.json', 'pnpm-lock.yaml', 'pnpm-workspace.yaml', '.npmrc']) expect(existsSync(join(REPO_ROOT, file)), file).toBe(true);
      expect(facts.buildRuns.join('\n')).toMatch(/pnpm fetch/);
    });

    it('has a .dockerignore (BuildKit: <name>.dockerignore) that keeps node_modules and local data out of the context', () => {
      const ignore = readFileSync(join(dockerDir, `${file}.dockerignore`), 'utf8').split('\n');
      for (const entry of ['**/node_modules', '**/data', '.git', '.env']) expect(ignore).toContain(entry);
    });

    it('health-checks the path the deployable serves', () => {
      const paths = new Set(DEPLOYABLES.filter((d) => d.dockerfile === file).map((d) => d.health));
      expect(paths.size).toBe(1);
      expect(facts.healthcheck?.join(' ')).toContain(`/${[...paths][0]!.replace(/^\//, '')}'`);
    });
  });

  it('server images run with the same Node flags and memory settings as the launchers', () => {
    const { facts } = checkDockerfile(readFileSync(join(dockerDir, 'server.Dockerfile'), 'utf8'));
    expect(facts.finalCommand).toEqual(['node', ...SERVER_NODE_FLAGS, '/app/server.mjs']);
    expect(Object.keys(SERVER_ENV)).not.toHaveLength(0);
    for (const [name, value] of Object.entries(SERVER_ENV)) expect(facts.finalEnv[name], name).toBe(value);
  });
});

describe('the image rules catch what they are meant to', () => {
  const good = readFileSync(join(dockerDir, 'server.Dockerfile'), 'utf8');
  const cases: [string, (text: string) => string, RegExp][] = [
    ['a single stage', (t) => t.replace(/^FROM .* AS build$[\s\S]*?(?=^FROM )/m, ''), /multi-stage/],
    ['an unpinned base', (t) => t.replace(/node:24\.\d+\.\d+-bookworm-slim AS runtime/, 'node AS runtime'), /not pinned/],
    ['latest', (t) => t.replace(/node:24\.\d+\.\d+-bookworm-slim AS runtime/, 'node:latest AS runtime'), /latest/],
    ['no USER', (t) => t.replace(/^USER node$/m, ''), /no USER/],
    ['USER root', (t) => t.replace(/^USER node$/m, 'USER root'), /runs as root/],
    ['a shell-form CMD', (t) => t.replace(/^CMD \[.*\]$/m, 'CMD node /app/server.mjs'), /shell form/],
    ['no HEALTHCHECK', (t) => t.replace(/^HEALTHCHECK[\s\S]*?\n(?=\S)/m, '').replace(/^ {2}CMD \["node", "-e".*$/m, ''), /no HEALTHCHECK/],
    ['an install in the runtime', (t) => t.replace(/^USER node$/m, 'RUN npm install --omit=dev\nUSER node'), /installs packages/],
    ['no COPY --from', (t) => t.replace(/^COPY --from=build .*$/m, 'COPY . /app'), /copies nothing/],
  ];
  it.each(cases)('flags %s', (_name, mutate, problem) => {
    const mutated = mutate(good);
    expect(mutated).not.toBe(good);
    expect(checkDockerfile(mutated).problems.join('\n')).toMatch(problem);
  });
});

describe('what the server image contains (deploy bundler output, run without the checkout)', () => {
  const out = mkdtempSync(join(tmpdir(), 'archbench-deploy-img-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'archbench-deploy-data-'));
  afterAll(() => {
    rmSync(out, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('holds the monolith bundle and only the runtime files it loads, and that set serves orders and stops on SIGTERM', async () => {
    const standalone = await buildStandalone('monolith', { outDir: out });
    const files = standalone.files;
    // The native addon is there: better-sqlite3's prebuilt binary for this platform (the build
    // stage's, which is the image's), and none of the seven for other platforms ...
    const addons = files.filter((f) => /\/better-sqlite3\/prebuilds\/[^/]+\.node$/.test(f));
    expect(addons.map((f) => f.slice(f.lastIndexOf('/') + 1))).toEqual([`${process.platform}-${process.arch}.node`]);
    // ... and no development tool or workspace source is.
    for (const dev of ['/vitest@', '/typescript@', '/eslint@', '/esbuild@', '/tsx@', '/@types+', '/vite@']) {
      expect(
        files.filter((f) => f.includes(dev)),
        dev,
      ).toEqual([]);
    }
    expect(files.filter((f) => !f.includes('/node_modules/'))).toEqual([]);
    expect(existsSync(standalone.server)).toBe(true);

    const secret = 'deploy-image-test-secret-0123456789';
    const server = await runStandalone(standalone, { NODE_ENV: 'production', AUTH_SECRET: secret, DATA_DIR: dataDir });
    try {
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
      if (process.platform === 'linux') {
        // It runs as the image's CMD and ENV do: the server's Node flags and its malloc setting.
        const pid = server.child.pid!;
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
        expect(argv.slice(1, 1 + SERVER_NODE_FLAGS.length)).toEqual(SERVER_NODE_FLAGS);
        for (const [name, value] of Object.entries(SERVER_ENV)) expect(environ).toContain(`${name}=${value}`);
      }
      const placed = await fetch(`${server.url}/orders`, {
        method: 'POST',
        headers: { authorization: `Bearer ${mintToken(secret, { sub: 'image-test' })}`, 'content-type': 'application/json', prefer: 'wait=5' },
        body: JSON.stringify({ items: [{ sku: 'SKU-0001', quantity: 1 }], payment: { token: 'tok_ok' } }),
      });
      expect(placed.status).toBe(201);
      expect(await placed.json()).toMatchObject({ status: 'CONFIRMED' });
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it("exports spans from the image file set to OTLP/HTTP, named with compose's service and topology", async () => {
    const standalone = await buildStandalone('monolith', { outDir: out });
    const posts: { path: string; type: string; body: Buffer }[] = [];
    // A tiny OTLP/HTTP receiver standing in for compose's collector.
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method === 'POST') posts.push({ path: req.url ?? '', type: String(req.headers['content-type']), body: Buffer.concat(chunks) });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    // Compose's environment, without its database and port (a free one is taken here).
    const { DATABASE_URL: _database, PORT: _port, ...env } = serviceEnvironment(loadCompose(), 'monolith');
    const server = await runStandalone(standalone, {
      ...env,
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`,
      OTEL_TRACES_SAMPLER: 'always_on',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      DATA_DIR: mkdtempSync(join(out, 'otlp-')),
      LOG_LEVEL: 'warn',
    });
    try {
      expect((await fetch(`${server.url}/products?limit=1`)).status).toBe(200);
      for (let i = 0; i < 100 && !posts.some((p) => p.path === '/v1/traces'); i++) await new Promise((r) => setTimeout(r, 100));
      const traces = posts.find((p) => p.path === '/v1/traces');
      expect(traces, `received ${posts.map((p) => p.path).join(', ') || 'nothing'}`).toBeDefined();
      // Production exports protobuf, whose strings are plain UTF-8 bytes.
      expect(traces!.type).toBe('application/x-protobuf');
      expect(traces!.body.includes('GET /products')).toBe(true);
      // Resource attributes: key, then (a few tag and length bytes on) its string value.
      const valueOf = (key: string) => {
        const at = traces!.body.indexOf(key);
        return at < 0 ? '' : traces!.body.subarray(at + key.length, at + key.length + 4 + 40).toString('latin1');
      };
      expect(valueOf('service.name')).toContain('monolith');
      expect(valueOf('deployment.environment.name')).toMatch(/^[\s\S]{4}monolith/);
    } finally {
      expect(await server.stop()).toBe(0);
      receiver.close();
    }
  });

  it('refuses the development AUTH_SECRET in production, as the image sets NODE_ENV=production', async () => {
    const standalone = await buildStandalone('gateway', { outDir: out });
    await expect(runStandalone(standalone, { NODE_ENV: 'production', DATA_DIR: dataDir })).rejects.toThrow(/AUTH_SECRET/);
  });
});
