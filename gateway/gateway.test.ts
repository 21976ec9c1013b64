import fs from 'node:fs';
import path from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { startTestStack, type TestStack, TEST_INTERNAL_TOKEN } from '../test/support/e2e';
import { metricValue } from '../test/support/metrics';
import { DEMO_CATEGORIES, DEMO_FACTORIES } from '../lib/demo-data';
import { newId } from '../lib/ids';
import { DEFAULT_PAGE_SIZE } from '../lib/pagination';

describe('gateway', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ subgraphs: ['product', 'factory'], env: { LOG_LEVEL: 'debug' } });
  });
  afterAll(() => stack?.stop());

  it('serves the Sandbox explorer landing page in development', async () => {
    const response = await fetch(`${stack.gatewayUrl}/graphql`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/sandbox/i);
    const root = await fetch(`${stack.gatewayUrl}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/graphql');
  });

  it('answers 503 to a Xendit callback while payment is unreachable, so Xendit retries', async () => {
    const response = await fetch(`${stack.gatewayUrl}/api/webhooks/xendit/invoice`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-callback-token': 'whatever' },
      body: JSON.stringify({ id: 'inv-1', status: 'PAID' }),
    });
    expect(response.status).toBe(503);
    expect((await response.json()).error.code).toBe('INTERNAL_SERVER_ERROR');
  });

  it('reports a subgraph that stopped answering in /health, and recovers', async () => {
    const health = async () => {
      const response = await fetch(`${stack.gatewayUrl}/health`);
      const body = (await response.json()) as { subgraphs: Record<string, string> };
      // 200 exactly when every subgraph of the supergraph answers (this stack runs only some of them).
      expect(response.status === 200).toBe(Object.values(body.subgraphs).every((state) => state === 'ok'));
      return body.subgraphs;
    };
    expect((await health()).product).toBe('ok');
    await stack.stack.kill('product');
    expect((await health()).product).toBe('unreachable');
    await stack.stack.startOne('product');
    expect((await health()).product).toBe('ok');
  });

  it('passes its request id gateway → product → factory', async () => {
    const requestId = `trace-${Date.now()}`;
    const owner = DEMO_FACTORIES[0];
    const response = await fetch(`${stack.gatewayUrl}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-request-id': requestId,
        'x-internal-token': TEST_INTERNAL_TOKEN,
        'x-user-id': owner.ownerId,
        'x-user-role': 'FACTORY_OWNER',
      },
      body: JSON.stringify({
        query: `mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }`,
        variables: {
          input: {
            factoryId: owner.id,
            categoryId: DEMO_CATEGORIES[0].id,
            name: 'Traced product',
            basePrice: 1000,
            variants: [{ sku: `TRACE-${Date.now()}`, name: 'One', price: 1000 }],
          },
        },
      }),
    });
    expect((await response.json()).errors).toBeUndefined();
    // product asked factory for the owner while serving this request: factory logged the same id.
    const factoryLog = fs.readFileSync(path.join(stack.logDir, 'factory.log'), 'utf8');
    const lines = factoryLog.split('\n').filter((line) => line.includes(requestId));
    expect(lines.some((line) => line.includes('/api/factories/'))).toBe(true);
  });

  it('sends identical reads one caller has in flight together to the subgraph once, and never shares across callers', async () => {
    const fetchesOfProduct = () => metricValue(stack, 'product', 'graphql_operation_duration_seconds_count');
    const query = `{ products(first: 3) { edges { node { id name factory { name } } } } }`;
    const buyer = { userId: newId(), role: 'BUYER' as const };
    const before = await fetchesOfProduct();
    const answers = await Promise.all(Array.from({ length: 20 }, () => stack.graphql(query, {}, { caller: buyer })));
    const sharedFetches = (await fetchesOfProduct()) - before;
    expect(answers.every((answer) => !answer.errors && JSON.stringify(answer) === JSON.stringify(answers[0]))).toBe(
      true,
    );
    expect(answers[0].data.products.edges).toHaveLength(3);
    expect(sharedFetches).toBeLessThan(20);

    // Twenty different buyers at once: twenty fetches, whatever overlaps.
    const beforeMany = await fetchesOfProduct();
    await Promise.all(
      Array.from({ length: 20 }, () => stack.graphql(query, {}, { caller: { userId: newId(), role: 'BUYER' } })),
    );
    expect((await fetchesOfProduct()) - beforeMany).toBe(20);
  });

  describe('operation limits, before any subgraph is called', () => {
    /** products → factory → products: two pages nested, the inner one with every variant. */
    const NESTED = `query($n: Int) { products(first: $n) { edges { node { id factory { products(first: $n) { edges { node { id variants { id } } } } } } } } }`;
    const MAX_LIST_SIZE = 100;
    /** The worst case of NESTED for a page size: each object 1, edges × page, variants × MAX_LIST_SIZE. */
    const nestedCost = (page: number) => 1 + page * (1 + 1 + 1 + (1 + page * (1 + 1 + MAX_LIST_SIZE)));
    const subgraphCalls = async () =>
      (await metricValue(stack, 'product', 'graphql_operation_duration_seconds_count')) +
      (await metricValue(stack, 'factory', 'graphql_operation_duration_seconds_count'));
    const post = async (query: string, variables?: Record<string, unknown>) => {
      const response = await fetch(`${stack.gatewayUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, body: (await response.json()) as { data?: any; errors?: any[] } };
    };
    /** The answer to `query` over graphql-ws on the gateway's socket. */
    const overSocket = async (query: string, variables?: Record<string, unknown>) => {
      const client: Client = createClient({
        url: `${stack.gatewayUrl.replace('http', 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
      });
      try {
        return await new Promise<{ data?: any; errors?: any[] }>((resolve, reject) => {
          let result: { data?: any; errors?: any[] } = {};
          client.subscribe(
            { query, variables },
            {
              next: (value) => (result = value as typeof result),
              // Refused before it ran: the protocol's `error` message carries the errors.
              error: (error) => (Array.isArray(error) ? resolve({ errors: error }) : reject(error)),
              complete: () => resolve(result),
            },
          );
        });
      } finally {
        await client.dispose();
      }
    };

    it('charges `first: $n` what it can return, and refuses a costly variable with 400 before any subgraph is called', async () => {
      const small = await post(NESTED, { n: 2 });
      expect(small.status).toBe(200);
      expect(small.body.errors).toBeUndefined();
      expect(small.body.data.products.edges).toHaveLength(2);

      const before = await subgraphCalls();
      const huge = await post(NESTED, { n: 1_000_000 });
      expect(huge.status).toBe(400);
      expect(huge.body.data).toBeUndefined();
      expect(huge.body.errors![0].extensions.code).toBe('BAD_USER_INPUT');
      // first is charged at most the largest page a subgraph serves (100).
      expect(huge.body.errors![0].message).toBe(
        `Query cost ${nestedCost(100)} exceeds the limit of 20000 (MAX_QUERY_COST)`,
      );
      expect(await subgraphCalls()).toBe(before);
    });

    it('charges an omitted `first` the default page size and an unpaginated list MAX_LIST_SIZE', async () => {
      const before = await subgraphCalls();
      const omitted = await post(NESTED.replace('query($n: Int)', '').replace(/\(first: \$n\)/g, ''));
      expect(omitted.status).toBe(400);
      expect(omitted.body.errors![0].message).toBe(
        `Query cost ${nestedCost(DEFAULT_PAGE_SIZE)} exceeds the limit of 20000 (MAX_QUERY_COST)`,
      );
      expect(await subgraphCalls()).toBe(before);
    });

    it('caps aliases and tokens, and names the depth limit', async () => {
      const aliased = (count: number) =>
        `{ ${Array.from({ length: count }, (_, i) => `p${i}: products(first: 1) { totalCount }`).join(' ')} }`;
      const fifteen = await post(aliased(15));
      expect(fifteen.body.errors).toBeUndefined();
      expect(fifteen.body.data.p14.totalCount).toBeGreaterThan(0);

      const before = await subgraphCalls();
      const sixteen = await post(aliased(16));
      expect(sixteen.status).toBe(400);
      expect(sixteen.body.errors![0]).toMatchObject({
        message: 'Aliases limit of 15 exceeded, found 16 (MAX_ALIASES)',
        extensions: { code: 'BAD_USER_INPUT' },
      });

      const tooLong = await post(`{ products(first: 1) { totalCount ${'__typename '.repeat(1000)}} }`);
      expect(tooLong.status).toBe(400);
      expect(tooLong.body.errors![0].message).toMatch(/Document contains more tha[nt] 1000 tokens/);

      const deep = await post(`{ products(first: 1) { edges { node { factory { products(first: 1) { edges { node {
        factory { products(first: 1) { edges { node { name } } } } } } } } } } } }`);
      expect(deep.status).toBe(400);
      expect(deep.body.errors![0].extensions.code).toBe('BAD_USER_INPUT');
      expect(deep.body.errors![0].message).toMatch(/^Query depth limit of 10 exceeded, found \d+ \(MAX_QUERY_DEPTH\)$/);
      expect(await subgraphCalls()).toBe(before);
    });

    it('refuses the same operations over the WebSocket with the same errors, and answers the same otherwise', async () => {
      const before = await subgraphCalls();
      for (const [query, variables] of [
        [NESTED, { n: 1_000_000 }],
        [`{ ${Array.from({ length: 16 }, (_, i) => `p${i}: products { totalCount }`).join(' ')} }`, undefined],
        [`{ products { totalCount ${'__typename '.repeat(1000)}} }`, undefined],
      ] as const) {
        const http = await post(query, variables);
        expect(http.body.errors?.length).toBe(1);
        expect(await overSocket(query, variables)).toEqual(http.body);
      }
      expect(await subgraphCalls()).toBe(before);
      const answered = await overSocket(NESTED, { n: 2 });
      expect(answered).toEqual((await post(NESTED, { n: 2 })).body);
    });
  });
});
