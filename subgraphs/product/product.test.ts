import { startTestStack, type TestStack, errorCode } from '../../test/support/e2e';
import { DEMO_PRODUCTS } from '../../lib/demo-data';

describe('product subgraph through the gateway', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ subgraphs: ['product'] });
  });
  afterAll(() => stack?.stop());

  it('lists seeded products with category and variants', async () => {
    const result = await stack.graphql(
      `{ products(first: 10) { totalCount edges { node { name category { name } variants { sku price } } } } }`,
    );
    expect(result.errors).toBeUndefined();
    expect(result.data.products.totalCount).toBe(DEMO_PRODUCTS.length);
    expect(result.data.products.edges[0].node.variants.length).toBeGreaterThan(0);
  });

  it('answers an unknown product id with null', async () => {
    const result = await stack.graphql(`{ product(id: "01930000-0000-7000-8000-00000000ffff") { id } }`);
    expect(result.errors).toBeUndefined();
    expect(result.data.product).toBeNull();
  });

  it('refuses a bad page size with BAD_USER_INPUT', async () => {
    const result = await stack.graphql(`{ products(first: 1000) { totalCount } }`);
    expect(errorCode(result)).toBe('BAD_USER_INPUT');
  });
});
