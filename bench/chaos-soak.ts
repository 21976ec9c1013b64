import fs from 'node:fs';
import path from 'node:path';
import { SUBGRAPHS, type SubgraphName } from '../lib/services';
import { startBenchStack } from './bench-stack';
import { ChaosClient, Tally } from './chaos-client';
import { Databases, pendingWork, runChecks, type CheckResult } from './chaos-checks';
import { Monkey, type MonkeyOptions } from './chaos-monkey';
import { Workload } from './chaos-workload';

const ROOT = path.join(__dirname, '..');
const INTERNAL_TOKEN = 'chaos-internal-token-0123456789';
const CALLBACK_TOKEN = 'chaos-callback-token-0123456789';
const XENDIT_KEY = 'xnd_development_chaos_soak_key';

export interface SoakOptions extends MonkeyOptions {
  /** How long the load and the kills go on, in ms. */
  loadMs: number;
  /** The longest wait for the system to settle after the load. */
  settleMs: number;
  /** Buyers acting at once. */
  concurrency: number;
  /** How long a group-buying session stays open, in ms. */
  sessionMs: [number, number];
  /** Also print the first refusal or failure of each kind of operation. */
  verbose?: boolean;
  /** Where the processes' logs are copied when a check fails (the run's own folder is removed). */
  keepLogsIn?: string;
}

export interface SoakReport {
  passed: boolean;
  kills: number;
  checks: CheckResult[];
  text: string;
}

export const SHORT_SOAK: SoakOptions = {
  loadMs: 60_000,
  settleMs: 120_000,
  concurrency: 6,
  sessionMs: [8_000, 16_000],
  killEveryMs: [8_000, 12_000],
  downMs: [2_000, 4_000],
  faultEveryMs: [2_000, 5_000],
};

export const LONG_SOAK: Omit<SoakOptions, 'loadMs'> = {
  settleMs: 180_000,
  concurrency: 8,
  sessionMs: [15_000, 40_000],
  killEveryMs: [10_000, 30_000],
  downMs: [2_000, 10_000],
  faultEveryMs: [3_000, 10_000],
};

/**
 * The chaos soak (issue #19): the whole stack on a throw-away database, a mixed workload of many buyers and
 * the factory owners, random SIGKILLs and Xendit faults meanwhile; then a bounded wait for the system to settle
 * and the checks, read from the databases. Answers the printed report and whether every check passed.
 */
