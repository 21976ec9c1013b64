import { startTestStack, type TestStack } from './support/e2e';
import { DEMO_PRODUCTS } from '../lib/demo-data';
import { newId } from '../lib/ids';
import { MAX_AMOUNT } from '../lib/money';

/**
 * Values a client sends that the schema's types cannot hold reach it as BAD_USER_INPUT naming where they
 * were, through the gateway, whether written in the query or sent as variables; never INTERNAL_SERVER_ERROR.
 */
describe('input values through the gateway', () => {
  let stack: TestStack;
  const admin = { caller: { userId: newId(), role: 'ADMIN' as const } };
  const [product] = DEMO_PRODUCTS;
  const inAnHour = () => new Date(Date.now() + 3600_000).toISOString();
  const createSession = `mutation ($input: CreateGroupBuyingSessionInput!) { createGroupBuyingSession(input: $input) { id } }`;
  const sessionInput = (overrides: Record<string, unknown> = {}) => ({
    productId: product.id,
    variantId: product.variants[0].id,
    moq: 1,
    groupPrice: 50_000,
    endsAt: inAnHour(),
    ...overrides,
  });

  beforeAll(async () => {
    stack = await startTestStack({ subgraphs: ['product', 'group-buying'] });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  /** The one error of a refused request, which must be BAD_USER_INPUT. */
  async function refusal(query: string, variables?: Record<string, unknown>) {
    const response = await stack.graphql(query, variables, admin);
    expect(response.data?.createGroupBuyingSession ?? response.data?.createProduct ?? null).toBeNull();
    expect(response.errors).toHaveLength(1);
    expect(response.errors![0].extensions?.code).toBe('BAD_USER_INPUT');
    return response.errors![0];
  }

  it('refuses a DateTime literal that is not a timestamp, naming the argument', async () => {
    const error = await refusal(
      `mutation { createGroupBuyingSession(input: { productId: "${product.id}", variantId: "${product.variants[0].id}", moq: 1, groupPrice: 50000, endsAt: "next friday" }) { id } }`,
    );
    expect(error.message).toMatch(/createGroupBuyingSession\(input\.endsAt\).*ISO-8601/);
    expect(error.extensions?.argument).toBe('createGroupBuyingSession(input.endsAt)');
  });

  it.each([['next friday'], [1767225600], [true]])(
    'refuses a DateTime variable %p, naming the variable and field',
    async (endsAt) => {
      const error = await refusal(createSession, { input: sessionInput({ endsAt }) });
      expect(error.message).toMatch(/\$input.*"input\.endsAt".*ISO-8601/);
    },
  );

  it('refuses money literals above the API’s Int, naming the argument, in lists too', async () => {
    const price = await refusal(
      `mutation { createGroupBuyingSession(input: { productId: "${product.id}", variantId: "${product.variants[0].id}", moq: 1, groupPrice: 3000000000, endsAt: "${inAnHour()}" }) { id } }`,
    );
    expect(price.message).toMatch(/createGroupBuyingSession\(input\.groupPrice\).*3000000000/);
    const variant = await refusal(
      `mutation { createProduct(input: { factoryId: "${product.factoryId}", categoryId: "${product.categoryId}", name: "Tote", basePrice: 10000, variants: [{ sku: "T-1", name: "One", price: 10000 }, { sku: "T-2", name: "Two", price: 99999999999 }] }) { id } }`,
    );
    expect(variant.extensions?.argument).toBe('createProduct(input.variants[1].price)');
  });

  it('refuses money variables above the API’s Int, naming the field', async () => {
    const error = await refusal(createSession, { input: sessionInput({ groupPrice: MAX_AMOUNT + 1 }) });
    expect(error.message).toMatch(/"input\.groupPrice"/);
  });

  it('refuses a join whose total the API could not show, before taking a place', async () => {
    const created = await stack.graphql(createSession, { input: sessionInput({ groupPrice: 1_500_000_000 }) }, admin);
    expect(created.errors).toBeUndefined();
    const sessionId = created.data.createGroupBuyingSession.id;
    const join = `mutation ($input: JoinGroupBuyingSessionInput!) { joinGroupBuyingSession(input: $input) { participant { id } } }`;
    const buyer = { caller: { userId: newId(), role: 'BUYER' as const } };
    const response = await stack.graphql(join, { input: { sessionId, quantity: 2, addressId: newId() } }, buyer);
    expect(response.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(response.errors?.[0].message).toMatch(/^quantity: .*2\.147\.483\.647/);
    const session = await stack.graphql(
      `query ($id: ID!) { groupBuyingSession(id: $id) { joinedQuantity } }`,
      { id: sessionId },
      admin,
    );
    expect(session.data.groupBuyingSession.joinedQuantity).toBe(0);
  });

  it('answers ids that are not ours as absent or BAD_USER_INPUT, never as a failure', async () => {
    const lookup = await stack.graphql(
      `{ groupBuyingSession(id: "not-an-id") { id } product(id: "1") { id } }`,
      undefined,
      admin,
    );
    expect(lookup).toEqual({ data: { groupBuyingSession: null, product: null } });
    const error = await refusal(createSession, { input: sessionInput({ productId: 'not-an-id' }) });
    expect(error.message).toMatch(/productId: is not a valid id/);
  });
});
