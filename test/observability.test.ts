import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { startTestStack, type TestStack, TEST_CALLBACK_TOKEN, TEST_INTERNAL_TOKEN } from './support/e2e';
import { eventually } from './support/eventually';
import { metricValue, scrapeMetrics, sumOf } from './support/metrics';
import { DEMO_PRODUCTS } from '../lib/demo-data';
import { newId } from '../lib/ids';
import type { Caller } from '../lib/internal-auth';
import { INTERNAL_TOKEN_HEADER } from '../lib/internal-auth';
import { REQUEST_ID_HEADER } from '../lib/logger';
import { REQUEST_ID_ATTRIBUTE } from '../lib/telemetry';
import { createAddress } from '../subgraphs/order/test-support';

/** A span as the OTLP/HTTP JSON exporter posts it, with its process's service.name. */
interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  links: { traceId: string; spanId: string }[];
}

type OtlpAttribute = { key: string; value: Record<string, unknown> };
const attributesOf = (list: OtlpAttribute[] = []) =>
  Object.fromEntries(list.map(({ key, value }) => [key, Object.values(value)[0]]));

/** A local OTLP/HTTP trace receiver: accepts the exporter's JSON posts to /v1/traces and keeps every span. */
async function startReceiver() {
  const spans: ReceivedSpan[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !req.headers['content-type']?.includes('json')) {
        res.writeHead(415).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans: {
          resource: { attributes: OtlpAttribute[] };
          scopeSpans: {
            spans: (Omit<ReceivedSpan, 'service' | 'attributes'> & { attributes?: OtlpAttribute[] })[];
          }[];
        }[];
      };
      for (const { resource, scopeSpans } of body.resourceSpans) {
        const service = String(attributesOf(resource.attributes)['service.name']);
        for (const { spans: batch } of scopeSpans)
          for (const span of batch)
            spans.push({ ...span, service, attributes: attributesOf(span.attributes), links: span.links ?? [] });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    spans,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const PLACE_ORDER = `mutation PlaceOrder($input: CreateOrderInput!) {
  createOrder(input: $input) { paymentUrl order { id status } }
}`;
const ORDER_SUBGRAPHS = ['order', 'product', 'address', 'warehouse', 'payment'] as const;
const SERVER = 2;
const [shirtM] = DEMO_PRODUCTS[0].variants.map((v) => v.id as string);

describe('traces and metrics', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let stack: TestStack;
  const buyer: Caller = { userId: newId(), role: 'BUYER' };
  const requestId = randomUUID();
  let orderTrace: ReceivedSpan[] = [];
  let paymentUrl: string;
  let orderId: string;

  beforeAll(async () => {
    receiver = await startReceiver();
    // Tracing for this stack only, with a short batch delay so spans arrive within a poll or two.
    stack = await startTestStack({
      subgraphs: [...ORDER_SUBGRAPHS],
      sandbox: true,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '100' },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await receiver?.close();
  });

  const placeOrder = async (input: Record<string, unknown>, headers: Record<string, string> = {}) => {
    const response = await fetch(`${stack.gatewayUrl}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [INTERNAL_TOKEN_HEADER]: TEST_INTERNAL_TOKEN,
        'x-user-id': buyer.userId,
        'x-user-role': buyer.role,
        ...headers,
      },
      body: JSON.stringify({ query: PLACE_ORDER, operationName: 'PlaceOrder', variables: { input } }),
    });
    return (await response.json()) as { data?: any; errors?: { extensions?: { code?: string } }[] };
  };

  const parentOf = (trace: ReceivedSpan[], span: ReceivedSpan) => trace.find((s) => s.spanId === span.parentSpanId);
  const serverSpans = (trace: ReceivedSpan[], service: string) =>
    trace.filter((s) => s.service === service && s.kind === SERVER);

  it('follows one createOrder as one trace: gateway → order → product, address, warehouse, payment → Xendit sandbox', async () => {
    const addressId = await createAddress(stack, buyer);
    const placed = await placeOrder(
      { addressId, items: [{ variantId: shirtM, quantity: 1 }] },
      { [REQUEST_ID_HEADER]: requestId },
    );
    expect(placed.errors).toBeUndefined();
    ({ paymentUrl } = placed.data.createOrder);
    orderId = placed.data.createOrder.order.id;

    const root = await eventually('the gateway span of the request', async () =>
      receiver.spans.find(
        (s) => s.service === 'gateway' && s.kind === SERVER && s.attributes[REQUEST_ID_ATTRIBUTE] === requestId,
      ),
    );
    expect(root.parentSpanId ?? '').toBe('');
    const wanted = ['gateway', ...ORDER_SUBGRAPHS, 'sandbox'];
    orderTrace = await eventually('a server span of every service in the trace', async () => {
      const trace = receiver.spans.filter((s) => s.traceId === root.traceId);
      return wanted.every((service) => serverSpans(trace, service).length) && trace;
    });

    // Every hop carried traceparent: each service's server span hangs under a client span of its caller.
    const callerOf = (service: string) =>
      serverSpans(orderTrace, service).map((span) => parentOf(orderTrace, span)?.service);
    expect(callerOf('order')).toContain('gateway');
    for (const callee of ['product', 'address', 'warehouse', 'payment']) expect(callerOf(callee)).toContain('order');
    expect(callerOf('sandbox')).toContain('payment');
    expect(
      serverSpans(orderTrace, 'sandbox')
        .map((s) => s.attributes['http.route'] ?? s.name)
        .join(),
    ).toMatch(/invoices/);
    // The gateway's own spans (@apollo/gateway's through @opentelemetry/api) and PostgreSQL statements.
    expect(orderTrace.some((s) => s.service === 'gateway' && s.name === 'gateway.fetch')).toBe(true);
    expect(orderTrace.filter((s) => s.attributes['db.system.name'] === 'postgresql').map((s) => s.service)).toEqual(
      expect.arrayContaining(['order', 'warehouse', 'payment']),
    );
    // The request id is on the spans of every service of ours (the sandbox stands for Xendit, which gets none).
    for (const service of ['gateway', ...ORDER_SUBGRAPHS])
      expect(
        orderTrace.filter((s) => s.service === service).every((s) => s.attributes[REQUEST_ID_ATTRIBUTE] === requestId),
      ).toBe(true);
  });

  it("links the later payment callback's work to the createOrder trace, and its outbox delivery continues that work", async () => {
    await stack.payInvoice(paymentUrl);
    const orderTraceId = orderTrace[0].traceId;
    const callback = await eventually('the payment callback span', async () =>
      receiver.spans.find(
        (s) =>
          s.service === 'payment' &&
          s.kind === SERVER &&
          s.attributes['http.route'] === '/api/webhooks/xendit/invoice' &&
          s.traceId !== orderTraceId,
      ),
    );
    const webhookTrace = () => receiver.spans.filter((s) => s.traceId === callback.traceId);
    expect(webhookTrace().some((s) => s.links.some((link) => link.traceId === orderTraceId))).toBe(true);
    // payment → order (payment status) through the outbox: the delivery is a span of the callback's trace,
    // and order's work under it.
    const delivered = await eventually('order serving the outbox delivery in the callback trace', async () =>
      serverSpans(webhookTrace(), 'order').find(
        (s) =>
          parentOf(webhookTrace(), s)?.service === 'payment' &&
          s.attributes['http.route'] === '/api/orders/payment-status',
      ),
    );
    const client = parentOf(webhookTrace(), delivered)!;
    expect(parentOf(webhookTrace(), client)?.name).toBe('outbox deliver order');
  });

  it('serves Prometheus metrics behind the internal token on the gateway and every subgraph', async () => {
    for (const url of [stack.gatewayUrl, stack.serviceUrl('payment')]) {
      expect((await fetch(`${url}/metrics`)).status).toBe(401);
      expect((await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
      const scraped = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TEST_INTERNAL_TOKEN}` } });
      expect(scraped.status).toBe(200);
      expect(scraped.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    }

    const gateway = await scrapeMetrics(stack.gatewayUrl);
    expect(
      sumOf(gateway, 'graphql_operation_duration_seconds_count', {
        operation: 'PlaceOrder',
        type: 'mutation',
        outcome: 'ok',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sumOf(gateway, 'subgraph_fetch_duration_seconds_count', { subgraph: 'order', outcome: 'ok' }),
    ).toBeGreaterThan(0);
    expect(sumOf(gateway, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(sumOf(gateway, 'graphql_ws_connections')).toBe(0);

    // A refusal is counted by operation and code.
    const refusedBefore = sumOf(gateway, 'graphql_errors_total', { operation: 'PlaceOrder', code: 'BAD_USER_INPUT' });
    expect((await placeOrder({ addressId: newId(), items: [] })).errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(
      await metricValue(stack, 'gateway', 'graphql_errors_total', { operation: 'PlaceOrder', code: 'BAD_USER_INPUT' }),
    ).toBe(refusedBefore + 1);

    const order = await scrapeMetrics(stack.serviceUrl('order'));
    expect(sumOf(order, 'sql_statements_total')).toBeGreaterThan(0);
    expect(sumOf(order, 'db_pool_max_connections')).toBeGreaterThan(0);
    expect(
      order
        .filter((s) => s.name === 'db_pool_connections')
        .map((s) => s.labels.state)
        .sort(),
    ).toEqual(['idle', 'pending', 'used']);
    expect(
      sumOf(order, 'http_request_duration_seconds_count', { route: '/api/orders/payment-status', status: '200' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('counts webhook outcomes and shows the outbox: deliveries, the backlog for a service that is down, its age', async () => {
    const invoice = '/api/webhooks/xendit/invoice';
    expect(
      await metricValue(stack, 'payment', 'webhook_callbacks_total', { route: invoice, outcome: 'accepted' }),
    ).toBeGreaterThanOrEqual(1);
    const refusedBefore = await metricValue(stack, 'payment', 'webhook_callbacks_total', {
      route: invoice,
      outcome: 'unauthenticated',
    });
    const forged = await fetch(`${stack.gatewayUrl}${invoice}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-callback-token': `${TEST_CALLBACK_TOKEN}-forged` },
      body: JSON.stringify({ id: 'inv-forged', external_id: orderId, status: 'PAID' }),
    });
    expect(forged.status).toBe(401);
    expect(
      await metricValue(stack, 'payment', 'webhook_callbacks_total', { route: invoice, outcome: 'unauthenticated' }),
    ).toBe(refusedBefore + 1);

    const payment = await scrapeMetrics(stack.serviceUrl('payment'));
    expect(
      sumOf(payment, 'outbox_deliveries_total', { destination: 'order', outcome: 'delivered' }),
    ).toBeGreaterThanOrEqual(1);
    // notification is not part of this stack: the buyer's PAYMENT_SUCCEEDED notice waits, and ages.
    expect(sumOf(payment, 'outbox_backlog_messages', { destination: 'notification' })).toBeGreaterThanOrEqual(1);
    expect(sumOf(payment, 'outbox_oldest_undelivered_age_seconds', { destination: 'notification' })).toBeGreaterThan(0);
    expect(sumOf(payment, 'outbox_backlog_messages', { destination: 'order' })).toBe(0);
    expect(sumOf(payment, 'outbox_dead_letters')).toBe(0);
  });
});
