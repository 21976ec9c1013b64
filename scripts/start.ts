import { loadConfig } from '../lib/config';
import { createLogger } from '../lib/logger';
import { resolveDatabaseServer } from '../lib/database';
import { IMPLEMENTED_SUBGRAPHS } from '../subgraphs/registry';
import { reportStartFailure } from '../lib/process';
import { Stack } from './stack';

/**
 * `npm start`: a PostgreSQL (embedded unless DATABASE_URL is set), every implemented subgraph in its
 * own process (each migrates and seeds its database), the sandbox and the gateway. Ctrl-C stops all.
 */
async function main() {
  const config = loadConfig();
  const logger = createLogger('start', config.LOG_LEVEL);
  const database = await resolveDatabaseServer(config, logger);
  const stack = new Stack({
    subgraphs: IMPLEMENTED_SUBGRAPHS,
    gateway: true,
    sandbox: true,
    // Every service runs in the launcher's mode (`npm start` sets NODE_ENV=development in package.json).
    env: { NODE_ENV: config.NODE_ENV, DATABASE_URL: database.url, PORT_OFFSET: String(config.PORT_OFFSET) },
  });
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping…');
    await stack.stop();
    await database.stop();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  process.on('SIGHUP', shutdown);
  await stack.start();
  console.log('\nGroup-buying supergraph is up:');
  console.log(`  GraphQL (Sandbox explorer): ${stack.urlOf('gateway')}/graphql`);
  console.log(`  Subscriptions:              ws://localhost:${stack.portOf('gateway')}/graphql`);
  console.log(`  Xendit/WhatsApp sandbox:    ${stack.urlOf('sandbox')}`);
  for (const name of IMPLEMENTED_SUBGRAPHS) console.log(`  ${name.padEnd(13)} ${stack.urlOf(name)} (internal)`);
  console.log('Press Ctrl-C to stop.');
}

main().catch((error) => {
  reportStartFailure('npm start', error);
  process.exit(1);
});
