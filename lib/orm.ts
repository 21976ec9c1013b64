import 'reflect-metadata';
import {
  MikroORM,
  ReflectMetadataProvider,
  type Constructor,
  type EntitySchema,
  type MigrationObject,
} from '@mikro-orm/core';
import { PostgreSqlDriver, type EntityManager } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import type { Logger } from './logger';
import { sqlStatements } from './metrics';
import { ConfigError } from './config';

export type { EntityManager };
export type Orm = MikroORM<PostgreSqlDriver>;

/** A decorated entity class, or a schema built in code (lib/status-history.ts). */
export type EntityDefinition = Constructor | EntitySchema<any, never>;

/**
 * One MikroORM per subgraph, on its own database. Migrations are committed classes listed by each
 * subgraph and run on start under an advisory lock, so replicas starting together migrate once.
 * `migrate: false` (MIGRATE_ON_START=false, where `npm run migrate` is its own step) applies none and
 * refuses a database that still has one pending.
 */
export async function initOrm(options: {
  clientUrl: string;
  entities: EntityDefinition[];
  migrations: MigrationObject[];
  logger: Logger;
  /** Connections this pool may open (DB_POOL_MAX for services). */
  poolMax?: number;
  migrate?: boolean;
}): Promise<Orm> {
  const orm = await MikroORM.init<PostgreSqlDriver>({
    driver: PostgreSqlDriver,
    clientUrl: options.clientUrl,
    entities: options.entities,
    metadataProvider: ReflectMetadataProvider,
    extensions: [Migrator],
    migrations: { migrationsList: options.migrations, transactional: true, allOrNothing: true, silent: true },
    pool: { min: 0, max: options.poolMax ?? 20 },
    allowGlobalContext: false,
    forceUtcTimezone: true,
    debug: false,
    discovery: { warnWhenNoEntities: false },
  });
  // sql_statements_total: batching is measured from outside by it (tests, bench).
  orm.em
    .getConnection()
    .getKnex()
    .on('query', () => sqlStatements.inc());
  if (options.migrate ?? true) await migrate(orm, options.logger);
  else await refusePendingMigrations(orm);
  return orm;
}

async function refusePendingMigrations(orm: Orm): Promise<void> {
  const pending = await orm.getMigrator().getPendingMigrations();
  if (!pending.length) return;
  await orm.close();
  throw new ConfigError([
    `MIGRATE_ON_START: false, and ${pending.length} migration(s) are not applied (${pending.map((m) => m.name).join(', ')}): run \`npm run migrate\` first`,
  ]);
}

async function migrate(orm: Orm, logger: Logger): Promise<void> {
  const knex = orm.em.getConnection().getKnex();
  // A session-level advisory lock needs one connection for lock and unlock.
  const connection = await knex.client.acquireConnection();
  try {
    await connection.query('SELECT pg_advisory_lock(727274)');
    const applied = await orm.getMigrator().up();
    if (applied.length) logger.info({ migrations: applied.map((m) => m.name) }, 'migrations applied');
  } finally {
    await connection.query('SELECT pg_advisory_unlock(727274)').catch(() => undefined);
    await knex.client.releaseConnection(connection);
  }
}
