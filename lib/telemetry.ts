import { randomUUID } from 'node:crypto';
import type * as Api from '@opentelemetry/api';
import type * as SdkNode from '@opentelemetry/sdk-node';
import type * as SdkTraceBase from '@opentelemetry/sdk-trace-base';
import type * as OtlpHttp from '@opentelemetry/exporter-trace-otlp-http';
import type * as HttpInst from '@opentelemetry/instrumentation-http';
import type * as UndiciInst from '@opentelemetry/instrumentation-undici';
import type * as ExpressInst from '@opentelemetry/instrumentation-express';
import type * as PgInst from '@opentelemetry/instrumentation-pg';
import type * as GraphqlInst from '@opentelemetry/instrumentation-graphql';
import type { IncomingMessage } from 'node:http';
import { currentRequestId, REQUEST_ID_HEADER } from './logger';

/**
 * OpenTelemetry traces, configured by the standard OTEL_* variables and off unless an OTLP endpoint is set
 * (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; OTEL_SDK_DISABLED=true turns it off
 * again). Off, neither the SDK nor any instrumentation is loaded and every function here returns at once.
 *
 * Instrumentation patches http, express, pg and graphql as they are loaded, so this module is imported
 * before anything else by each process entry (gateway/index.ts, sandbox/index.ts, and lib/subgraph-server.ts,
 * the first import of every subgraph's index.ts). A process names itself (`nameService`) once it knows who
 * it is; spans wait for the name before they are exported, and OTEL_SERVICE_NAME, when set, wins.
 */

/** The request id (lib/logger.ts) on every span started while serving a request. */
export const REQUEST_ID_ATTRIBUTE = 'request.id';

/** What an outbox message keeps of the work that wrote it (lib/outbox.ts): its request id and W3C trace context. */
export type TraceCarrier = Record<string, string>;

// This module is the one place besides lib/config.ts that reads the environment: the SDK reads the
// standard OTEL_* variables itself, and whether to load it at all must be known before anything loads.
const env = process.env;
const tracingEnabled =
  Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT) &&
  env.OTEL_SDK_DISABLED !== 'true';

let api: typeof Api | undefined;
let resolveName: (name: string) => void = () => undefined;
let shutdown: () => Promise<void> = async () => undefined;

if (tracingEnabled) startTracing();

