import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEPLOYABLES, REPO_ROOT } from '../src/deployables';

interface Step {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, string | number | boolean>;
  env?: Record<string, string>;
  'working-directory'?: string;
}
interface Job {
  'runs-on': string;
  'timeout-minutes'?: number;
  needs?: string | string[];
  services?: Record<string, { image: string; options?: string; env?: Record<string, string> }>;
  strategy?: { matrix: { include: Record<string, string>[] } };
  env?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  name: string;
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

const DIR = join(REPO_ROOT, '.github/workflows');
const files = readdirSync(DIR).filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'));
const workflows = new Map(files.map((f) => [f, parse(readFileSync(join(DIR, f), 'utf8')) as Workflow]));
const steps = (w: Workflow) => Object.values(w.jobs).flatMap((j) => j.steps);
const runs = (w: Workflow) => steps(w).flatMap((s) => (s.run ? [s.run] : []));

/** Repository paths a command line mentions (deploy/…, load/…, .nvmrc …). */
function mentionedPaths(text: string): string[] {
  return [...text.matchAll(/(?<![\w/.$-])((?:deploy|load|apps|packages|docs|scripts|\.github)\/[\w./-]*[\w]|\.nvmrc)/g)].map((m) => m[1]!);
}

describe('.github/workflows', () => {
  it('has ci, compare and images', () => {
    expect(files.sort()).toEqual(['ci.yml', 'compare.yml', 'images.yml']);
  });

  describe.each(files)('%s', (file) => {
    const workflow = workflows.get(file)!;

    it('is a workflow: name, triggers, least-privilege permissions, jobs with a runner and a timeout', () => {
      expect(workflow.name).toBe(file.replace(/\.ya?ml$/, ''));
      expect(Object.keys(workflow.on).length).toBeGreaterThan(0);
      expect(workflow.permissions?.contents).toBe('read');
      for (const [name, job] of Object.entries(workflow.jobs)) {
        expect(job['runs-on'], name).toMatch(/^ubuntu-/);
        expect(job['timeout-minutes'], name).toBeGreaterThan(0);
        expect(job.steps.length, name).toBeGreaterThan(0);
        for (const need of [job.needs ?? []].flat()) expect(Object.keys(workflow.jobs)).toContain(need);
      }
    });

    it('pins every action to a version or a commit', () => {
      for (const step of steps(workflow)) {
        if (!step.uses) continue;
        if (step.uses.startsWith('./')) expect(existsSync(join(REPO_ROOT, step.uses)), step.uses).toBe(true);
        else expect(step.uses, step.uses).toMatch(/^[\w.-]+\/[\w./-]+@(v\d+\.\d+\.\d+|[0-9a-f]{40})$/);
      }
      for (const job of Object.values(workflow.jobs)) {
        for (const service of Object.values(job.services ?? {})) expect(service.image).toMatch(/:\d+\.\d+[\w.-]*$/);
      }
    });

    it('refers only to files that exist', () => {
      const texts = [...runs(workflow), ...steps(workflow).flatMap((s) => Object.values(s.with ?? {}).map(String))];
      for (const job of Object.values(workflow.jobs)) for (const row of job.strategy?.matrix.include ?? []) texts.push(...Object.values(row));
      const paths = texts.flatMap(mentionedPaths).filter((p) => !p.includes('results'));
      for (const path of paths) expect(existsSync(join(REPO_ROOT, path)), `${file}: ${path}`).toBe(true);
    });

    it('runs pnpm scripts that exist', () => {
      const root = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
      for (const line of runs(workflow).flatMap((r) => r.split('\n'))) {
        const filtered = /pnpm --filter (@archbench\/[\w-]+) (\w[\w:-]*)/.exec(line);
        if (filtered) {
          const dir = filtered[1] === '@archbench/load' ? 'load' : filtered[1] === '@archbench/deploy' ? 'deploy' : undefined;
          if (dir)
            expect(Object.keys((JSON.parse(readFileSync(join(REPO_ROOT, dir, 'package.json'), 'utf8')) as { scripts: object }).scripts), line).toContain(
              filtered[2],
            );
          continue;
        }
        const direct = /^\s*pnpm (?!install|--)(\w[\w:-]*)/.exec(line);
        if (direct) expect(Object.keys(root.scripts), line).toContain(direct[1]);
      }
    });
  });

  it('ci: pnpm test with health-checked PostgreSQL and RabbitMQ, Chromium and Node from .nvmrc', () => {
    const job = workflows.get('ci.yml')!.jobs.test!;
    for (const name of ['postgres', 'rabbitmq']) expect(job.services?.[name]?.options, name).toMatch(/--health-cmd/);
    expect(job.env?.ARCHBENCH_REQUIRE_SERVICES).toBe('1');
    expect(new URL(job.env!.AMQP_TEST_URL!).username).toBe(job.services!.rabbitmq!.env!.RABBITMQ_DEFAULT_USER);
    expect(job.steps.find((s) => s.uses?.startsWith('actions/setup-node@'))?.with?.['node-version-file']).toBe('.nvmrc');
    const test = job.steps.find((s) => s.run === 'pnpm test')!;
    // The broker-fault suites need rabbitmqctl, and with ARCHBENCH_REQUIRE_SERVICES=1 they fail without it.
    const ctl = job.steps.find((s) => s.name === 'rabbitmqctl on PATH');
    expect(ctl?.run).toContain('exec docker exec %s rabbitmqctl "$@"');
    expect(ctl?.run).toContain("'${{ job.services.rabbitmq.id }}'");
    expect(ctl?.run).toMatch(/>> "\$GITHUB_PATH"/);
    expect(job.steps.indexOf(ctl!)).toBeLessThan(job.steps.indexOf(test));
    expect(test.env?.CHROMIUM_PATH).toMatch(/steps\.chromium\.outputs/);
    expect(job.steps.findIndex((s) => s.id === 'chromium')).toBeLessThan(job.steps.indexOf(test));
  });

  it('compare: pinned k6, the target branch measured in the same job, a regression fails, a sticky comment, artifacts', () => {
    const workflow = workflows.get('compare.yml')!;
    const job = workflow.jobs.compare!;
    expect(job.steps.find((s) => s.uses?.startsWith('grafana/setup-k6-action@'))?.with?.['k6-version']).toMatch(/^\d+\.\d+\.\d+$/);
    const base = job.steps.find((s) => s.with?.ref === '${{ github.base_ref }}');
    expect(base?.with?.path).toBe('baseline');
    const baseline = job.steps.find((s) => s['working-directory'] === 'baseline');
    expect(baseline?.run).toMatch(/compare --engine k6 --profile "\$PROFILE" --out results/);
    const measured = job.steps.find((s) => s.id === 'compare')!;
    expect(measured.run).toMatch(/--baseline "\$PWD\/baseline\/results\/comparison.json" --tolerance "\$TOLERANCE"/);
    expect(job.steps.indexOf(baseline!)).toBeLessThan(job.steps.indexOf(measured));
    // The flags exist in the compare CLI this repository ships.
    const usage = readFileSync(join(REPO_ROOT, 'load/src/compare/args.ts'), 'utf8');
    for (const flag of ['--engine', '--profile', '--out', '--baseline', '--tolerance']) expect(usage).toContain(`${flag} `);
    expect(job.steps.find((s) => s.uses?.startsWith('marocchino/sticky-pull-request-comment@'))?.with).toMatchObject({
      header: 'archbench-compare',
      path: 'results/summary.md',
    });
    expect(workflow.permissions?.['pull-requests']).toBe('write');
    const fail = job.steps.at(-1)!;
    expect(fail.if).toBe("steps.compare.outputs.exit != '0'");
    expect(fail.run).toMatch(/exit 1/);
    expect(job.steps.filter((s) => s.uses?.startsWith('actions/upload-artifact@')).map((s) => s.with?.path)).toEqual(['results/', 'baseline/results/']);
  });

  it('images: builds every deployable with its Dockerfile, deploys the postgres and amqp overlays to kind, runs the conformance suite against the monolith, the gateway and the hybrid', () => {
    const workflow = workflows.get('images.yml')!;
    const matrix = workflow.jobs.build!.strategy!.matrix.include;
    expect(matrix.map((m) => m.app).sort()).toEqual(DEPLOYABLES.map((d) => d.name).sort());
    for (const d of DEPLOYABLES)
      expect(matrix.find((m) => m.app === d.name)).toEqual({ app: d.name, dockerfile: `deploy/docker/${d.dockerfile}`, port: String(d.port) });
    const kind = workflow.jobs.kind!;
    expect(kind.needs).toBe('build');
    expect(kind.steps.some((s) => s.uses?.startsWith('helm/kind-action@'))).toBe(true);
    const overlay = /kubectl apply -k (.+)$/m.exec(runs(workflow).join('\n'))?.[1];
    const overlays = (kind.strategy?.matrix.include ?? []).map((row) => overlay?.replace('${{ matrix.overlay }}', row.overlay!));
    expect(overlays).toEqual(['deploy/kubernetes/overlays/postgres', 'deploy/kubernetes/overlays/amqp']);
    for (const path of overlays) expect(existsSync(join(REPO_ROOT, path!, 'kustomization.yaml')), path).toBe(true);
    const conformance = runs(workflow).join('\n');
    for (const [service, port] of [
      ['monolith', 3000],
      ['gateway', 3100],
      ['hybrid-core', 3200],
    ] as const) {
      expect(conformance).toContain(`port-forward svc/${service} ${port}:${port}`);
      expect(conformance).toContain(`pnpm conformance --base-url http://127.0.0.1:${port}`);
    }
    // Every Secret the overlays read is created.
    for (const name of ['archbench-auth', 'archbench-postgres', 'archbench-rabbitmq']) expect(conformance).toContain(`create secret generic ${name} `);
    // The cluster's secret is the one the conformance suite mints tokens with.
    const secret = /--from-literal=AUTH_SECRET=([\w-]+)/.exec(kind.steps.flatMap((s) => (s.run ? [s.run] : [])).join('\n'))?.[1];
    expect(secret).toBeTruthy();
    expect(kind.steps.find((s) => s.name?.startsWith('conformance'))?.env?.AUTH_SECRET).toBe(secret);
  });

  it('the path check would notice a file that does not exist', () => {
    expect(mentionedPaths('docker build -f deploy/docker/nope.Dockerfile . && cat .nvmrc')).toEqual(['deploy/docker/nope.Dockerfile', '.nvmrc']);
    expect(existsSync(join(REPO_ROOT, 'deploy/docker/nope.Dockerfile'))).toBe(false);
  });
});

describe('workspace package scripts', () => {
  it('every script that runs a file (tsx or node) names one that exists', () => {
    const dirs = ['.', 'load', 'deploy', ...['apps', 'packages'].flatMap((top) => readdirSync(join(REPO_ROOT, top)).map((d) => `${top}/${d}`))];
    const files: string[] = [];
    for (const dir of dirs) {
      const manifest = join(REPO_ROOT, dir, 'package.json');
      if (!existsSync(manifest)) continue;
      const scripts = (JSON.parse(readFileSync(manifest, 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {};
      for (const [name, command] of Object.entries(scripts))
        for (const m of command.matchAll(/(?:^|\s)(?:tsx|node)\s+(?:--?\S+\s+)*([\w./-]+\.(?:ts|tsx|mjs|js))\b/g))
          files.push(`${dir}/${m[1]} (${dir} ${name})`);
    }
    expect(files.length).toBeGreaterThan(20);
    expect(files.filter((f) => !existsSync(join(REPO_ROOT, f.split(' ')[0]!)))).toEqual([]);
  });
});
