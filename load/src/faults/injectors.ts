import { spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FaultName } from '@archbench/contracts/comparison';
import { listTopologies } from '@archbench/topologies';
import type { RunningTopology as SupervisedTopology } from '@archbench/topologies';
import type { FaultInjector, FaultSubject } from './experiment';
import type { RabbitControl } from './rabbit';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Dependency crash: SIGKILL to the process that runs payments (the payments service; in the
 * monolith the whole process, in the hybrid its core), which the supervisor then restarts.
 * Verified when the old pid is gone and the process is ready again as a new pid, one restart later.
 */
function crashInjector(topology: SupervisedTopology): FaultInjector {
  const name = topology.processFor('payments');
  const info = () => topology.processes.find((p) => p.name === name)!;
  let pidBefore: number | undefined;
  let restartsBefore = 0;
  return {
    method: `SIGKILL ${name} (runs payments); the supervisor restarts it`,
    sustained: false,
    inject: async () => {
      const p = info();
      pidBefore = p.pid;
      restartsBefore = p.restarts;
      await topology.kill(name, 'SIGKILL');
    },
    lift: async () => undefined,
    verify: async () => {
      await topology.waitReady(60_000).catch(() => undefined);
      const p = info();
      const died = pidBefore !== undefined && !alive(pidBefore);
      const restarted = p.pid !== undefined && p.pid !== pidBefore && p.restarts === restartsBefore + 1 && p.state === 'ready';
      return {
        verified: died && restarted,
        detail: `${name} pid ${pidBefore} ${died ? 'died' : 'still alive'}; now pid ${p.pid} (${p.state}), restarts ${restartsBefore} -> ${p.restarts}`,
      };
    },
  };
}

/**
 * The token services use for calls from inside the system, derived from AUTH_SECRET exactly as
 * the microservices derive it (apps/microservices shared/service-app.ts), so compare can reach a
 * service's internal admin routes without any extra configuration.
 */
export function internalToken(authSecret: string): string {
  return createHmac('sha256', authSecret).update('archbench-internal-v1').digest('hex');
}

interface ProviderSwitch {
  url: string;
  headers: Record<string, string>;
}

async function tryGet(url: string, headers: Record<string, string>): Promise<boolean> {
  try {
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(5000) });
    await response.text();
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * Finds the runtime switch of the simulated payment provider: `PUT /admin/payments/provider` on
 * the public API (admin token; every topology has it, the microservices' gateway forwarding it to
 * payments), else `PUT /admin/provider` on the process that runs payments (internal token: a
 * microservices build from before the gateway had the route).
 */
async function findProviderSwitch(topology: SupervisedTopology, adminToken: string, authSecret: string): Promise<ProviderSwitch | undefined> {
  const admin = { authorization: `Bearer ${adminToken}` };
  if (await tryGet(`${topology.baseUrl}/admin/payments/provider`, admin)) return { url: `${topology.baseUrl}/admin/payments/provider`, headers: admin };
  const name = topology.processFor('payments');
  const url = topology.urls[name];
  const internal = { 'x-archbench-internal': internalToken(authSecret) };
  if (url && (await tryGet(`${url}/admin/provider`, internal))) return { url: `${url}/admin/provider`, headers: internal };
  return undefined;
}

/** The provider settings the switch answers: flat on the public API, under `provider` on payments' internal route. */
type ProviderSettings = Partial<Record<'latencyMs' | 'slowMs' | 'failureRate', number>>;
const SETTING_KEYS = ['latencyMs', 'slowMs', 'failureRate'] as const;

function settingsOf(answer: unknown): ProviderSettings {
  const body = (answer && typeof answer === 'object' && 'provider' in answer ? answer.provider : answer) as Record<string, unknown> | null;
  const settings: ProviderSettings = {};
  for (const key of SETTING_KEYS) if (typeof body?.[key] === 'number') settings[key] = body[key];
  return settings;
}

async function callProvider(
  target: ProviderSwitch,
  method: 'GET' | 'PUT' | 'DELETE',
  settings?: ProviderSettings,
): Promise<{ status: number; answer?: unknown }> {
  const response = await fetch(target.url, {
    method,
    headers: { ...target.headers, ...(settings ? { 'content-type': 'application/json' } : {}) },
    body: settings ? JSON.stringify(settings) : undefined,
    signal: AbortSignal.timeout(5000),
  });
  const text = await response.text();
  // A switch without DELETE (a build from before it) answers 405 (or 404): the caller falls back to a PUT.
  if (method === 'DELETE' && (response.status === 404 || response.status === 405)) return { status: response.status };
  if (!response.ok) throw new Error(`${method} ${target.url}: ${response.status} ${text.slice(0, 200)}`);
  return { status: response.status, answer: JSON.parse(text) as unknown };
}

