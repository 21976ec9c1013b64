import http from 'node:http';
import { WebSocketServer, WebSocket } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { createClient, type Client } from 'graphql-ws';
import {
  GraphQLError,
  GraphQLSchema,
  parse,
  print,
  specifiedRules,
  validate,
  type ExecutionArgs,
  type ExecutionResult,
  type FormattedExecutionResult,
  type GraphQLFormattedError,
} from 'graphql';
import { Supergraph } from '@apollo/federation-internals';
import { Config } from '../lib/config';
import { Logger } from '../lib/logger';
import { Caller, INTERNAL_TOKEN_HEADER, identityHeaders } from '../lib/internal-auth';
import { isSubgraphName } from '../lib/services';
import { readSupergraphConfig } from './compose';
import { operationLimits } from './limits';
import { resolveCaller } from './identity';
import { SessionDirectory } from './session-directory';
import { SubscriptionPlan, SubscriptionPlanner } from './subscription-plan';

/** Runs a query or mutation through the gateway's federated path for a caller. */
export type FederatedExecutor = (
  query: string,
  variables: Record<string, unknown> | undefined,
  caller: Caller | null,
) => Promise<ExecutionResult>;

interface SubscriptionContext {
  caller: Caller | null;
}

/**
 * graphql-ws on the gateway (DESIGN.md §6). @apollo/gateway cannot execute subscriptions, so the
 * gateway subscribes to the owning subgraph over graphql-ws, and completes every event with fields of
 * other subgraphs through its own federated query path. Upstream sockets are shared per subgraph and
 * identity and close when their last subscriber leaves.
 */
export async function mountSubscriptions(options: {
  httpServer: http.Server;
  config: Config;
  logger: Logger;
  sessions: SessionDirectory;
  supergraphSdl: string;
  execute: FederatedExecutor;
}) {
  const { config, logger, sessions } = options;
  const apiSchema: GraphQLSchema = Supergraph.build(options.supergraphSdl).apiSchema().toGraphQLJSSchema();
  const planner = new SubscriptionPlanner(apiSchema, readSupergraphConfig());
  const rules = [...specifiedRules, ...operationLimits(config)];
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

  /**
   * A hand-written iterator rather than an async generator: a generator cannot be returned while it
   * awaits the next upstream event, so a leaving client would keep its upstream subscription open.
   */
  function federatedSubscribe(args: ExecutionArgs, plan: SubscriptionPlan): AsyncIterableIterator<ExecutionResult> {
    const { caller } = args.contextValue as SubscriptionContext;
    const variables = (args.variableValues ?? {}) as Record<string, unknown>;
    const events = upstreamFor(plan.subgraph, caller).iterate<Record<string, unknown>>({
      query: plan.upstreamQuery,
      variables,
    });
    let finished = false;

    const complete = async (event: FormattedExecutionResult<Record<string, unknown>, unknown>): Promise<ExecutionResult> => {
      const payload = event.data?.[plan.responseKey] as Record<string, unknown> | null | undefined;
      if (event.errors?.length || !payload || !plan.completionQuery) return asExecutionResult(event);
      const completion = await options.execute(plan.completionQuery, { ...variables, __entityId: payload.id }, caller);
      const completed = completion.data ? Object.values(completion.data)[0] : null;
      return asExecutionResult({
        // The owner's values are the ones at commit time; the rest comes from the other subgraphs.
        data: { [plan.responseKey]: deepMerge(completed, payload) },
        errors: completion.errors,
      });
    };

    return {
      async next() {
        if (finished) return { done: true, value: undefined };
        try {
          const event = await events.next();
          if (event.done) {
            finished = true;
            return { done: true, value: undefined };
          }
          return { done: false, value: await complete(event.value) };
        } catch (error) {
          // The owner refused the operation (graphql-ws `error` message) or went away for good.
          finished = true;
          const upstreamErrors = Array.isArray(error) ? error : [{ message: (error as Error)?.message ?? 'Subscription failed' }];
          return { done: false, value: asExecutionResult({ errors: upstreamErrors }) };
        }
      },
      async return() {
        finished = true;
        await events.return?.();
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  const wsServer = new WebSocketServer({ server: options.httpServer, path: '/graphql' });
  const callers = new WeakMap<object, Caller | null>();
  const server = useServer(
    {
      schema: apiSchema,
      onConnect: async (ctx) => {
        const authorization = ctx.connectionParams?.authorization;
        try {
          const caller = await resolveCaller(
            typeof authorization === 'string' ? authorization : undefined,
            { [INTERNAL_TOKEN_HEADER]: undefined },
            config,
            sessions,
          );
          callers.set(ctx, caller);
          return true;
        } catch {
          return false; // closes with 4403 Forbidden: the token is invalid or revoked
        }
      },
      onSubscribe: (ctx, _id, payload) => {
        let document;
        try {
          document = parse(payload.query);
        } catch (error) {
          return [error as GraphQLError];
        }
        const errors = validate(apiSchema, document, rules);
        if (errors.length) return errors;
        return {
          schema: apiSchema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables ?? undefined,
          contextValue: { caller: callers.get(ctx) ?? null } satisfies SubscriptionContext,
        };
      },
      subscribe: (args) => {
        let plan: SubscriptionPlan;
        try {
          plan = planner.plan(args.document, args.operationName);
        } catch (error) {
          return { errors: [new GraphQLError((error as Error).message, { extensions: { code: 'BAD_USER_INPUT' } })] };
        }
        return federatedSubscribe(args, plan);
      },
      execute: async (args) => {
        const { caller } = args.contextValue as SubscriptionContext;
        return options.execute(print(args.document), args.variableValues as Record<string, unknown>, caller);
      },
    },
    wsServer,
  );
  logger.debug('graphql-ws subscriptions mounted on /graphql');

  return {
    stop: async () => {
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

/** graphql-ws serialises GraphQLError instances; upstream and completion errors arrive formatted. */
function asExecutionResult(result: { data?: unknown; errors?: readonly GraphQLFormattedError[] }): ExecutionResult {
  return {
    ...(result.data !== undefined ? { data: result.data as ExecutionResult['data'] } : {}),
    ...(result.errors?.length
      ? {
          errors: result.errors.map(
            (e) => new GraphQLError(e.message, { extensions: e.extensions, path: e.path as (string | number)[] | undefined }),
          ),
        }
      : {}),
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
