import type http from 'node:http';
import { randomUUID } from 'node:crypto';
import { WebSocketServer, WebSocket } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { createClient, type Client } from 'graphql-ws';
import {
  getOperationAST,
  GraphQLError,
  type GraphQLSchema,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FormattedExecutionResult,
  type GraphQLFormattedError,
  type ValidationRule,
} from 'graphql';
import { Supergraph } from '@apollo/federation-internals';
import type { Config } from '../lib/config';
import { currentRequestId, type Logger } from '../lib/logger';
import { type Caller, identityHeaders } from '../lib/internal-auth';
import { isSubgraphName } from '../lib/services';
import { readSupergraphConfig } from './compose';
import { type OperationLimits, parseOptions } from './limits';
import { resolveCaller } from './identity';
import type { SessionDirectory } from './session-directory';
import { type SubscriptionPlan, SubscriptionPlanner } from './subscription-plan';
import type { ClientAddressOf } from './client-address';
import type { GatewayContext } from './server';
import { subscriptionsActive, wsConnections } from '../lib/metrics';

/** Runs a query or mutation through the gateway's own request pipeline, the one HTTP requests take. */
export type FederatedExecutor = (
  request: { query: string; variables?: Record<string, unknown>; operationName?: string },
  context: GatewayContext,
) => Promise<FormattedExecutionResult>;