async function putProvider(target: ProviderSwitch, settings: ProviderSettings): Promise<unknown> {
  return (await callProvider(target, 'PUT', settings)).answer;
}

/**
 * Puts the switch back as it was before the outage: `DELETE` (back to the deployment's configured
 * settings, so nothing the drill switched stays stored as an override: the serverless app keeps
 * overrides in D1 over its vars), then a PUT of only the fields that still differ from `previous`.
 * A switch without DELETE gets a PUT of `previous` (failureRate 0 when it was not read).
 */
async function restoreProvider(target: ProviderSwitch, previous: ProviderSettings | undefined): Promise<void> {
  const reset = await callProvider(target, 'DELETE');
  if (reset.answer === undefined) {
    await putProvider(target, previous && Object.keys(previous).length > 0 ? previous : { failureRate: 0 });
    return;
  }
  if (!previous) return;
  const configured = settingsOf(reset.answer);
  const back = Object.fromEntries(SETTING_KEYS.filter((k) => previous[k] !== undefined && previous[k] !== configured[k]).map((k) => [k, previous[k]]));
  if (Object.keys(back).length > 0) await putProvider(target, back);
}

/**
 * Provider outage: the simulated payment provider fails every call (failureRate 1) until lifted,
 * then is put back as it was (DELETE, and a PUT of what still differs). Verified when the switch
 * confirmed it and the payment records show failed provider calls.
 */
function outageInjector(target: ProviderSwitch): FaultInjector {
  let confirmed = false;
  let previous: ProviderSettings | undefined;
  return {
    method: `payment provider fails every call (PUT ${new URL(target.url).pathname} failureRate 1; lifted by DELETE, then a PUT of what differs from before)`,
    sustained: true,
    inject: async () => {
      // What the lift puts back; unread (the GET failed): the lift still ends the outage.
      previous = await callProvider(target, 'GET').then(
        (r) => settingsOf(r.answer),
        () => undefined,
      );
      const answer = JSON.stringify(await putProvider(target, { failureRate: 1 }));
      confirmed = /"failureRate":1\b/.test(answer);
    },
    lift: async () => {
      await restoreProvider(target, previous);
    },
    verify: async (audit) => ({
      verified: confirmed && audit.failedCharges > 0,
      detail: `switch ${confirmed ? 'confirmed failureRate 1' : 'did not confirm'}; ${audit.failedCharges} provider call${audit.failedCharges === 1 ? '' : 's'} failed`,
    }),
  };
}

/**
 * Broker loss: every connection of the topology's own vhost is closed on the broker
 * (rabbitmqctl close_all_connections); clients must reconnect. Verified when connections were
 * open before, were closed, and are open again afterwards.
 */
function brokerInjector(rabbit: RabbitControl, vhost: string, before: number): FaultInjector {
  return {
    method: `close all RabbitMQ connections of vhost ${vhost} (rabbitmqctl close_all_connections)`,
    sustained: false,
    inject: async () => {
      await rabbit.closeAll(vhost, 'archbench compare: broker loss experiment');
    },
    lift: async () => undefined,
    verify: async () => {
      let after = 0;
      for (let i = 0; i < 10 && after === 0; i++) {
        after = await rabbit.connections(vhost);
        if (after === 0) await sleep(1000);
      }
      return { verified: before > 0 && after > 0, detail: `${before} connection${before === 1 ? '' : 's'} closed; ${after} open again afterwards` };
    },
  };
}

export interface StartedSubjectOptions {
  adminToken: string;
  authSecret: string;
  /** RabbitMQ control and the topology's vhost, when it runs with a broker. */
  rabbit?: { control: RabbitControl; vhost: string };
  /** AMQP_URL was given (so a missing `rabbit` means rabbitmqctl is missing). */
  amqpConfigured?: boolean;
}

