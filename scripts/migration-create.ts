import fs from 'node:fs';
import path from 'node:path';
import { MikroORM, ReflectMetadataProvider } from '@mikro-orm/core';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { loadConfig } from '../lib/config';
import { createLogger } from '../lib/logger';
import { databaseName, ensureDatabase, resolveDatabaseServer, withDatabase } from '../lib/database';
import { isSubgraphName } from '../lib/services';
import { loadSubgraph } from '../subgraphs/registry';

/**
 * `npm run migration:create -- <subgraph>`: diffs the subgraph's entities against its migrated
 * database, writes the next migration file and relists `migrations/index.ts`.
 */
async function main() {
  const name = process.argv[2] ?? '';
  if (!isSubgraphName(name)) throw new Error(`Usage: npm run migration:create -- <subgraph>; unknown "${name}"`);
  const definition = loadSubgraph(name);
  const config = loadConfig();
  const logger = createLogger('migrations', config.LOG_LEVEL);
  const server = await resolveDatabaseServer(config, logger);
  const database = `${databaseName(config, name)}_migrations`;
  await ensureDatabase(server.url, database);
  const dir = path.join(__dirname, '..', 'subgraphs', name, 'migrations');
  const orm = await MikroORM.init<PostgreSqlDriver>({
    driver: PostgreSqlDriver,
    clientUrl: withDatabase(server.url, database),
    entities: definition.entities,
    metadataProvider: ReflectMetadataProvider,
    extensions: [Migrator],
    migrations: { migrationsList: definition.migrations, path: dir, emit: 'ts', snapshot: false },
  });
  try {
    await orm.getMigrator().up();
    const created = await orm.getMigrator().createMigration(dir);
    if (!created.fileName) console.log('No changes: no migration written.');
    else console.log(`Wrote ${created.fileName}`);
    const files = fs
      .readdirSync(dir)
      .filter((f) => /^Migration\d+.*\.ts$/.test(f))
      .sort();
    const names = files.map((f) => f.replace(/\.ts$/, ''));
    fs.writeFileSync(
      path.join(dir, 'index.ts'),
      `import type { MigrationObject } from '@mikro-orm/core';\n${names
        .map((n) => `import { ${n} } from './${n}';`)
        .join(
          '\n',
        )}\n\n/** Applied in this order on start; new files come from \`npm run migration:create -- ${name}\`. */\nexport const migrations: MigrationObject[] = [\n${names
        .map((n) => `  { name: '${n}', class: ${n} },`)
        .join('\n')}\n];\n`,
    );
  } finally {
    await orm
      .getSchemaGenerator()
      .dropDatabase(database)
      .catch(() => undefined);
    await orm.close();
    await server.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
