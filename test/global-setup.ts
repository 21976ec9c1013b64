import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { loadConfig } from '../lib/config';
import { createLogger } from '../lib/logger';
import { resolveDatabaseServer } from '../lib/database';
import { build } from '../scripts/build';
import { freePort } from './support/ports';

/**
 * The services compiled once for the run (incremental; test/support/e2e.ts starts them with plain node, which
 * starts each about twice as cheaply as tsx), and one PostgreSQL: DATABASE_URL when set, otherwise a throw-away
 * embedded server. Each test file then creates its own databases under a unique prefix.
 */
export default async function globalSetup() {
  build({ allowTypeErrors: true });
  const config = loadConfig({ ...process.env, NODE_ENV: 'test' });
  const logger = createLogger('test-db', 'warn');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'groupbuy-test-pg-'));
  const server = await resolveDatabaseServer(config, logger, {
    dataDir,
    port: await freePort(),
    persistent: false,
  });
  process.env.TEST_DATABASE_URL = server.url;
  (globalThis as { __testDatabase?: { stop(): Promise<void>; dataDir: string } }).__testDatabase = {
    stop: server.stop,
    dataDir,
  };
}
