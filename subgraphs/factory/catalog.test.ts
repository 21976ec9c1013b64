import { startTestStack, type TestStack, errorCode } from '../../test/support/e2e';
import { scrapeMetrics, sumOf } from '../../test/support/metrics';
import { DEMO_CATEGORIES, DEMO_FACTORIES, DEMO_PRODUCTS } from '../../lib/demo-data';
import { INTERNAL_TOKEN_HEADER, type Role } from '../../lib/internal-auth';
import type { SubgraphName } from '../../lib/services';
import { newId } from '../../lib/ids';

const user = (role: Role = 'BUYER') => ({ caller: { userId: newId(), role } });

const CREATE_FACTORY = `mutation ($input: CreateFactoryInput!) { createFactory(input: $input) { id name city owner { id } } }`;
const CREATE_PRODUCT = `mutation ($input: CreateProductInput!) {
  createProduct(input: $input) { id name basePrice factory { id name city } variants { sku price } }
}`;
const FACTORY_PRODUCT_COUNT = `query ($id: ID!) { factory(id: $id) { products(first: 0) { totalCount } } }`;

/** Nine products per created factory, plus the seeded ones: more than the 50 the batching test reads. */
const FACTORIES_CREATED = 6;
const PRODUCTS_PER_FACTORY = 9;

