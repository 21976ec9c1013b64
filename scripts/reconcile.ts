import { loadConfig } from '../lib/config';
import { InternalClient } from '../lib/internal-client';
import {
  RECONCILIATION_PATH,
  RECONCILIATION_TIMEOUT_MS,
  type ReconciliationReport,
} from '../lib/contracts/reconciliation';

const USAGE = 'Usage: npm run reconcile -- [--since 24h | --from <ISO time>] [--to <ISO time>] [--json]';
const UNITS_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 };

/** `24h`, `90m`, `7d`, `30s` in milliseconds, or null when it is none of those. */
export function durationMs(text: string): number | null {
  const match = /^(\d+)([smhd])$/.exec(text.trim());
  return match ? Number(match[1]) * UNITS_MS[match[2]] : null;
}

/** The window the arguments ask for (payment's own default, the last 24 hours, when none is given). */
export function windowOf(args: string[], now = new Date()): { query: Record<string, string>; json: boolean } {
  const query: Record<string, string> = {};
  let json = false;
  for (let i = 0; i < args.length; i += 1) {
    const [flag, value] = [args[i], args[i + 1]];
    if (flag === '--json') {
      json = true;
      continue;
    }
    if (value === undefined || !['--since', '--from', '--to'].includes(flag)) throw new Error(USAGE);
    i += 1;
    if (flag === '--since') {
      const ms = durationMs(value);
      if (ms === null) throw new Error(`--since ${value}: give a number and s, m, h or d (e.g. 24h). ${USAGE}`);
      query.from = new Date(now.getTime() - ms).toISOString();
    } else {
      query[flag.slice(2)] = value;
    }
  }
  return { query, json };
}

function print(report: ReconciliationReport): void {
  const { invoices, refunds, payouts } = report.checked;
  console.log(`Reconciliation with Xendit, ${report.from} to ${report.to}`);
  console.log(`checked: ${invoices} paid invoices, ${refunds} refunds, ${payouts} payouts`);
  if (report.ok) {
    console.log('no mismatches');
    return;
  }
  console.log(`${report.mismatches.length} mismatch(es):`);
  for (const m of report.mismatches) console.log(`  ${m.kind}  ${m.id}  xendit: ${m.xenditId ?? '-'}  ${m.detail}`);
}

/**
 * `npm run reconcile -- --since 24h`: asks payment for the reconciliation of the window (payment lists Xendit's
 * side and asks settlement for the payouts) and prints it. Exits 1 when there are mismatches, 2 when it could not
 * reconcile. Reads only: nothing is changed.
 */
async function main(): Promise<number> {
  const { query, json } = windowOf(process.argv.slice(2));
  // Only the payment URL and the internal token are needed: the production checks of secrets it never uses would
  // refuse an operator's shell that has just those.
  const config = loadConfig(process.env, { databaseOnly: true });
  const report = await new InternalClient(config).call<ReconciliationReport>(
    'payment',
    'GET',
    `${RECONCILIATION_PATH}?${new URLSearchParams(query)}`,
    { timeoutMs: RECONCILIATION_TIMEOUT_MS, retries: 0 },
  );
  if (json) console.log(JSON.stringify(report, null, 2));
  else print(report);
  return report.ok ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`reconcile: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(2);
    },
  );
}
