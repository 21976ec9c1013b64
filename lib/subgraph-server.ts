// First: tracing, when configured, instruments http, express, pg and graphql as they load (lib/telemetry.ts).
import { nameService } from './telemetry';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import gql from 'graphql-tag';
import express, { type Request } from 'express';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginCacheControlDisabled,
} from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import type { DocumentNode } from 'graphql';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import type { MigrationObject } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { type Config, loadConfig } from './config';
import { createLogger, type Logger, REQUEST_ID_HEADER, withRequestId } from './logger';
import type { SubgraphName } from './services';
import { openSubgraphDatabase } from './database';
import { type EntityDefinition, initOrm, type Orm } from './orm';
import { InternalClient } from './internal-client';
import {
  type Caller,
  callerFromHeaders,
  CLIENT_ADDRESS_HEADER,
  INTERNAL_TOKEN_HEADER,
  secretsEqual,
} from './internal-auth';
import type { SubgraphContext } from './context';
import { restErrorHandler, sendError } from './rest';
import { formatErrorFor } from './errors';
import { EventListener } from './events';
import { mountDeadLetters, OutboxMessage, watchOutbox } from './outbox';
import {
  dbPoolConnections,
  dbPoolMax,
  graphqlMetricsPlugin,
  httpMetrics,
  mountMetrics,
  subscriptionsActive,
  wsConnections,
} from './metrics';
import { runAsProcess } from './process';

/** The subgraph's SDL from the `schema.graphql` beside its index.ts. */
export function schemaOf(subgraphDir: string): DocumentNode {
  return gql(fs.readFileSync(path.join(subgraphDir, 'schema.graphql'), 'utf8'));
}

export interface SubgraphDeps {
  name: SubgraphName;
  config: Config;
  orm: Orm;
  /** This subgraph's own database (for LISTEN connections). */
  databaseUrl: string;
  logger: Logger;
  client: InternalClient;
}

/** Something a subgraph runs beside its server (scheduler, outbox worker, event listener). */
export interface BackgroundTask {
  stop(): Promise<void> | void;
}

export interface SubgraphDefinition<Loaders, Services = undefined> {
  name: SubgraphName;
  typeDefs: DocumentNode;
  /** The subgraph's codegen-typed resolvers (`Resolvers<SubgraphContext<…>>`). */
  resolvers: object;
  entities: EntityDefinition[];
  migrations: MigrationObject[];
  /** Per-request loaders (and anything else a request shares between its fields). */
  createLoaders: (em: EntityManager, deps: SubgraphDeps) => Loaders;
  /**
   * Builds, once at start, what resolvers, REST and background work share (a Xendit gateway, the outbox worker):
   * `context.services` in resolvers, the last argument of `rest` and `background`. A test gives another
   * implementation (say a PaymentGateway) by starting the definition with its own `init`.
   */
  init?: (deps: SubgraphDeps) => Services;
  /** Internal REST endpoints, mounted at the app root (paths start with /api). */
  rest?: (app: express.Express, deps: SubgraphDeps, services: Services) => void;
  /** Idempotent demo data, run on start when SEED_DEMO_DATA is true. */
  seed?: (em: EntityManager, deps: SubgraphDeps) => Promise<void>;
  background?: (deps: SubgraphDeps, services: Services) => Promise<BackgroundTask[]> | BackgroundTask[];
  /** LISTEN channels whose events feed this subgraph's subscriptions (`context.events`). */
  eventChannels?: string[];
}

export interface RunningSubgraph {
  url: string;
  deps: SubgraphDeps;
  stop(): Promise<void>;
}

/**
 * The one way a subgraph starts: its own database (created and migrated), Apollo subgraph on
 * /graphql (HTTP and graphql-ws), internal REST, `/health`, all on one HTTP server that shuts down
 * gracefully. Everything but `/health` needs the internal token: only the gateway is public.
 */
