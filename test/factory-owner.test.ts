import { startTestStack, type TestStack, errorCode, type GraphQLResponse } from './support/e2e';
import { eventually } from './support/eventually';
import { logIn, type SignedInUser } from './support/users';
import { DEMO_CATEGORIES, DEMO_FACTORIES } from '../lib/demo-data';
import { newId } from '../lib/ids';
import type { Caller } from '../lib/internal-auth';
import { NOTIFICATIONS_PATH } from '../lib/contracts/notification';
import { factoryPath } from '../lib/contracts/seller';

const ADMIN: Caller = { userId: newId(), role: 'ADMIN' };

const CREATE_FACTORY = `mutation($input: CreateFactoryInput!) { createFactory(input: $input) { id verified } }`;
const VERIFY = `mutation($id: ID!) { verifyFactory(factoryId: $id) { id verified } }`;
const FACTORY = `query($id: ID!) { factory(id: $id) { id verified } }`;
const CREATE_WAREHOUSE = `mutation($input: CreateWarehouseInput!) { createWarehouse(input: $input) { id } }`;
const SET_INVENTORY = `mutation($input: SetInventoryInput!) { setInventory(input: $input) { quantity } }`;
const CREATE_PRODUCT = `mutation($input: CreateProductInput!) { createProduct(input: $input) { id variants { id } } }`;
const CREATE_SESSION = `mutation($input: CreateGroupBuyingSessionInput!) { createGroupBuyingSession(input: $input) { id status } }`;
const CANCEL_SESSION = `mutation($id: ID!) { cancelGroupBuyingSession(sessionId: $id) { id status } }`;
const MY_NOTIFICATIONS = `{ myNotifications(first: 20) { edges { node { id type title body } } } }`;

interface Notice {
  id: string;
  type: string;
  title: string;
  body: string;
}
interface WhatsAppMessage {
  template: string | null;
  text: string;
  parameters: string[];
}

const ok = <T = any>(result: GraphQLResponse<T>): T => {
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  return result.data!;
};

/**
 * The seller side's owner rules through real processes: verification, owner actions right after
 * createFactory (ownership asked of the factory subgraph, not the lagging role), and the owner's notices
 * in-app and on WhatsApp.
 */