function startTracing(): void {
  // Loaded only when tracing is on (the type imports above leave nothing at run time).
  api = require('@opentelemetry/api') as typeof Api;
  const { NodeSDK, resources } = require('@opentelemetry/sdk-node') as typeof SdkNode;
  const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base') as typeof SdkTraceBase;
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof OtlpHttp;
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof HttpInst;
  const { UndiciInstrumentation } = require('@opentelemetry/instrumentation-undici') as typeof UndiciInst;
  const { ExpressInstrumentation, ExpressLayerType } =
    require('@opentelemetry/instrumentation-express') as typeof ExpressInst;
  const { PgInstrumentation } = require('@opentelemetry/instrumentation-pg') as typeof PgInst;
  const { GraphQLInstrumentation } = require('@opentelemetry/instrumentation-graphql') as typeof GraphqlInst;

  const serviceName = new Promise<string>((resolve) => (resolveName = resolve));
  const number = (name: string) => (env[name] ? Number(env[name]) : undefined);
  const sdk = new NodeSDK({
    // Before the env detector, so OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win.
    resourceDetectors: [
      { detect: () => ({ attributes: { 'service.name': serviceName } }) },
      resources.envDetector,
      resources.processDetector,
      resources.hostDetector,
    ],
    spanProcessors: [
      {
        onStart: (span) => {
          const requestId = currentRequestId();
          if (requestId) span.setAttribute(REQUEST_ID_ATTRIBUTE, requestId);
        },
        onEnd: () => undefined,
        forceFlush: async () => undefined,
        shutdown: async () => undefined,
      },
      // OTLP over HTTP with JSON bodies; OTEL_EXPORTER_OTLP_* (endpoint, headers, timeout) and OTEL_BSP_* apply.
      new BatchSpanProcessor(new OTLPTraceExporter(), {
        scheduledDelayMillis: number('OTEL_BSP_SCHEDULE_DELAY'),
        maxQueueSize: number('OTEL_BSP_MAX_QUEUE_SIZE'),
        maxExportBatchSize: number('OTEL_BSP_MAX_EXPORT_BATCH_SIZE'),
        exportTimeoutMillis: number('OTEL_BSP_EXPORT_TIMEOUT'),
      }),
    ],
    // Traces only: metrics are prom-client's (lib/metrics.ts), logs are pino's.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        // Health checks and scrapes come every few seconds and say nothing about a request.
        ignoreIncomingRequestHook: (request) => /^\/(health|metrics)(\?|$)/.test(request.url ?? ''),
        // Calls made outside any traced work (health checks, feed polls) would each be a trace of their own.
        requireParentforOutgoingSpans: true,
        // The server span starts before any handler: the request id is given its value here (the one the
        // caller sent, else a new one the handlers then use), so the span carries it too.
        startIncomingSpanHook: (request: IncomingMessage) => {
          request.headers[REQUEST_ID_HEADER] ||= randomUUID();
          return { [REQUEST_ID_ATTRIBUTE]: String(request.headers[REQUEST_ID_HEADER]) };
        },
      }),
      // fetch and undici: InternalClient, the gateway's subgraph fetches, xendit-node, WhatsApp.
      new UndiciInstrumentation({ requireParentforSpans: true }),
      // Route names on server spans and a span per route handler; every middleware a span would be noise.
      new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE, ExpressLayerType.ROUTER] }),
      // Statements inside some traced work only: the pollers' (outbox, sweeps) would each be a trace of their own.
      new PgInstrumentation({ requireParentSpan: true }),
      // parse, validate and execute; a span per field resolver would drown the rest.
      new GraphQLInstrumentation({ ignoreResolveSpans: true }),
    ],
  });
  sdk.start();
  shutdown = () => sdk.shutdown();
}

/** Names this process's spans (`service.name`) unless OTEL_SERVICE_NAME did. */
export function nameService(name: string): void {
  resolveName(name);
}

/** Sends the spans not yet exported; a stopping process calls it last. */
export function flushTraces(): Promise<void> {
  return shutdown();
}

/** The current request id and trace context, for work that goes on later elsewhere (an outbox message); null when none. */
export function traceCarrier(): TraceCarrier | null {
  const carrier: TraceCarrier = {};
  const requestId = currentRequestId();
  if (requestId) carrier.requestId = requestId;
  api?.propagation.inject(api.context.active(), carrier);
  return Object.keys(carrier).length ? carrier : null;
}

/** Links the current span to the trace a carrier kept: later work on something (a callback) to the work that made it. */
export function linkToTrace(carrier: TraceCarrier | null | undefined): void {
  if (!api || !carrier) return;
  const { context, propagation, trace } = api;
  const linked = trace.getSpanContext(propagation.extract(context.active(), carrier));
  if (linked) trace.getActiveSpan()?.addLink({ context: linked });
}

/**
 * Runs `work` in a span of its own whose parent is the trace context a carrier kept (the same trace as the
 * work that wrote it); without tracing, or without a kept context, just runs it.
 */
export async function inSpanOf<T>(
  carrier: TraceCarrier | null | undefined,
  name: string,
  attributes: Record<string, string | number>,
  work: () => Promise<T>,
): Promise<T> {
  if (!api) return work();
  const { context, propagation, trace, SpanStatusCode, SpanKind } = api;
  const parent = propagation.extract(context.active(), carrier ?? {});
  return trace
    .getTracer('group-buying')
    .startActiveSpan(name, { kind: SpanKind.PRODUCER, attributes }, parent, async (span) => {
      try {
        return await work();
      } catch (error) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
        throw error;
      } finally {
        span.end();
      }
    });
}