export async function startSubgraph<Loaders, Services>(
  definition: SubgraphDefinition<Loaders, Services>,
): Promise<RunningSubgraph> {
  nameService(definition.name);
  const config = loadConfig();
  const logger = createLogger(definition.name, config.LOG_LEVEL);
  const server = await openSubgraphDatabase(config, definition.name, logger);
  const databaseUrl = server.url;
  const orm = await initOrm({
    clientUrl: databaseUrl,
    entities: definition.entities,
    migrations: definition.migrations,
    logger,
    poolMax: config.DB_POOL_MAX,
    migrate: config.MIGRATE_ON_START === 'true',
  });
  const client = new InternalClient(config);
  const deps: SubgraphDeps = { name: definition.name, config, orm, databaseUrl, logger, client };

  if (definition.seed && config.SEED_DEMO_DATA === 'true') await definition.seed(orm.em.fork(), deps);
  const services = definition.init?.(deps) as Services;

  const schema = buildSubgraphSchema({
    typeDefs: definition.typeDefs,
    resolvers: definition.resolvers as GraphQLResolverMap<unknown>,
  });
  const app = express();
  app.disable('x-powered-by');
  const httpServer = http.createServer(app);
  // Longer than the gateway keeps idle sockets, so a kept-alive connection is never closed under a fetch.
  httpServer.keepAliveTimeout = 65_000;
  httpServer.headersTimeout = 66_000;
  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql' });
  // graphql-ws keeps each socket's open operations in its context's `subscriptions`.
  const sockets = new Set<{ subscriptions: Record<string, unknown> }>();

  const events = definition.eventChannels?.length
    ? await new EventListener(databaseUrl, definition.eventChannels, logger, config.EVENTS_RECONNECT_MAX_MS).start()
    : undefined;
  const contextFor = (
    caller: Caller | null,
    clientAddress?: string,
  ): SubgraphContext<Loaders> & { services: Services } => {
    const em = orm.em.fork();
    const loaders = definition.createLoaders(em, deps);
    return { em, caller, clientAddress, loaders, config, client, logger, events, services };
  };

  const wsCleanup = useServer(
    {
      schema,
      onConnect: (ctx) => {
        if (!secretsEqual(ctx.connectionParams?.internalToken as string | undefined, config.INTERNAL_TOKEN))
          return false;
        sockets.add(ctx);
        return true;
      },
      onClose: (ctx) => {
        sockets.delete(ctx);
      },
      context: (ctx) => contextFor(callerFromHeaders((ctx.connectionParams ?? {}) as Record<string, string>)),
    },
    wsServer,
  );

  const apollo = new ApolloServer<SubgraphContext<Loaders>>({
    schema,
    formatError: formatErrorFor(logger),
    // Apollo reads process.env.NODE_ENV, where unset means development; ours means production (lib/config.ts).
    nodeEnv: config.NODE_ENV,
    introspection: config.NODE_ENV !== 'production',
    includeStacktraceInErrorResponses: config.NODE_ENV === 'development',
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      // No Apollo Studio here: federated tracing would only cost time on every fetch. Nor cache hints:
      // the gateway ignores them, and computing them wraps every field resolver.
      ApolloServerPluginInlineTraceDisabled(),
      ApolloServerPluginCacheControlDisabled(),
      graphqlMetricsPlugin(),
      drainWebSockets(wsCleanup),
    ],
  });
  await apollo.start();

  const pool = orm.em.getConnection().getKnex().client.pool as KnexPool;
  const unwatch = [
    dbPoolConnections.add(() => [
      [{ state: 'used' }, pool.numUsed()],
      [{ state: 'idle' }, pool.numFree()],
      [{ state: 'pending' }, pool.numPendingAcquires()],
    ]),
    dbPoolMax.add(() => [[{}, pool.max]]),
    wsConnections.add(() => [[{}, wsServer.clients.size]]),
    subscriptionsActive.add(() => [
      [{}, [...sockets].reduce((n, socket) => n + Object.keys(socket.subscriptions).length, 0)],
    ]),
    ...(definition.entities.includes(OutboxMessage) ? [watchOutbox(deps)] : []),
  ];
  app.use(httpMetrics());
  app.get('/health', async (_req, res) => {
    try {
      await orm.em.getConnection().execute('select 1');
      res.json({ status: 'ok', service: definition.name });
    } catch {
      res.status(503).json({ status: 'unavailable', service: definition.name });
    }
  });
  mountMetrics(app, config.INTERNAL_TOKEN);
  app.use((req, res, next) => {
    withRequestId(req.header(REQUEST_ID_HEADER), () => {
      logger.debug({ method: req.method, path: req.path }, 'request');
      if (!secretsEqual(req.header(INTERNAL_TOKEN_HEADER), config.INTERNAL_TOKEN)) {
        sendError(res, 401, 'UNAUTHENTICATED', 'This service is internal: call it through the gateway');
        return;
      }
      next();
    });
  });
  app.use(
    '/graphql',
    express.json({ limit: '2mb' }),
    expressMiddleware(apollo, {
      context: async ({ req }) => contextFor(callerFromHeaders(req.headers), req.header(CLIENT_ADDRESS_HEADER)),
    }),
  );
  if (definition.entities.includes(OutboxMessage)) mountDeadLetters(app, deps);
  definition.rest?.(app, deps, services);
  app.use((_req: Request, res: express.Response) => sendError(res, 404, 'NOT_FOUND', 'No such endpoint'));
  app.use(restErrorHandler(logger));

  const port = config.PORT ?? config.portOf(definition.name);
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, resolve);
  });
  const tasks = definition.background ? await definition.background(deps, services) : [];
  const url = `http://localhost:${port}`;
  logger.info({ url }, `${definition.name} subgraph ready`);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      for (const task of tasks) await task.stop();
      unwatch.forEach((stopWatching) => stopWatching());
      await events?.stop();
      await apollo.stop();
      await orm.close();
      await server.stop();
    })());
  return { url, deps, stop };
}

/** Runs a subgraph as a process (lib/process.ts). */
export function runSubgraphProcess<Loaders, Services>(definition: SubgraphDefinition<Loaders, Services>): void {
  runAsProcess(definition.name, () => startSubgraph(definition));
}

/** What the metrics read of knex's connection pool (tarn). */
interface KnexPool {
  max: number;
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
}

function drainWebSockets(cleanup: { dispose(): void | Promise<void> }): ApolloServerPlugin {
  return {
    async serverWillStart() {
      return {
        async drainServer() {
          await cleanup.dispose();
        },
      };
    },
  };
}