export async function runSoak(options: SoakOptions, log: (line: string) => void = () => {}): Promise<SoakReport> {
  const subgraphs = (Object.keys(SUBGRAPHS) as SubgraphName[]).filter((name) =>
    fs.existsSync(path.join(ROOT, 'subgraphs', name, 'index.ts')),
  );
  const startedAt = Date.now();
  log(`starting ${subgraphs.length} subgraphs, the gateway and the sandbox`);
  const bench = await startBenchStack({
    subgraphs,
    gateway: true,
    sandbox: true,
    // Fifteen processes starting at once on two shared cores take their time.
    readyTimeoutMs: 300_000,
    env: {
      LOG_LEVEL: 'info',
      INTERNAL_TOKEN,
      XENDIT_CALLBACK_TOKEN: CALLBACK_TOKEN,
      XENDIT_SECRET_KEY: XENDIT_KEY,
      SEED_DEMO_DATA: 'true',
      EXPIRY_SWEEP_MS: '1000',
      OUTBOX_RETRY_MS: '500',
      UNPAID_HOLD_MINUTES: '0.25',
      UNPAID_SWEEP_MS: '1000',
      MAX_UNPAID_ORDERS: '50',
      OTP_RATE_LIMIT_PER_ADDRESS: '1000000',
      REFUND_RECONCILE_MS: '2000',
      REFUND_CALLBACK_GRACE_MS: '5000',
      PAYOUT_RECONCILE_MS: '2000',
      PAYOUT_CALLBACK_GRACE_MS: '5000',
      SANDBOX_PAYOUT_DELAY_MS: '1000',
      SETTLEMENT_CLAIM_TTL_MS: '5000',
      SETTLEMENT_BACKOFF_MAX_MS: '4000',
    },
  });
  const { stack } = bench;
  const db = new Databases(bench.serverUrl, bench.prefix, subgraphs);
  let passed = false;
  try {
    const startupMs = Date.now() - startedAt;
    const client = new ChaosClient(
      { gateway: stack.urlOf('gateway'), sandbox: stack.urlOf('sandbox'), service: (name) => stack.urlOf(name) },
      INTERNAL_TOKEN,
      XENDIT_KEY,
    );
    // Stock for the whole run: orders never run out of it (a refusal the soak is not about).
    await db.query('warehouse', 'update inventory set quantity = 1000000');
    const tally = new Tally();
    const workload = new Workload(client, tally, {
      concurrency: options.concurrency,
      sessionMs: options.sessionMs,
      callbackToken: CALLBACK_TOKEN,
    });
    await workload.prepare(options.concurrency * 2);
    log(`stack up in ${Math.round(startupMs / 1000)} s; load for ${Math.round(options.loadMs / 1000)} s`);

    const monkey = new Monkey(stack, client, tally, options);
    const load = Promise.all([workload.run(), monkey.run()]);
    const progress = setInterval(() => log(`… ${monkey.killCount} kills so far`), 30_000);
    await new Promise((resolve) => setTimeout(resolve, options.loadMs));
    workload.stop();
    monkey.stop();
    await load;
    clearInterval(progress);
    await monkey.clearFaults();
    log(`load over (${monkey.killCount} kills); settling`);

    const settleStarted = Date.now();
    let pending: Record<string, number> = {};
    let redelivered = 0;
    for (;;) {
      redelivered += await workload.redeliverAbandonedCallbacks();
      pending = await pendingWork(db);
      const settled = Object.values(pending).every((n) => n === 0);
      if (settled || Date.now() - settleStarted > options.settleMs) break;
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
    const settleMs = Date.now() - settleStarted;
    const checks = await runChecks(db, client, workload.invoiceIds, startedAt);
    passed = checks.every((c) => c.ok);

    const lines: string[] = [];
    const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;
    lines.push(
      `Chaos soak: ${seconds(options.loadMs)} of load on ${subgraphs.length} subgraphs + gateway ` +
        `(stack up in ${seconds(startupMs)}), ${options.concurrency} buyers at once, ` +
        `a kill every ${seconds(options.killEveryMs[0])}–${seconds(options.killEveryMs[1])}, ` +
        `down ${seconds(options.downMs[0])}–${seconds(options.downMs[1])}`,
    );
    lines.push('', 'Operations (ok / refused by a rule / failed during an outage):');
    const kinds = [...tally.counts.entries()].sort(([a], [b]) => a.localeCompare(b));
    for (const [kind, c] of kinds) lines.push(`  ${kind.padEnd(30)} ${c.ok} / ${c.refused} / ${c.failed}`);
    if (options.verbose) {
      lines.push('', 'First refusal or failure of each kind:');
      for (const [kind, message] of tally.firstErrors) lines.push(`  ${kind}: ${message}`);
    }
    lines.push('', `Kills (SIGKILL, then restarted): ${monkey.killCount}`);
    lines.push(`  ${[...monkey.kills.entries()].map(([name, n]) => `${name} ${n}`).join(', ')}`);
    if (monkey.restartRetries) lines.push(`  restarts that had to be tried again: ${monkey.restartRetries}`);
    const faultTotal = [...monkey.faults.values()].reduce((a, b) => a + b, 0);
    lines.push('', `Xendit faults injected: ${faultTotal}`);
    lines.push(`  ${[...monkey.faults.entries()].map(([name, n]) => `${name} ${n}`).join(', ')}`);
    const left = Object.entries(pending).filter(([, n]) => n > 0);
    lines.push(
      '',
      `Settled in ${seconds(settleMs)}` +
        (redelivered ? ` (${redelivered} invoice callbacks Xendit would still be retrying sent again)` : '') +
        (left.length ? `; still pending at the limit: ${left.map(([k, n]) => `${k} ${n}`).join(', ')}` : ''),
    );
    lines.push('', 'Checks:');
    for (const c of checks) lines.push(`  ${c.ok ? 'PASS' : 'FAIL'} ${c.name}`, `      ${c.detail}`);
    lines.push('', passed ? 'All checks passed.' : 'Some checks FAILED.');
    if ((!passed || options.verbose) && options.keepLogsIn) {
      const target = path.join(options.keepLogsIn, bench.prefix);
      fs.mkdirSync(target, { recursive: true });
      for (const file of fs.readdirSync(bench.workDir))
        fs.copyFileSync(path.join(bench.workDir, file), path.join(target, file));
      lines.push(`Logs: ${target}`);
    }
    return { passed, kills: monkey.killCount, checks, text: lines.join('\n') };
  } finally {
    await db.close();
    await bench.stop();
  }
}
