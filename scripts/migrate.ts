import { loadConfig } from '../lib/config';
import { createLogger } from '../lib/logger';
import { openSubgraphDatabase } from '../lib/database';
import { initOrm } from '../lib/orm';
import { reportStartFailure } from '../lib/process';
import { isSubgraphName, type SubgraphName } from '../lib/services';
import { IMPLEMENTED_SUBGRAPHS, loadSubgraph } from '../subgraphs/registry';

/**
 * `npm run migrate [-- <subgraph>…]`: applies every pending migration of the named subgraphs (all by default) as a
 * step of its own, before a rollout; the services then start with MIGRATE_ON_START=false. Each subgraph migrates
 * under the same advisory lock as a start does, so this is safe beside running replicas and when run twice.
 */
async function main(): Promise<void> {
  const names = process.argv.slice(2);
  const unknown = names.filter((name) => !isSubgraphName(name) || !IMPLEMENTED_SUBGRAPHS.includes(name));
  if (unknown.length) {
    console.error(`Unknown subgraph ${unknown.join(', ')}; one of ${IMPLEMENTED_SUBGRAPHS.join(', ')}`);
    process.exit(2);
  }
  const config = loadConfig(process.env, { databaseOnly: true });
  const logger = createLogger('migrate', config.LOG_LEVEL);
  for (const name of (names.length ? names : IMPLEMENTED_SUBGRAPHS) as SubgraphName[]) {
    const definition = loadSubgraph(name);
    const database = await openSubgraphDatabase(config, name, logger);
    try {
      // Two connections: the advisory lock's and the migration transaction's.
      const orm = await initOrm({
        clientUrl: database.url,
        entities: definition.entities,
        migrations: definition.migrations,
        logger: logger.child({ subgraph: name }),
        poolMax: 2,
      });
      await orm.close();
    } finally {
      await database.stop();
    }
    logger.info({ subgraph: name }, 'migrated');
  }
}

main().catch((error) => {
  reportStartFailure('npm run migrate', error);
  process.exit(1);
});
