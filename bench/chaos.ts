import path from 'node:path';
import { parseArgs } from 'node:util';
import { LONG_SOAK, runSoak, type SoakOptions } from './chaos-soak';

/**
 * `npm run chaos -- --minutes N [--kill-every 10-30] [--down 2-10] [--faults-every 3-10] [--buyers 8] [--verbose]`:
 * the chaos soak (bench/chaos-soak.ts). Ranges are in seconds. Prints the report; exits 1 when a check fails.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '10' },
      'kill-every': { type: 'string' },
      down: { type: 'string' },
      'faults-every': { type: 'string' },
      buyers: { type: 'string' },
      verbose: { type: 'boolean', default: false },
    },
  });
  const range = (text: string | undefined, fallback: [number, number]): [number, number] => {
    if (!text) return fallback;
    const match = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(text);
    if (!match || Number(match[1]) > Number(match[2])) throw new Error(`not a range of seconds: ${text} (e.g. 10-30)`);
    return [Number(match[1]) * 1000, Number(match[2]) * 1000];
  };
  const minutes = Number(values.minutes);
  if (!(minutes > 0)) throw new Error(`--minutes must be a positive number, not ${values.minutes}`);
  const options: SoakOptions = {
    ...LONG_SOAK,
    loadMs: minutes * 60_000,
    killEveryMs: range(values['kill-every'], LONG_SOAK.killEveryMs),
    downMs: range(values.down, LONG_SOAK.downMs),
    faultEveryMs: range(values['faults-every'], LONG_SOAK.faultEveryMs),
    concurrency: values.buyers ? Number(values.buyers) : LONG_SOAK.concurrency,
    verbose: values.verbose,
    keepLogsIn: path.join(__dirname, '..', 'test-artifacts', 'chaos-logs'),
  };
  const report = await runSoak(options, (line) => console.error(`[chaos] ${line}`));
  console.log(report.text);
  process.exitCode = report.passed ? 0 : 1;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