/** A topology compare started, as a fault subject: every fault it can take, or why not. */
export function startedSubject(topology: SupervisedTopology, options: StartedSubjectOptions): FaultSubject {
  return {
    name: topology.name,
    baseUrl: topology.baseUrl,
    injector: async (fault: FaultName) => {
      switch (fault) {
        case 'dependency-crash':
          return crashInjector(topology);
        case 'provider-outage': {
          const target = await findProviderSwitch(topology, options.adminToken, options.authSecret);
          if (!target)
            return {
              skip: `no runtime switch for the simulated payment provider (neither PUT /admin/payments/provider on the API nor PUT /admin/provider on ${topology.processFor('payments')})`,
            };
          return outageInjector(target);
        }
        case 'broker-loss': {
          if (!options.rabbit)
            return {
              skip: options.amqpConfigured ? 'rabbitmqctl is not available to cut the broker connections' : 'uses no message broker (AMQP_URL is not set)',
            };
          const open = await options.rabbit.control.connections(options.rabbit.vhost).catch(() => 0);
          if (open === 0) return { skip: 'uses no message broker' };
          return brokerInjector(options.rabbit.control, options.rabbit.vhost, open);
        }
      }
    },
    settle: async () => {
      await topology.waitReady(60_000);
      for (let i = 0; i < 60; i++) {
        try {
          const response = await fetch(`${topology.baseUrl}/ready`, { signal: AbortSignal.timeout(2000) });
          await response.text();
          if (response.ok) return;
        } catch {
          // not yet
        }
        await sleep(500);
      }
    },
  };
}

function runHook(command: string, env: Record<string, string>): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    // eslint-disable-next-line no-restricted-properties -- the user's hook runs with the user's environment
    const child = spawn('sh', ['-c', command], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (error) => resolve({ code: 127, output: error.message }));
    child.on('close', (code) => resolve({ code: code ?? 1, output: output.trim() }));
  });
}

/** A sustained fault a `--fault-cmd` hook injected into a target and has not lifted yet. */
interface LiveFault {
  target: string;
  fault: FaultName;
  command: string;
  env: Record<string, string>;
}

/** Faults in place on targets now (between `inject` and a `lift` that succeeded), for liftFaultsNow. */
const liveFaults = new Set<LiveFault>();

/** How to run a hook's `lift` by hand, as one shell line. */
function liftByHand(f: LiveFault): string {
  const quote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
  const vars = Object.entries({ ...f.env, ARCHBENCH_PHASE: 'lift' }).map(([k, v]) => `${k}=${quote(v)}`);
  return `${vars.join(' ')} sh -c ${quote(f.command)}`;
}

/**
 * For a signal handler (Ctrl-C during a fault experiment, whose own lift never comes): runs the
 * `lift` phase of every fault a `--fault-cmd` hook injected into a target and did not lift yet,
 * synchronously, each at most `timeoutMs`; writes what it does, and for a lift that failed, in
 * capitals, that the target is still faulted and the command that lifts it. Returns how many
 * faults were lifted and how many were left in place.
 * @example process.once('SIGINT', () => { liftFaultsNow((line) => process.stderr.write(line)); process.exit(130); })
 */
export function liftFaultsNow(write: (line: string) => void, timeoutMs = 20_000): { lifted: number; left: number } {
  let lifted = 0;
  let left = 0;
  for (const f of liveFaults) {
    write(`lifting ${f.fault} on target ${f.target} (--fault-cmd lift, at most ${Math.round(timeoutMs / 1000)} s; to lift it by hand: ${liftByHand(f)})\n`);
    const r = spawnSync('sh', ['-c', f.command], {
      // eslint-disable-next-line no-restricted-properties -- the user's hook runs with the user's environment
      env: { ...process.env, ...f.env, ARCHBENCH_PHASE: 'lift' },
      encoding: 'utf8',
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    });
    const output = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
    if (r.status === 0) {
      lifted++;
      write(`lifted ${f.fault} on target ${f.target}${output ? `: ${output}` : ''}\n`);
    } else {
      left++;
      const why = r.error?.message ?? (r.signal ? `killed by ${r.signal}` : `exit ${r.status}`);
      write(
        `TARGET ${f.target} IS STILL FAULTED (${f.fault}): --fault-cmd lift failed (${why})${output ? `: ${output}` : ''}.\nLift it by hand: ${liftByHand(f)}\n`,
      );
    }
  }
  liveFaults.clear();
  return { lifted, left };
}

