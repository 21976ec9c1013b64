import type express from 'express';
import type { ApolloServerPlugin } from '@apollo/server';
import { collectDefaultMetrics, Counter, Gauge, Histogram, register } from 'prom-client';
import { INTERNAL_TOKEN_HEADER, secretsEqual } from './internal-auth';
import { sendError } from './rest';

/**
 * Prometheus metrics of a process, all on prom-client's default `register`, so a module defines its own
 * metric where the thing happens and it is served without wiring. Labels never carry ids: operation names
 * and error codes are bounded (`bounded`), routes are express's route patterns, services are subgraph names.
 */

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const httpRequestDuration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'HTTP requests served, by method, route pattern and status',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: DURATION_BUCKETS,
});

const graphqlOperationDuration = new Histogram({
  name: 'graphql_operation_duration_seconds',
  help: 'GraphQL operations served over HTTP, by operation name, type and outcome (ok, or error when any error was answered)',
  labelNames: ['operation', 'type', 'outcome'] as const,
  buckets: DURATION_BUCKETS,
});

export const graphqlErrors = new Counter({
  name: 'graphql_errors_total',
  help: 'Errors answered to GraphQL operations, by operation name and extensions.code',
  labelNames: ['operation', 'code'] as const,
});

export const subgraphFetchDuration = new Histogram({
  name: 'subgraph_fetch_duration_seconds',
  help: "The gateway's fetches from subgraphs, by subgraph and outcome (ok, error: an HTTP error or no answer)",
  labelNames: ['subgraph', 'outcome'] as const,
  buckets: DURATION_BUCKETS,
});

export const sqlStatements = new Counter({
  name: 'sql_statements_total',
  help: 'SQL statements sent to PostgreSQL through the ORM',
});

export const outboxDeliveries = new Counter({
  name: 'outbox_deliveries_total',
  help: 'Outbox delivery attempts, by destination service and outcome (delivered, retry, dead)',
  labelNames: ['destination', 'outcome'] as const,
});

export const webhookCallbacks = new Counter({
  name: 'webhook_callbacks_total',
  help: 'Xendit callbacks received, by route and outcome (accepted, unauthenticated, malformed, refused, failed)',
  labelNames: ['route', 'outcome'] as const,
});

export const eventListenerReconnects = new Counter({
  name: 'event_listener_reconnects_total',
  help: 'LISTEN connections re-established after they were lost (events sent meanwhile were re-read or lost)',
});

/** What a running server reports at scrape time: label values and a value per series. */
type Sampler = () => Promise<[Record<string, string>, number][]> | [Record<string, string>, number][];

/**
 * A gauge read when scraped, summing what every running server of the process registered (tests may run
 * several servers in one process); `add` answers the function that unregisters the sampler.
 */
function sampledGauge(name: string, help: string, labelNames: string[] = []) {
  const samplers = new Set<Sampler>();
  new Gauge({
    name,
    help,
    labelNames,
    async collect() {
      this.reset();
      const all = await Promise.all([...samplers].map(async (sample) => sample()));
      for (const [labels, value] of all.flat()) this.inc(labels, value);
    },
  });
  return {
    add(sampler: Sampler): () => void {
      samplers.add(sampler);
      return () => samplers.delete(sampler);
    },
  };
}

export const dbPoolConnections = sampledGauge(
  'db_pool_connections',
  "The process's PostgreSQL pool: connections in use, idle, and callers waiting for one (pending)",
  ['state'],
);
export const dbPoolMax = sampledGauge('db_pool_max_connections', 'The size limit of the PostgreSQL pool');
export const outboxBacklog = sampledGauge(
  'outbox_backlog_messages',
  'Outbox messages not yet delivered (dead letters excluded), by destination',
  ['destination'],
);
export const outboxOldestAge = sampledGauge(
  'outbox_oldest_undelivered_age_seconds',
  'Age of the oldest outbox message still waiting for delivery (dead letters excluded), by destination',
  ['destination'],
);
export const outboxDeadLetters = sampledGauge(
  'outbox_dead_letters',
  'Outbox messages their destination refused (400/409/422), waiting for an operator, by destination',
  ['destination'],
);
export const subscriptionsActive = sampledGauge(
  'graphql_subscriptions_active',
  'GraphQL subscriptions open over graphql-ws',
);
export const wsConnections = sampledGauge('graphql_ws_connections', 'graphql-ws sockets open');

let defaultsCollected = false;

/** Process metrics (CPU, memory, event-loop lag, GC), once per process. */
function collectProcessMetrics(): void {
  if (defaultsCollected) return;
  defaultsCollected = true;
  collectDefaultMetrics();
}

/**
 * At most this many distinct values of a client-chosen label (operation names, error codes) per process;
 * the rest are `other`, so a client inventing names cannot grow the series without bound.
 */
const MAX_DISTINCT = 200;
const seenValues = new Map<string, Set<string>>();

export function bounded(kind: string, value: string | null | undefined, pattern = /^[_A-Za-z][_0-9A-Za-z]{0,99}$/) {
  if (!value) return kind === 'operation' ? 'anonymous' : 'none';
  let seen = seenValues.get(kind);
  if (!seen) seenValues.set(kind, (seen = new Set()));
  if (seen.has(value)) return value;
  if (seen.size >= MAX_DISTINCT || !pattern.test(value)) return 'other';
  seen.add(value);
  return value;
}

/** Times every request by its route pattern (`/api/orders/:id`), or `unmatched` when no route took it. */
export function httpMetrics(): express.RequestHandler {
  return (req, res, next) => {
    const end = httpRequestDuration.startTimer();
    res.once('finish', () => {
      const route = req.route ? `${req.baseUrl}${(req.route as { path: string }).path}` : req.baseUrl || 'unmatched';
      end({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  };
}

/** Times each GraphQL operation served over HTTP and counts its errors by code. */
export function graphqlMetricsPlugin(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      const end = graphqlOperationDuration.startTimer();
      return {
        async willSendResponse({ operationName, request, operation, response, errors: requestErrors }) {
          const body = response.body;
          const errors = (body.kind === 'single' ? body.singleResult.errors : undefined) ?? requestErrors ?? [];
          const name = bounded('operation', operationName ?? request.operationName);
          for (const error of errors)
            graphqlErrors.inc({ operation: name, code: bounded('code', String(error.extensions?.code ?? '')) });
          end({ operation: name, type: operation?.operation ?? 'unknown', outcome: errors.length ? 'error' : 'ok' });
        },
      };
    },
  };
}

/**
 * `GET /metrics` in Prometheus text, behind the internal token: in `x-internal-token`, or as a Bearer
 * credential (what Prometheus's `authorization` scrape setting sends).
 */
export function mountMetrics(app: express.Express, internalToken: string): void {
  collectProcessMetrics();
  app.get('/metrics', async (req, res) => {
    const bearer = /^Bearer (.+)$/.exec(req.header('authorization') ?? '')?.[1];
    if (!secretsEqual(req.header(INTERNAL_TOKEN_HEADER) ?? bearer, internalToken)) {
      sendError(res, 401, 'UNAUTHENTICATED', 'Metrics need the internal token');
      return;
    }
    res.set('content-type', register.contentType).send(await register.metrics());
  });
}