/** The gateway's error formatting (masking), shared with HTTP. */
export type FormatError = (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;

/** What the socket sends: errors made here are formatted on the way out; formatted ones pass as they are. */
type SocketResult = { data?: unknown; errors?: readonly (GraphQLError | GraphQLFormattedError)[] };

/** One client socket: the token it connected with, re-checked on every operation, and where it comes from. */
interface Connection {
  authorization?: string;
  clientAddress: string;
  subscriptions: Set<FederatedSubscription>;
}

interface OperationContext extends GatewayContext {
  /** The operation as the client sent it, for queries and mutations (run by the HTTP pipeline). */
  request: { query: string; variables?: Record<string, unknown>; operationName?: string };
  connection: Connection;
}

interface FederatedSubscription extends AsyncIterableIterator<SocketResult> {
  /** Sends `error` as the subscription's last event and completes it. */
  end(error: GraphQLError): void;
}

/**
 * graphql-ws on the gateway (DESIGN.md §6). @apollo/gateway cannot execute subscriptions, so the
 * gateway subscribes to the owning subgraph over graphql-ws, and completes every event with fields of
 * other subgraphs through its own federated query path. Upstream sockets are shared per subgraph and
 * identity and close when their last subscriber leaves.
 *
 * Every operation on a socket gets what an HTTP request gets: queries and mutations run through the
 * same Apollo pipeline (parse with the token cap, validation, limits, the client address, error masking);
 * subscriptions are parsed, validated and limited by the same functions, and their errors formatted by
 * the same formatError. The caller is resolved again from the connect-time token for each operation.
 */
export async function mountSubscriptions(options: {
  httpServer: http.Server;
  config: Config;
  logger: Logger;
  sessions: SessionDirectory;
  supergraphSdl: string;
  execute: FederatedExecutor;
  limits: OperationLimits;
  /** The validation rules Apollo runs besides graphql-js's own. */
  validationRules: ValidationRule[];
  formatError: FormatError;
  clientAddressOf: ClientAddressOf;
}) {
  const { config, logger, sessions, limits } = options;
  // Built at the first WebSocket operation, not at start: a gateway that serves none saves about a second of CPU.
  let built: { apiSchema: GraphQLSchema; planner: SubscriptionPlanner } | undefined;
  const schemas = () => {
    if (built) return built;
    const apiSchema = Supergraph.build(options.supergraphSdl).apiSchema().toGraphQLJSSchema();
    return (built = { apiSchema, planner: new SubscriptionPlanner(apiSchema, readSupergraphConfig()) });
  };
  const parsing = parseOptions(config);
  const validationRules = [...specifiedRules, ...options.validationRules];
  const upstreams = new Map<string, Client>();

  const upstreamFor = (subgraph: string, caller: Caller | null): Client => {
    const key = `${subgraph}|${caller?.userId ?? ''}|${caller?.role ?? ''}`;
    let client = upstreams.get(key);
    if (!client) {
      if (!isSubgraphName(subgraph)) throw new Error(`Unknown subgraph ${subgraph}`);
      client = createClient({
        url: `${config.serviceUrl(subgraph).replace(/^http/, 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { internalToken: config.INTERNAL_TOKEN, ...identityHeaders(caller) },
        lazy: true,
        lazyCloseTimeout: 2000,
        retryAttempts: 5,
        shouldRetry: () => true,
        on: {
          closed: () => {
            if (upstreams.get(key) === client) upstreams.delete(key);
          },
        },
      });
      upstreams.set(key, client);
    }
    return client;
  };

  /** As Apollo formats an error for HTTP: a code always (INTERNAL_SERVER_ERROR if none), no `http` extension. */
  const formatForClient = (error: GraphQLError): GraphQLFormattedError => {
    const { http: _status, ...extensions } = error.extensions as Record<string, unknown>;
    return options.formatError(
      { ...error.toJSON(), extensions: { ...extensions, code: extensions.code ?? 'INTERNAL_SERVER_ERROR' } },
      error,
    );
  };

  const callerOf = (connection: Connection) => resolveCaller(connection.authorization, {}, config, sessions);

  /**
   * A hand-written iterator rather than an async generator: a generator cannot be returned while it
   * awaits the next upstream event, so a leaving client would keep its upstream subscription open.
   */
  function federatedSubscribe(args: ExecutionArgs, plan: SubscriptionPlan): FederatedSubscription {
    const context = args.contextValue as OperationContext;
    const variables = (args.variableValues ?? {}) as Record<string, unknown>;
    const events = upstreamFor(plan.subgraph, context.caller).iterate<Record<string, unknown>>({
      query: plan.upstreamQuery,
      variables,
    });
    let finished = false;
    let endWith: (error: GraphQLError) => void = () => {};
    const ended = new Promise<GraphQLError>((resolve) => (endWith = resolve));

    const complete = async (
      event: FormattedExecutionResult<Record<string, unknown>, unknown>,
    ): Promise<SocketResult> => {
      const payload = event.data?.[plan.responseKey] as Record<string, unknown> | null | undefined;
      if (event.errors?.length || !payload || !plan.completionQuery) return event;
      const completion = await options.execute(
        { query: plan.completionQuery, variables: { ...variables, __entityId: payload.id } },
        { caller: context.caller, requestId: currentRequestId() ?? randomUUID(), clientAddress: context.clientAddress },
      );
      const completed = completion.data ? Object.values(completion.data)[0] : null;
      return {
        // The owner's values are the ones at commit time; the rest comes from the other subgraphs.
        data: { [plan.responseKey]: deepMerge(completed, payload) },
        ...(completion.errors?.length ? { errors: completion.errors } : {}),
      };
    };

    const subscription: FederatedSubscription = {
      async next() {
        if (finished) return { done: true, value: undefined };
        try {
          const outcome = await Promise.race([events.next(), ended]);
          if (outcome instanceof GraphQLError) {
            finished = true;
            await events.return?.();
            return { done: false, value: { errors: [outcome] } };
          }
          if (outcome.done) {
            finished = true;
            return { done: true, value: undefined };
          }
          return { done: false, value: await complete(outcome.value) };
        } catch (error) {
          // The owner refused the operation (graphql-ws `error` message, already formatted) or went away for good.
          finished = true;
          const errors = Array.isArray(error)
            ? (error as GraphQLFormattedError[])
            : [new GraphQLError('Subscription failed', { originalError: error instanceof Error ? error : undefined })];
          return { done: false, value: { errors } };
        } finally {
          if (finished) context.connection.subscriptions.delete(subscription);
        }
      },
      async return() {
        finished = true;
        context.connection.subscriptions.delete(subscription);
        await events.return?.();
        return { done: true, value: undefined };
      },
      end: (error) => endWith(error),
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    context.connection.subscriptions.add(subscription);
    return subscription;
  }

  const connections = new Set<Connection>();
  const connectionOf = new WeakMap<object, Connection>();
  const socketsPerAddress = new Map<string, number>();

  const wsServer = new WebSocketServer({
    server: options.httpServer,
    path: '/graphql',
    maxPayload: config.MAX_REQUEST_BYTES,
    verifyClient: ({ req }, accept) => {
      const address = options.clientAddressOf(req);
      const open = socketsPerAddress.get(address) ?? 0;
      if (open >= config.WS_MAX_CONNECTIONS_PER_ADDRESS) {
        accept(
          false,
          429,
          `Too many WebSocket connections from this address: at most ${config.WS_MAX_CONNECTIONS_PER_ADDRESS} (WS_MAX_CONNECTIONS_PER_ADDRESS)`,
        );
        return;
      }
      // Counted until the TCP socket closes, which also covers an upgrade that fails after this point.
      socketsPerAddress.set(address, open + 1);
      req.socket.once('close', () => {
        const left = (socketsPerAddress.get(address) ?? 1) - 1;
        if (left > 0) socketsPerAddress.set(address, left);
        else socketsPerAddress.delete(address);
      });
      accept(true);
    },
  });

  const unwatch = [
    subscriptionsActive.add(() => [[{}, [...connections].reduce((n, c) => n + c.subscriptions.size, 0)]]),
    wsConnections.add(() => [[{}, wsServer.clients.size]]),
  ];

  const server = useServer(
    {
      schema: () => schemas().apiSchema,
      onConnect: async (ctx) => {
        const authorization =
          typeof ctx.connectionParams?.authorization === 'string' ? ctx.connectionParams.authorization : undefined;
        const connection: Connection = {
          authorization,
          clientAddress: options.clientAddressOf(ctx.extra.request),
          subscriptions: new Set(),
        };
        try {
          await callerOf(connection);
        } catch {
          return false; // closes with 4403 Forbidden: the token is invalid or revoked
        }
        connectionOf.set(ctx, connection);
        connections.add(connection);
        return true;
      },
      onClose: (ctx) => {
        const connection = connectionOf.get(ctx);
        if (connection) connections.delete(connection);
      },
      onSubscribe: async (ctx, _id, payload) => {
        const connection = connectionOf.get(ctx)!;
        // This operation is already among ctx.subscriptions.
        if (Object.keys(ctx.subscriptions).length > config.WS_MAX_SUBSCRIPTIONS_PER_CONNECTION) {
          return [
            new GraphQLError(
              `Too many operations on this connection: at most ${config.WS_MAX_SUBSCRIPTIONS_PER_CONNECTION} (WS_MAX_SUBSCRIPTIONS_PER_CONNECTION)`,
              { extensions: { code: 'BAD_USER_INPUT', limit: 'WS_MAX_SUBSCRIPTIONS_PER_CONNECTION' } },
            ),
          ];
        }
        let caller: Caller | null;
        try {
          caller = await callerOf(connection);
        } catch (error) {
          return [error as GraphQLError];
        }
        let document: DocumentNode;
        try {
          document = parse(payload.query, parsing);
        } catch (error) {
          const syntax = error as GraphQLError;
          return [
            new GraphQLError(syntax.message, {
              source: syntax.source,
              positions: syntax.positions,
              extensions: { code: 'GRAPHQL_PARSE_FAILED' },
            }),
          ];
        }
        const variables = payload.variables ?? undefined;
        const context: OperationContext = {
          caller,
          requestId: currentRequestId() ?? randomUUID(),
          clientAddress: connection.clientAddress,
          request: { query: payload.query, variables, operationName: payload.operationName ?? undefined },
          connection,
        };
        const { apiSchema } = schemas();
        const args = {
          schema: apiSchema,
          document,
          operationName: payload.operationName,
          variableValues: variables,
          contextValue: context,
        };
        // Queries and mutations are checked by the HTTP pipeline they run through (execute below).
        if (getOperationAST(document, payload.operationName)?.operation !== 'subscription') return args;
        const invalid = validate(apiSchema, document, validationRules);
        if (invalid.length)
          return invalid.map(
            (error) =>
              new GraphQLError(error.message, {
                nodes: error.nodes,
                extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
              }),
          );
        try {
          limits.check(apiSchema, document, payload.operationName, variables);
        } catch (error) {
          return [error as GraphQLError];
        }
        return args;
      },
      subscribe: (args) => {
        let plan: SubscriptionPlan;
        try {
          plan = schemas().planner.plan(args.document, args.operationName);
        } catch (error) {
          return { errors: [new GraphQLError((error as Error).message, { extensions: { code: 'BAD_USER_INPUT' } })] };
        }
        return federatedSubscribe(args, plan) as AsyncIterableIterator<ExecutionResult>;
      },
      execute: async (args) => {
        const { request, caller, requestId, clientAddress } = args.contextValue as OperationContext;
        return (await options.execute(request, { caller, requestId, clientAddress })) as ExecutionResult;
      },
      onNext: (_ctx, _id, _payload, _args, result) => {
        const { errors, ...rest } = result as SocketResult;
        if (!errors?.length) return undefined;
        return {
          ...rest,
          errors: errors.map((error) => (error instanceof GraphQLError ? formatForClient(error) : error)),
        } as FormattedExecutionResult;
      },
      onError: (_ctx, _id, _payload, errors) => errors.map(formatForClient),
    },
    wsServer,
  );

  /**
   * Logout and expiry end open subscriptions too: every WS_SESSION_CHECK_MS the socket's token is checked
   * again, and when it is refused each of its subscriptions gets that UNAUTHENTICATED error as its last
   * event and completes (the error a client already handles for HTTP and for its next operation); the
   * socket stays open, and every operation on it is refused the same way. While auth's feed cannot confirm
   * sessions (SESSION_UNCONFIRMED) open subscriptions are kept: new operations are refused, and a logout
   * made meanwhile ends them as soon as the feed is read again.
   */
  let checking = false;
  const checkSessions = async () => {
    if (checking) return;
    checking = true;
    try {
      const watched = [...connections].filter(
        (connection) => connection.authorization && connection.subscriptions.size > 0,
      );
      await Promise.all(
        watched.map(async (connection) => {
          try {
            await callerOf(connection);
          } catch (error) {
            const refusal = error as GraphQLError;
            if (refusal.extensions?.code !== 'UNAUTHENTICATED' || refusal.extensions.reason === 'SESSION_UNCONFIRMED')
              return;
            for (const subscription of connection.subscriptions) subscription.end(refusal);
          }
        }),
      );
    } catch (error) {
      logger.warn({ err: error }, 'checking WebSocket sessions failed');
    } finally {
      checking = false;
    }
  };
  const sessionCheck = setInterval(checkSessions, config.WS_SESSION_CHECK_MS);
  sessionCheck.unref();
  logger.debug('graphql-ws subscriptions mounted on /graphql');

  return {
    stop: async () => {
      unwatch.forEach((stopWatching) => stopWatching());
      clearInterval(sessionCheck);
      await server.dispose();
      for (const client of upstreams.values()) await client.dispose();
    },
  };
}

/** Merges `over` onto `base` recursively; `over` wins on scalars. */
function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) merged[key] = deepMerge(base[key], value);
  return merged;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