/**
 * Why a `--target` of this name holds no broker connections, or undefined when it may: a target
 * named as a topology (or family) all of whose definitions talk without a message broker (the
 * monolith: in-process). The name is how `archbench decide` matches a target to its option too.
 * @example brokerlessTarget('monolith') // 'monolith is a topology without a message broker (transport: in-process)'
 */
export function brokerlessTarget(name: string): string | undefined {
  const definitions = listTopologies().filter((d) => d.name === name || d.family === name);
  if (definitions.length === 0 || definitions.some((d) => /amqp|rabbit|queue|broker/i.test(d.transport))) return undefined;
  return `${name} is a topology without a message broker (transport: ${definitions.map((d) => d.transport).join(', ')})`;
}

/**
 * What a hook's `verify` is worth: the hook's word (exit 0) is proof of a crash it caused, but a
 * provider outage counts as verified only on the same evidence a started topology needs (failed
 * provider calls in the payment records of the experiment's orders), and a broker loss never on a
 * target known to hold no broker connections. Else: "injected by the hook, not verified: …".
 * @example hookVerdict('provider-outage', 'shop', { code: 0, output: 'ok' }, 0) // { verified: false, detail: 'injected by the hook, not verified: …' }
 */
export function hookVerdict(
  fault: FaultName,
  target: string,
  verify: { code: number; output: string },
  failedCharges: number,
): { verified: boolean; detail: string } {
  const said = verify.output || `verify exit ${verify.code}`;
  if (verify.code !== 0) return { verified: false, detail: said };
  if (fault === 'provider-outage') {
    if (failedCharges > 0) return { verified: true, detail: `${said}; ${failedCharges} provider call${failedCharges === 1 ? '' : 's'} failed` };
    return {
      verified: false,
      detail: `injected by the hook, not verified: no provider call failed in the payment records of the experiment's orders (verify said: ${said})`,
    };
  }
  const brokerless = fault === 'broker-loss' ? brokerlessTarget(target) : undefined;
  if (brokerless)
    return { verified: false, detail: `injected by the hook, not verified: ${brokerless}, so it had no broker connections to lose (verify said: ${said})` };
  return { verified: true, detail: said };
}

/**
 * A `--target` as a fault subject through its `--fault-cmd` hook: `sh -c CMD` with
 * ARCHBENCH_FAULT (dependency-crash | provider-outage | broker-loss), ARCHBENCH_PHASE
 * (check | inject | lift | verify), ARCHBENCH_TARGET and ARCHBENCH_URL. `check` exits 0 when the
 * fault applies (any other code: skipped, its output as the reason); `inject`/`lift` exit 0 when
 * done; `verify` exits 0 when the fault really happened (its output is the detail), which
 * hookVerdict weighs against the audit.
 */
export function hookSubject(name: string, baseUrl: string, command: string): FaultSubject {
  const env = (fault: FaultName, phase: string) => ({ ARCHBENCH_FAULT: fault, ARCHBENCH_PHASE: phase, ARCHBENCH_TARGET: name, ARCHBENCH_URL: baseUrl });
  return {
    name,
    baseUrl,
    injector: async (fault) => {
      const check = await runHook(command, env(fault, 'check'));
      if (check.code !== 0) return { skip: `--fault-cmd check: ${check.output || `exit ${check.code}`}` };
      const step = async (phase: string) => {
        const r = await runHook(command, env(fault, phase));
        if (r.code !== 0) throw new Error(`--fault-cmd ${name} ${fault} ${phase} exited ${r.code}: ${r.output}`);
      };
      const sustained = fault === 'provider-outage';
      // In place from the start of `inject` (an interrupted inject may have done it) until a lift succeeds.
      const live: LiveFault = { target: name, fault, command, env: env(fault, 'lift') };
      return {
        method: `--fault-cmd hook (${command})`,
        sustained,
        inject: async () => {
          if (sustained) liveFaults.add(live);
          await step('inject');
        },
        lift: async () => {
          if (!sustained) return;
          await step('lift');
          liveFaults.delete(live);
        },
        verify: async (audit) => hookVerdict(fault, name, await runHook(command, env(fault, 'verify')), audit.failedCharges),
      };
    },
    settle: async () => {
      for (let i = 0; i < 120; i++) {
        try {
          const response = await fetch(`${baseUrl}/ready`, { signal: AbortSignal.timeout(2000) });
          await response.text();
          if (response.ok) return;
        } catch {
          // not yet
        }
        await sleep(500);
      }
    },
  };
}
