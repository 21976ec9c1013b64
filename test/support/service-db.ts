import { randomBytes } from 'node:crypto';
import type { MigrationObject } from '@mikro-orm/core';
import { dropDatabases, ensureDatabase, withDatabase } from '../../lib/database';
import { type EntityDefinition, initOrm, type Orm } from '../../lib/orm';
import type { SubgraphName } from '../../lib/services';
import { capturingLogger } from './logs';

export interface ServiceDatabase {
  orm: Orm;
  /** The database's URL (a raw pg client for assertions on what the ORM does not map). */
  url: string;
  /** Closes the ORM and drops the database. */
  close(): Promise<void>;
}

/**
 * One subgraph's database for an in-process service test: a fresh database on the run's PostgreSQL (its own
 * prefix, so files never share rows), the subgraph's migrations applied, and an ORM over the entities given
 * (a subgraph definition has both). No process and no HTTP: the test calls the service with `orm.em.fork()`.
 */
export async function openServiceDatabase(
  subgraph: SubgraphName,
  schema: { entities: EntityDefinition[]; migrations: MigrationObject[] },
): Promise<ServiceDatabase> {
  const server = process.env.TEST_DATABASE_URL;
  if (!server) throw new Error('TEST_DATABASE_URL is not set: run the tests through jest (globalSetup)');
  const prefix = `s${randomBytes(4).toString('hex')}`;
  const database = `${prefix}_${subgraph.replace('-', '_')}`;
  await ensureDatabase(server, database);
  const url = withDatabase(server, database);
  const orm = await initOrm({ clientUrl: url, ...schema, logger: capturingLogger().logger });
  return {
    orm,
    url,
    async close() {
      await orm.close();
      await dropDatabases(server, prefix);
    },
  };
}
