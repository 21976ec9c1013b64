import fs from 'node:fs';
import path from 'node:path';
import { startTestStack, TestStack, TEST_INTERNAL_TOKEN } from '../test/support/e2e';
import { DEMO_CATEGORIES, DEMO_FACTORIES } from '../lib/demo-data';
import { newId } from '../lib/ids';

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
    const fetchesOfProduct = async () => (await stack.internal('product', 'GET', '/internal/metrics')).body.graphqlRequests as number;
    const query = `{ products(first: 3) { edges { node { id name factory { name } } } } }`;
    const buyer = { userId: newId(), role: 'BUYER' as const };
    const before = await fetchesOfProduct();
    const answers = await Promise.all(Array.from({ length: 20 }, () => stack.graphql(query, {}, { caller: buyer })));
    const sharedFetches = (await fetchesOfProduct()) - before;
    expect(answers.every((answer) => !answer.errors && JSON.stringify(answer) === JSON.stringify(answers[0]))).toBe(true);
    expect(answers[0].data.products.edges).toHaveLength(3);
    expect(sharedFetches).toBeLessThan(20);

    // Twenty different buyers at once: twenty fetches, whatever overlaps.
    const beforeMany = await fetchesOfProduct();
    await Promise.all(Array.from({ length: 20 }, () => stack.graphql(query, {}, { caller: { userId: newId(), role: 'BUYER' } })));
    expect((await fetchesOfProduct()) - beforeMany).toBe(20);
  });
});