describe('factory owners', () => {
  let stack: TestStack;
  let owner: SignedInUser;
  let buyer: SignedInUser;
  let factoryId: string;
  let productId: string;
  let variantId: string;
  let openSessionId: string;

  const as = (user: SignedInUser) => ({ token: user.token });
  const notices = async (user: SignedInUser): Promise<Notice[]> =>
    ok(await stack.graphql(MY_NOTIFICATIONS, {}, as(user))).myNotifications.edges.map(
      (edge: { node: Notice }) => edge.node,
    );
  const whatsappTo = async (phone: string): Promise<WhatsAppMessage[]> => {
    const response = await fetch(`${stack.sandboxUrl}/__sandbox/whatsapp/messages?to=${encodeURIComponent(phone)}`);
    return ((await response.json()) as { messages: WhatsAppMessage[] }).messages;
  };
  const whatsappNotices = (user: SignedInUser) =>
    whatsappTo(user.phone).then((all) => all.filter((m) => m.template === 'seller_notice'));

  beforeAll(async () => {
    stack = await startTestStack({
      subgraphs: ['auth', 'whatsapp', 'factory', 'product', 'warehouse', 'payment', 'notification', 'group-buying'],
      sandbox: true,
      // Tokens keep working while auth is down (the role feed cannot move), however slow this machine.
      env: { SESSION_FEED_MAX_STALENESS_MS: '600000' },
    });
    [owner, buyer] = await Promise.all([logIn(stack), logIn(stack)]);
  }, 240_000);
  afterAll(() => stack?.stop());

  it('acts as owner with the token it created the factory with, before its role could change', async () => {
    // With auth down the owner's promotion waits in the factory's outbox: the gateway still sees a BUYER.
    await stack.stack.kill('auth');
    try {
      const factory = ok(
        await stack.graphql(CREATE_FACTORY, { input: { name: 'Konveksi Kilat', city: 'Bekasi' } }, as(owner)),
      ).createFactory;
      factoryId = factory.id;
      expect(factory.verified).toBe(false);

      const warehouse = await stack.graphql(
        CREATE_WAREHOUSE,
        { input: { name: 'Gudang Kilat', city: 'Bekasi' } },
        as(owner),
      );
      expect(warehouse.errors).toBeUndefined();
      const product = ok(
        await stack.graphql(
          CREATE_PRODUCT,
          {
            input: {
              factoryId,
              categoryId: DEMO_CATEGORIES[1].id,
              name: 'Kaos Kilat',
              basePrice: 60000,
              variants: [{ sku: `KK-${newId()}`, name: 'L', price: 60000 }],
            },
          },
          as(owner),
        ),
      ).createProduct;
      productId = product.id;
      variantId = product.variants[0].id;
      const stocked = await stack.graphql(
        SET_INVENTORY,
        { input: { warehouseId: warehouse.data.createWarehouse.id, variantId, quantity: 40 } },
        as(owner),
      );
      expect(stocked.errors).toBeUndefined();
      const session = await stack.graphql(
        CREATE_SESSION,
        {
          input: {
            productId,
            variantId,
            moq: 10,
            groupPrice: 50000,
            endsAt: new Date(Date.now() + 3600_000).toISOString(),
          },
        },
        as(owner),
      );
      expect(session.errors).toBeUndefined();
      expect(session.data.createGroupBuyingSession.status).toBe('FORMING');
      openSessionId = session.data.createGroupBuyingSession.id;

      // A signed-in buyer who owns no factory is still refused every one of them.
      expect(errorCode(await stack.graphql(CREATE_WAREHOUSE, { input: { name: 'X', city: 'Y' } }, as(buyer)))).toBe(
        'FORBIDDEN',
      );
      expect(
        errorCode(
          await stack.graphql(
            CREATE_PRODUCT,
            {
              input: {
                factoryId,
                categoryId: DEMO_CATEGORIES[1].id,
                name: 'Bukan Milikku',
                basePrice: 1000,
                variants: [{ sku: `NO-${newId()}`, name: 'M', price: 1000 }],
              },
            },
            as(buyer),
          ),
        ),
      ).toBe('FORBIDDEN');
      expect(
        errorCode(
          await stack.graphql(
            CREATE_SESSION,
            {
              input: {
                productId,
                variantId,
                moq: 1,
                groupPrice: 1000,
                endsAt: new Date(Date.now() + 3600_000).toISOString(),
              },
            },
            as(buyer),
          ),
        ),
      ).toBe('FORBIDDEN');
      expect(errorCode(await stack.graphql(CANCEL_SESSION, { id: openSessionId }, as(buyer)))).toBe('FORBIDDEN');
    } finally {
      await stack.stack.startOne('auth');
    }
  });

  it('lets only an admin verify a factory, once, and tells other services', async () => {
    expect(errorCode(await stack.graphql(VERIFY, { id: factoryId }, as(owner)))).toBe('FORBIDDEN');
    expect(ok(await stack.graphql(FACTORY, { id: factoryId })).factory.verified).toBe(false);
    expect(errorCode(await stack.graphql(VERIFY, { id: newId() }, { caller: ADMIN }))).toBe('NOT_FOUND');
    expect(errorCode(await stack.graphql(VERIFY, { id: 'not-an-id' }, { caller: ADMIN }))).toBe('NOT_FOUND');
    expect(errorCode(await stack.graphql(VERIFY, { id: factoryId }))).toBe('UNAUTHENTICATED');

    const [first, second] = await Promise.all([
      stack.graphql(VERIFY, { id: factoryId }, { caller: ADMIN }),
      stack.graphql(VERIFY, { id: factoryId }, { caller: ADMIN }),
    ]);
    expect(ok(first).verifyFactory).toEqual({ id: factoryId, verified: true });
    expect(ok(second).verifyFactory).toEqual({ id: factoryId, verified: true });
    expect(ok(await stack.graphql(FACTORY, { id: factoryId })).factory.verified).toBe(true);
    expect((await stack.internal('factory', 'GET', factoryPath(factoryId))).body).toEqual({
      id: factoryId,
      ownerId: owner.userId,
      name: 'Konveksi Kilat',
      city: 'Bekasi',
      verified: true,
    });
    // The demo factories are verified; a demo factory's snapshot says so too.
    expect((await stack.internal('factory', 'GET', factoryPath(DEMO_FACTORIES[1].id))).body.verified).toBe(true);
  });

  it("delivers a notice sent with factoryId to the owner's notifications and WhatsApp, once", async () => {
    const notice = {
      dedupeKey: `test:order-received:${newId()}`,
      factoryId,
      type: 'ORDER_RECEIVED',
      title: 'New order',
      body: 'Order #A1 for 3 × Kaos Kilat (Rp180.000) was paid.\nShip it to Bekasi.',
      data: { orderId: newId() },
    };
    const [a, b] = await Promise.all([
      stack.internal('notification', 'POST', NOTIFICATIONS_PATH, notice),
      stack.internal('notification', 'POST', NOTIFICATIONS_PATH, notice),
    ]);
    expect(a.status).toBe(200);
    expect(b.body).toEqual(a.body);

    expect((await notices(owner)).filter((n) => n.id === a.body.id)).toEqual([
      { id: a.body.id, type: 'ORDER_RECEIVED', title: 'New order', body: notice.body },
    ]);
    expect((await notices(buyer)).some((n) => n.id === a.body.id)).toBe(false);
    const [message] = await eventually('the WhatsApp notice', async () => {
      const sent = await whatsappNotices(owner);
      return sent.length > 0 && sent;
    });
    // Line breaks are not allowed in template parameters: the body arrives on one line.
    expect(message.parameters).toEqual([
      'New order',
      'Order #A1 for 3 × Kaos Kilat (Rp180.000) was paid. Ship it to Bekasi.',
    ]);
    expect(message.text).toContain('New order');
    expect(message.text).toContain('Kaos Kilat (Rp180.000) was paid');

    // A replay after delivery adds nothing anywhere.
    expect((await stack.internal('notification', 'POST', NOTIFICATIONS_PATH, notice)).body).toEqual(a.body);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await whatsappNotices(owner)).toHaveLength(1);

    // An in-app-only type sent by factoryId lands without WhatsApp; bad requests change nothing.
    const shipped = await stack.internal('notification', 'POST', NOTIFICATIONS_PATH, {
      ...notice,
      dedupeKey: `test:shipped:${newId()}`,
      type: 'SHIPMENT_UPDATED',
    });
    expect(shipped.status).toBe(200);
    const refused = await Promise.all([
      stack.internal('notification', 'POST', NOTIFICATIONS_PATH, {
        ...notice,
        dedupeKey: `x:${newId()}`,
        factoryId: newId(),
      }),
      stack.internal('notification', 'POST', NOTIFICATIONS_PATH, {
        ...notice,
        dedupeKey: `x:${newId()}`,
        userId: owner.userId,
      }),
      stack.internal('notification', 'POST', NOTIFICATIONS_PATH, {
        ...notice,
        dedupeKey: `x:${newId()}`,
        factoryId: undefined,
      }),
    ]);
    expect(refused.map((r) => [r.status, r.body.error.code])).toEqual([
      [400, 'BAD_USER_INPUT'],
      [400, 'BAD_USER_INPUT'],
      [400, 'BAD_USER_INPUT'],
    ]);
    expect((await notices(owner)).map((n) => n.type).sort()).toEqual(['ORDER_RECEIVED', 'SHIPMENT_UPDATED']);
    expect(await whatsappNotices(owner)).toHaveLength(1);
  });

  it("tells the owner a session's outcome, in-app and on WhatsApp", async () => {
    const ending = ok(
      await stack.graphql(
        CREATE_SESSION,
        {
          input: { productId, variantId, moq: 5, groupPrice: 50000, endsAt: new Date(Date.now() + 2000).toISOString() },
        },
        as(owner),
      ),
    ).createGroupBuyingSession;
    const failed = await eventually(
      'the SESSION_FAILED notice',
      async () => (await notices(owner)).find((n) => n.type === 'SESSION_FAILED'),
      45_000,
    );
    expect(failed.title).toBe('Group buy did not reach its minimum');
    expect(failed.body).toMatch(/0 of 5 units paid/);
    const session = ok(
      await stack.graphql(`query($id: ID!) { groupBuyingSession(id: $id) { status } }`, { id: ending.id }),
    ).groupBuyingSession;
    expect(session.status).toBe('FAILED');
    await eventually('the outcome on WhatsApp', async () =>
      (await whatsappNotices(owner)).some((m) => m.text.includes('0 of 5 units paid')),
    );

    // The owner cancels the other one: the owner hears of that too.
    expect(
      ok(await stack.graphql(CANCEL_SESSION, { id: openSessionId }, as(owner))).cancelGroupBuyingSession.status,
    ).toBe('CANCELLED');
    await eventually('the cancellation notice', async () =>
      (await notices(owner)).some((n) => n.title === 'Group buy cancelled'),
    );
  });
});
