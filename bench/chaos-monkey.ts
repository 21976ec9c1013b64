import { randomInt } from 'node:crypto';
import type { ProcessName, Stack } from '../scripts/stack';
import type { ChaosClient, Tally } from './chaos-client';

export interface MonkeyOptions {
  /** Time between two kills, in ms (random in the range), counted from the previous kill. */
  killEveryMs: [number, number];
  /** How long a killed process stays down before it is started again, in ms. */
  downMs: [number, number];
  /** Time between two injected Xendit faults, in ms. */
  faultEveryMs: [number, number];
}

const between = ([min, max]: [number, number]) => randomInt(min, max + 1);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Xendit misbehaving through the sandbox's fault controls (sandbox/faults.ts), one kind per round. */
const FAULTS: { name: string; path: string; body: () => Record<string, unknown> }[] = [
  ...(['invoices', 'refunds', 'payouts'] as const).flatMap((group) => [
    {
      name: `503 ${group}`,
      path: '/__sandbox/xendit/faults',
      body: () => ({ status: 503, count: randomInt(1, 4), path: group }),
    },
    {
      name: `slow ${group}`,
      path: '/__sandbox/xendit/slowdowns',
      body: () => ({ delayMs: randomInt(1000, 4001), count: randomInt(1, 3), path: group }),
    },
  ]),
  { name: 'lost refund callback', path: '/__sandbox/xendit/refund-callbacks/lose', body: () => ({ count: 1 }) },
  { name: 'lost payout callback', path: '/__sandbox/xendit/payout-callbacks/lose', body: () => ({ count: 1 }) },
];

/**
 * SIGKILLs a random process (a subgraph or the gateway; never the sandbox, which stands for Xendit and
 * WhatsApp) and starts it again after a while, and injects Xendit faults, until stopped.
 */
export class Monkey {
  readonly kills = new Map<string, number>();
  readonly faults = new Map<string, number>();
  /** Restarts that failed at first (the process was started again until it came up). */
  restartRetries = 0;
  private running = true;

  constructor(
    private readonly stack: Stack,
    private readonly client: ChaosClient,
    private readonly tally: Tally,
    private readonly options: MonkeyOptions,
  ) {}

  get killCount(): number {
    return [...this.kills.values()].reduce((a, b) => a + b, 0);
  }

  /** Ends after stop() once the last victim is up again. */
  async run(): Promise<void> {
    await Promise.all([this.killLoop(), this.faultLoop()]);
  }

  stop(): void {
    this.running = false;
  }

  /**
   * A kill every `killEveryMs`, whether or not the last victim is up yet (a restart on a busy machine can take
   * longer than the gap); a process that is down or starting is not picked again until it is up.
   */
  private async killLoop(): Promise<void> {
    const victims = this.stack.names.filter((name) => name !== 'sandbox');
    const restarting = new Map<ProcessName, Promise<void>>();
    while (this.running) {
      await this.pause(between(this.options.killEveryMs));
      if (!this.running) break;
      const up = victims.filter((name) => !restarting.has(name));
      const victim = up[randomInt(up.length)];
      await this.stack.kill(victim, 'SIGKILL');
      this.kills.set(victim, (this.kills.get(victim) ?? 0) + 1);
      const downMs = between(this.options.downMs);
      restarting.set(
        victim,
        sleep(downMs)
          .then(() => this.bringBack(victim))
          .finally(() => restarting.delete(victim)),
      );
    }
    await Promise.all(restarting.values());
  }

  /** Starts the process again; a start that fails (e.g. the port still held) is retried. */
  private async bringBack(name: ProcessName): Promise<void> {
    for (;;) {
      try {
        await this.stack.startOne(name);
        return;
      } catch {
        this.restartRetries += 1;
        await this.stack.kill(name, 'SIGKILL');
        await sleep(1000);
      }
    }
  }

  private async faultLoop(): Promise<void> {
    while (this.running) {
      await this.pause(between(this.options.faultEveryMs));
      if (!this.running) break;
      const fault = FAULTS[randomInt(FAULTS.length)];
      const injected = await this.tally.run('fault.inject', async () => {
        await this.client.sandbox('POST', fault.path, fault.body());
        return true;
      });
      if (injected) this.faults.set(fault.name, (this.faults.get(fault.name) ?? 0) + 1);
    }
  }

  /** Waits `ms`, or less once stopped. */
  private async pause(ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (this.running && Date.now() < until) await sleep(Math.min(200, until - Date.now()));
  }

  /** Settling: faults still queued at the sandbox are dropped, so the system can finish its work. */
  async clearFaults(): Promise<void> {
    await this.client.sandbox('DELETE', '/__sandbox/xendit/faults');
  }
}
