import { INTERNAL_TOKEN_HEADER } from '../../lib/internal-auth';
import type { SubgraphName } from '../../lib/services';
import { TEST_INTERNAL_TOKEN, type TestStack } from './e2e';

/** One sample of a Prometheus text exposition: `name{label="value",…} value`. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments and blank lines skipped). */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample: ${line}`);
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[label[1]] = label[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of `name`'s samples whose labels include every one of `labels` (0 when there is none). */
export function sumOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

/** A process's `GET /metrics` (base URL of the process), read with the internal token. */
export async function scrapeMetrics(baseUrl: string, token = TEST_INTERNAL_TOKEN): Promise<Sample[]> {
  const response = await fetch(`${baseUrl}/metrics`, { headers: { [INTERNAL_TOKEN_HEADER]: token } });
  if (response.status !== 200) throw new Error(`GET ${baseUrl}/metrics: ${response.status} ${await response.text()}`);
  return parseMetrics(await response.text());
}

/**
 * The current value of a metric of one process of a test stack, summed over the series matching `labels`:
 * `await metricValue(stack, 'warehouse', 'sql_statements_total')`. A histogram's count is `<name>_count`.
 */
export async function metricValue(
  stack: TestStack,
  service: SubgraphName | 'gateway',
  name: string,
  labels?: Record<string, string>,
): Promise<number> {
  const url = service === 'gateway' ? stack.gatewayUrl : stack.serviceUrl(service);
  return sumOf(await scrapeMetrics(url), name, labels);
}
