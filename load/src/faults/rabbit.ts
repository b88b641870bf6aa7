import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * RabbitMQ control through `rabbitmqctl` (the management plugin is often not enabled, and
 * rabbitmqctl is what an operator has on the broker host): a fresh vhost per topology run, so
 * closing "all connections" of that vhost is a real broker loss for exactly one topology.
 */
export class RabbitControl {
  constructor(private readonly ctl = 'rabbitmqctl') {}

  private async ctlRun(args: string[], timeoutMs = 30_000): Promise<string> {
    const { stdout } = await run(this.ctl, ['-q', ...args], { timeout: timeoutMs, encoding: 'utf8' });
    return stdout;
  }

  /** True when rabbitmqctl runs and reaches the broker. */
  async available(): Promise<boolean> {
    try {
      await this.ctlRun(['list_vhosts'], 15_000);
      return true;
    } catch {
      return false;
    }
  }

  async createVhost(vhost: string, user: string): Promise<void> {
    await this.ctlRun(['add_vhost', vhost]);
    await this.ctlRun(['set_permissions', '-p', vhost, user, '.*', '.*', '.*']);
  }

  async deleteVhost(vhost: string): Promise<void> {
    await this.ctlRun(['delete_vhost', vhost]).catch(() => undefined);
  }

  /** deleteVhost for a signal handler, which cannot wait for a promise: blocks until done (at most `timeoutMs`); errors ignored. */
  deleteVhostNow(vhost: string, timeoutMs = 10_000): void {
    try {
      execFileSync(this.ctl, ['-q', 'delete_vhost', vhost], { timeout: timeoutMs, stdio: 'ignore' });
    } catch {
      // best effort: the broker may be gone too
    }
  }

  /** Client connections open on a vhost. */
  async connections(vhost: string): Promise<number> {
    const out = await this.ctlRun(['list_connections', 'vhost', 'name']);
    return out
      .split('\n')
      .map((line) => line.split('\t')[0])
      .filter((v) => v === vhost).length;
  }

  /** Closes every client connection of a vhost, as a broker restart or a network cut would. */
  async closeAll(vhost: string, reason: string): Promise<void> {
    await this.ctlRun(['close_all_connections', '-p', vhost, '--limit', '100000', reason]);
  }
}

/**
 * The AMQP URL of another vhost on the same broker.
 * @example withVhost('amqp://guest:guest@127.0.0.1:5672', 'abc') // 'amqp://guest:guest@127.0.0.1:5672/abc'
 */
export function withVhost(amqpUrl: string, vhost: string): string {
  const url = new URL(amqpUrl);
  url.pathname = `/${encodeURIComponent(vhost)}`;
  return url.toString();
}

/** The user of an AMQP URL (guest by default, as amqplib assumes). */
export function amqpUser(amqpUrl: string): string {
  return decodeURIComponent(new URL(amqpUrl).username) || 'guest';
}
