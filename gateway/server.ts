import fs from 'node:fs';
import http from 'node:http';
import express from 'express';
import type { RequestInit } from 'node-fetch';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import {
  ApolloServerPluginLandingPageLocalDefault,
  ApolloServerPluginLandingPageProductionDefault,
} from '@apollo/server/plugin/landingPage/default';
import { ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { type DocumentNode, Kind, type OperationTypeNode } from 'graphql';
import { type Config, loadConfig } from '../lib/config';
import { createLogger, currentRequestId, type Logger, REQUEST_ID_HEADER, withRequestId } from '../lib/logger';
import { type Caller, CLIENT_ADDRESS_HEADER, identityHeaders, INTERNAL_TOKEN_HEADER } from '../lib/internal-auth';
import { InternalClient } from '../lib/internal-client';
import { isSubgraphName, type SubgraphName } from '../lib/services';
import { formatErrorFor } from '../lib/errors';
import { LiteralPlacesRule, literalValueError, parseScalarsIn } from '../lib/scalars';
import { readSupergraphConfig, SUPERGRAPH_SDL } from './compose';
import { operationLimits, operationLimitsPlugin, parseOptions } from './limits';
import { clientAddressResolver } from './client-address';
import { resolveCaller } from './identity';
import { SessionDirectory } from './session-directory';
import { mountWebhookShim } from './webhook-shim';
import { mountDemo } from './demo';
import { type FormatError, mountSubscriptions } from './subscriptions';
import { InflightFetches, OPERATION_KIND_HEADER } from './inflight-fetches';
import { graphqlMetricsPlugin, httpMetrics, mountMetrics, subgraphFetchDuration } from '../lib/metrics';

export interface GatewayContext {
  caller: Caller | null;
  requestId: string;
  clientAddress?: string;
}

// Instead of the default make-fetch-happen, whose caching layers a gateway that must not cache per-user
// answers does not need: kept-alive undici sockets, identical reads in flight shared (inflight-fetches.ts).
const inflightFetches = new InflightFetches();

/** Passes the caller and request id to subgraphs, always together with the internal token. */
class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    name: string,
    url: string,
    private readonly internalToken: string,
  ) {
    super({
      url,
      fetcher: async (input, init) => {
        const end = subgraphFetchDuration.startTimer({ subgraph: name });
        try {
          const response = await inflightFetches.fetch(input, init as RequestInit);
          end({ outcome: response.ok ? 'ok' : 'error' });
          return response;
        } catch (error) {
          end({ outcome: 'error' });
          throw error;
        }
      },
      // Subgraphs send no cache hints; parsing Cache-Control on every fetch is work for nothing.
      honorSubgraphCacheControlHeader: false,
    });
  }

  willSendRequest(options: GraphQLDataSourceProcessOptions<GatewayContext>) {
    const { request, context } = options;
    const headers = request.http!.headers;
    headers.set(INTERNAL_TOKEN_HEADER, this.internalToken);
    const kind = 'document' in options ? operationKindOf(options.document) : undefined;
    if (kind) headers.set(OPERATION_KIND_HEADER, kind);
    if (context?.requestId) headers.set(REQUEST_ID_HEADER, context.requestId);
    if (context?.clientAddress) headers.set(CLIENT_ADDRESS_HEADER, context.clientAddress);
    for (const [name, value] of Object.entries(identityHeaders(context?.caller ?? null))) headers.set(name, value);
  }
}

export interface RunningGateway {
  url: string;
  stop(): Promise<void>;
}