describe('catalog across product, factory and address', () => {
  let stack: TestStack;
  const owner = user();
  const createdFactories: { id: string; name: string; city: string }[] = [];

  const productInput = (factoryId: string, overrides: Record<string, unknown> = {}) => {
    const sku = `SKU-${newId()}`;
    return {
      factoryId,
      categoryId: DEMO_CATEGORIES[1].id,
      name: 'Kaos Oversize',
      basePrice: 55000,
      variants: [{ sku, name: 'Black / L', price: 55000 }],
      ...overrides,
    };
  };

  const productCount = async (factoryId: string): Promise<number> => {
    const result = await stack.graphql(FACTORY_PRODUCT_COUNT, { id: factoryId });
    expect(result.errors).toBeUndefined();
    return result.data.factory.products.totalCount;
  };

  beforeAll(async () => {
    // The outbox worker polls its table on a timer; parked here so SQL counts only measure the queries under test.
    stack = await startTestStack({ subgraphs: ['product', 'factory', 'address'], env: { OUTBOX_RETRY_MS: '3600000' } });
    for (let f = 0; f < FACTORIES_CREATED; f += 1) {
      const created = await stack.graphql(CREATE_FACTORY, { input: { name: `Pabrik ${f}`, city: `Kota ${f}` } }, owner);
      expect(created.errors).toBeUndefined();
      createdFactories.push(created.data.createFactory);
      for (let p = 0; p < PRODUCTS_PER_FACTORY; p += 1) {
        const product = await stack.graphql(
          CREATE_PRODUCT,
          { input: productInput(created.data.createFactory.id, { categoryId: DEMO_CATEGORIES[1 + (p % 3)].id }) },
          owner,
        );
        expect(product.errors).toBeUndefined();
      }
    }
  });
  afterAll(() => stack?.stop());

  it('lists products with their category, factory and variants', async () => {
    const result = await stack.graphql(`{
      products(first: 3) { edges { node { id name category { name } factory { id name city } variants { sku } } } }
    }`);
    expect(result.errors).toBeUndefined();
    // Seeded ids are older than anything created, so the first page is the demo catalog.
    const nodes = result.data.products.edges.map((edge: any) => edge.node);
    expect(nodes.map((node: any) => node.id)).toEqual(DEMO_PRODUCTS.map((product) => product.id));
    for (const [i, node] of nodes.entries()) {
      const demo = DEMO_PRODUCTS[i];
      const factory = DEMO_FACTORIES.find((f) => f.id === demo.factoryId)!;
      expect(node.factory).toEqual({ id: factory.id, name: factory.name, city: factory.city });
      expect(node.category.name).toBe(DEMO_CATEGORIES.find((c) => c.id === demo.categoryId)!.name);
      expect(node.variants.map((v: any) => v.sku)).toEqual(demo.variants.map((v) => v.sku));
    }
  });

  it("answers a factory with its products' count, and null for an unknown or malformed id", async () => {
    const result = await stack.graphql(
      `query ($id: ID!) { factory(id: $id) { name products(first: 5) { totalCount edges { node { name } } } } }`,
      {
        id: DEMO_FACTORIES[0].id,
      },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data.factory.name).toBe(DEMO_FACTORIES[0].name);
    expect(result.data.factory.products.totalCount).toBe(1);
    expect(result.data.factory.products.edges[0].node.name).toBe(DEMO_PRODUCTS[0].name);

    for (const id of [newId(), 'not-an-id']) {
      const unknown = await stack.graphql(`query ($id: ID!) { factory(id: $id) { id name } }`, { id });
      expect(unknown.errors).toBeUndefined();
      expect(unknown.data.factory).toBeNull();
    }
  });

  it('pages through products and factories without overlap', async () => {
    for (const [list, size] of [
      ['products', 7],
      ['factories', 2],
    ] as const) {
      const seen: string[] = [];
      let after: string | null = null;
      let total = 0;
      for (let page = 0; page < 100; page += 1) {
        const result: any = await stack.graphql(
          `query ($first: Int, $after: String) { ${list}(first: $first, after: $after) {
            totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }`,
          { first: size, after },
        );
        expect(result.errors).toBeUndefined();
        const connection = result.data[list];
        total = connection.totalCount;
        seen.push(...connection.edges.map((edge: any) => edge.node.id));
        if (connection.edges.length) expect(connection.pageInfo.endCursor).toBe(connection.edges.at(-1).cursor);
        if (!connection.pageInfo.hasNextPage) break;
        expect(connection.edges).toHaveLength(size);
        after = connection.pageInfo.endCursor;
      }
      const expected =
        list === 'products'
          ? DEMO_PRODUCTS.length + FACTORIES_CREATED * PRODUCTS_PER_FACTORY
          : DEMO_FACTORIES.length + FACTORIES_CREATED;
      expect(total).toBe(expected);
      expect(seen).toHaveLength(expected);
      expect(new Set(seen).size).toBe(expected);
    }
  });

  it('lets the owner of a new factory add a product to it', async () => {
    const founder = user();
    const created = await stack.graphql(
      CREATE_FACTORY,
      { input: { name: 'Sepatu Cibaduyut', city: 'Bandung' } },
      founder,
    );
    expect(created.errors).toBeUndefined();
    expect(created.data.createFactory.owner.id).toBe(founder.caller.userId);
    const factoryId = created.data.createFactory.id;

    const product = await stack.graphql(
      CREATE_PRODUCT,
      { input: productInput(factoryId, { name: 'Sepatu Kulit' }) },
      founder,
    );
    expect(product.errors).toBeUndefined();
    expect(product.data.createProduct.factory).toEqual({ id: factoryId, name: 'Sepatu Cibaduyut', city: 'Bandung' });
    expect(await productCount(factoryId)).toBe(1);
  });

  it("refuses another user's product in that factory with FORBIDDEN, and creates nothing", async () => {
    const factory = createdFactories[0];
    const before = await productCount(factory.id);
    const result = await stack.graphql(CREATE_PRODUCT, { input: productInput(factory.id) }, user('FACTORY_OWNER'));
    expect(errorCode(result)).toBe('FORBIDDEN');
    expect(await productCount(factory.id)).toBe(before);
  });

  it('refuses a product for an unknown factory with NOT_FOUND', async () => {
    const result = await stack.graphql(CREATE_PRODUCT, { input: productInput(newId()) }, owner);
    expect(errorCode(result)).toBe('NOT_FOUND');
  });

  it.each([
    ['a zero price', { basePrice: 0 }],
    ['a negative price', { basePrice: -5 }],
    ['a fractional price', { basePrice: 1.5 }],
    ['a zero variant price', { variants: [{ sku: 'ZERO-1', name: 'M', price: 0 }] }],
    ['an empty name', { name: '' }],
    ['a blank name', { name: '   ' }],
  ])('refuses %s with BAD_USER_INPUT, and creates nothing', async (_what, overrides) => {
    const factory = createdFactories[1];
    const before = await productCount(factory.id);
    const result = await stack.graphql(CREATE_PRODUCT, { input: productInput(factory.id, overrides) }, owner);
    expect(errorCode(result)).toBe('BAD_USER_INPUT');
    expect(await productCount(factory.id)).toBe(before);
  });

  it('refuses a subgraph called without the internal token with a 401 JSON error', async () => {
    const attempts: Record<string, string>[] = [{}, { [INTERNAL_TOKEN_HEADER]: 'not-the-token' }];
    for (const headers of attempts) {
      const response = await fetch(`${stack.serviceUrl('factory')}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query: '{ factories { totalCount } }' }),
      });
      expect(response.status).toBe(401);
      const body = await response.json();
      expect(body.error.code).toBe('UNAUTHENTICATED');
      expect(typeof body.error.message).toBe('string');
    }
  });

  it('rejects a query nested deeper than the limit, naming the depth', async () => {
    const result =
      await stack.graphql(`{ products(first: 1) { edges { node { factory { products(first: 1) { edges { node {
      factory { products(first: 1) { edges { node { name } } } } } } } } } } } }`);
    expect(result.data).toBeUndefined();
    expect(errorCode(result)).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0].message).toMatch(/depth/i);
  });

  describe('entity batching', () => {
    const metrics = async (name: SubgraphName) => {
      const samples = await scrapeMetrics(stack.serviceUrl(name));
      return {
        sqlStatements: sumOf(samples, 'sql_statements_total'),
        graphqlRequests: sumOf(samples, 'graphql_operation_duration_seconds_count'),
      };
    };

    /** SQL statements and GraphQL requests each subgraph served for one gateway query. */
    const cost = async (first: number) => {
      const query = `query ($first: Int) { products(first: $first) { edges { node {
        name factory { name } category { name } variants { sku } } } } }`;
      const before = { product: await metrics('product'), factory: await metrics('factory') };
      const result = await stack.graphql(query, { first });
      expect(result.errors).toBeUndefined();
      expect(result.data.products.edges).toHaveLength(first);
      expect(result.data.products.edges.every((edge: any) => edge.node.factory.name && edge.node.category.name)).toBe(
        true,
      );
      const after = { product: await metrics('product'), factory: await metrics('factory') };
      return Object.fromEntries(
        (['product', 'factory'] as const).map((name) => [
          name,
          {
            sqlStatements: after[name].sqlStatements - before[name].sqlStatements,
            graphqlRequests: after[name].graphqlRequests - before[name].graphqlRequests,
          },
        ]),
      );
    };

    it('costs the same number of statements and fetches for 50 products as for 5', async () => {
      // Warm both shapes first: pool connections and query plans are one-off costs.
      await cost(5);
      await cost(50);
      const few = await cost(5);
      const many = await cost(50);
      expect(many).toEqual(few);
      expect(few.product.graphqlRequests).toBe(1);
      expect(few.factory.graphqlRequests).toBe(1);
      expect(few.factory.sqlStatements).toBe(1);
    });
  });
});
