import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Stack, type StackOptions } from '../scripts/stack';
import { loadConfig } from '../lib/config';
import { createLogger } from '../lib/logger';
import { dropDatabases, resolveDatabaseServer } from '../lib/database';
import { GATEWAY_PORT, SANDBOX_PORT, SUBGRAPHS } from '../lib/services';
import { freePort, freePortOffset } from '../test/support/ports';

/**
 * Benchmarks run every process with NODE_ENV=test, not production: they need the Xendit/WhatsApp sandbox,
 * which production refuses (lib/config.ts), and passing strong secrets would not change that. Under test the
 * servers otherwise behave as in production where it costs time (Apollo leaves stack traces out; LOG_LEVEL=warn
 * here). What differs: introspection is allowed (one validation rule fewer), and graphql-js keeps its
 * development `instanceof` checks, which it drops only under NODE_ENV=production. The other gateways in
 * gateway.bench.ts run with the same NODE_ENV, so the ratios compare like with like.
 */
export const BENCH_NODE_ENV = 'test';

export interface BenchStack {
  stack: Stack;
  /** The PostgreSQL server (each subgraph's database is `<prefix>_<name>` on it). */
  serverUrl: string;
  prefix: string;
  /** Added to every default port (lib/config.ts PORT_OFFSET). */
  portOffset: number;
  /** A scratch folder for logs and files, removed by stop(). */
  workDir: string;
  stop(): Promise<void>;
}

/**
 * What every benchmark stands on: PostgreSQL (DATABASE_URL, else a throw-away embedded server), fresh
 * databases under a unique prefix, free ports, and the services started in their own processes.
 */
export async function startBenchStack(
  options: Omit<StackOptions, 'env' | 'logDir'> & { env: Record<string, string> },
): Promise<BenchStack> {
  const config = loadConfig({ ...process.env, NODE_ENV: BENCH_NODE_ENV });
  const logger = createLogger('bench', 'warn');
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'groupbuy-bench-'));
  // Its own folder: embedded PostgreSQL runs as another user, who must own the whole path.
  const pgDir = fs.mkdtempSync(path.join(os.tmpdir(), 'groupbuy-bench-pg-'));
  const server = await resolveDatabaseServer(config, logger, {
    dataDir: pgDir,
    port: await freePort(),
    persistent: false,
  });
  const prefix = `bench${randomBytes(3).toString('hex')}`;
  const offset = await freePortOffset([...Object.values(SUBGRAPHS), GATEWAY_PORT, SANDBOX_PORT]);
  const stack = new Stack({
    ...options,
    logDir: workDir,
    env: {
      NODE_ENV: BENCH_NODE_ENV,
      LOG_LEVEL: 'warn',
      DATABASE_URL: server.url,
      DB_PREFIX: prefix,
      PORT_OFFSET: String(offset),
      ...options.env,
    },
  });
  const stop = async () => {
    await stack.stop();
    await dropDatabases(server.url, prefix).catch(() => undefined);
    await server.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
    fs.rmSync(pgDir, { recursive: true, force: true });
  };
  try {
    await stack.start();
  } catch (error) {
    await stop();
    throw error;
  }
  return { stack, serverUrl: server.url, prefix, portOffset: offset, workDir, stop };
}