export async function startGateway(
  config: Config = loadConfig(),
  logger: Logger = createLogger('gateway', config.LOG_LEVEL),
): Promise<RunningGateway> {
  const subgraphs = readSupergraphConfig()
    .map((entry) => entry.name)
    .filter(isSubgraphName) as SubgraphName[];
  const client = new InternalClient(config);
  const sessions = new SessionDirectory(
    client,
    logger,
    subgraphs.includes('auth'),
    config.SESSION_FEED_MAX_STALENESS_MS,
  );
  sessions.start();

  const supergraphSdl = fs.readFileSync(SUPERGRAPH_SDL, 'utf8');
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ name }) =>
      new SubgraphDataSource(
        name,
        `${isSubgraphName(name) ? config.serviceUrl(name) : ''}/graphql`,
        config.INTERNAL_TOKEN,
      ),
    // The gateway reads process.env.NODE_ENV for this, and an unset one would show query plans to anyone asking.
    __exposeQueryPlanExperimental: config.NODE_ENV !== 'production',
    // Each fetch carries the planner's parsed operation, so sharing reads in flight knows a query from a mutation.
    queryPlannerConfig: { exposeDocumentNodeInFetchNode: true },
  });
  gateway.onSchemaLoadOrUpdate(({ apiSchema }) => parseScalarsIn(apiSchema));

  const app = express();
  app.disable('x-powered-by');
  const httpServer = http.createServer(app);
  // One of each for HTTP and the WebSocket, so the two cannot drift apart.
  const clientAddressOf = clientAddressResolver(config.TRUST_PROXY);
  const limits = operationLimits(config);
  const validationRules = [LiteralPlacesRule];
  const maskUnexpected = formatErrorFor(logger);
  const formatError: FormatError = (formatted, error) =>
    // Subgraphs already hid their unexpected failures; what they sent on purpose reaches the client.
    formatted.extensions?.serviceName
      ? formatted
      : (literalValueError(formatted, error) ?? maskUnexpected(formatted, error));

  const subscriptions = await mountSubscriptions({
    httpServer,
    config,
    logger,
    sessions,
    supergraphSdl,
    limits,
    validationRules,
    formatError,
    clientAddressOf,
    execute: async (request, contextValue) => {
      const response = await apollo.executeOperation(request, { contextValue });
      return response.body.kind === 'single' ? response.body.singleResult : { errors: [] };
    },
  });

  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    parseOptions: parseOptions(config),
    validationRules,
    formatError,
    // Apollo reads process.env.NODE_ENV (stack traces, introspection), where unset means development; ours means production.
    nodeEnv: config.NODE_ENV,
    introspection: config.NODE_ENV !== 'production',
    includeStacktraceInErrorResponses: config.NODE_ENV === 'development',
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginCacheControlDisabled(),
      operationLimitsPlugin(limits),
      graphqlMetricsPlugin(),
      { serverWillStart: async () => ({ drainServer: () => subscriptions.stop() }) },
      config.NODE_ENV === 'production'
        ? ApolloServerPluginLandingPageProductionDefault()
        : ApolloServerPluginLandingPageLocalDefault({ embed: true }),
    ],
  });
  await apollo.start();

  app.use(httpMetrics());
  // Behind the internal token like the subgraphs' (docs/operations.md): operation names and error rates are
  // not for the public.
  mountMetrics(app, config.INTERNAL_TOKEN);
  app.get('/health', async (_req, res) => {
    const checks = await Promise.all(
      subgraphs.map(async (name) => {
        try {
          const response = await fetch(`${config.serviceUrl(name)}/health`, { signal: AbortSignal.timeout(2000) });
          return [name, response.ok ? 'ok' : `status ${response.status}`] as const;
        } catch {
          return [name, 'unreachable'] as const;
        }
      }),
    );
    const healthy = checks.every(([, state]) => state === 'ok');
    res
      .status(healthy ? 200 : 503)
      .json({ status: healthy ? 'ok' : 'degraded', subgraphs: Object.fromEntries(checks) });
  });
  app.use((req, _res, next) => withRequestId(req.header(REQUEST_ID_HEADER), next));
  mountWebhookShim(app, config, logger);
  mountDemo(app, config);
  app.use(
    '/graphql',
    express.json({ limit: config.MAX_REQUEST_BYTES }),
    expressMiddleware(apollo, {
      context: async ({ req }) => ({
        caller: await resolveCaller(req.header('authorization'), req.headers, config, sessions),
        requestId: currentRequestId()!,
        clientAddress: clientAddressOf(req),
      }),
    }),
  );
  app.get('/', (_req, res) => res.redirect('/graphql'));

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.gatewayPort, resolve);
  });
  const url = `http://localhost:${config.gatewayPort}`;
  logger.info({ url: `${url}/graphql` }, 'gateway ready');
  return {
    url,
    stop: async () => {
      sessions.stop();
      await apollo.stop();
    },
  };
}

function operationKindOf(document: DocumentNode | undefined): OperationTypeNode | undefined {
  return document?.definitions.find((definition) => definition.kind === Kind.OPERATION_DEFINITION)?.operation;
}
