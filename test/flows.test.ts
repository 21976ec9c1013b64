import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { startTestStack, type TestStack, errorCode, type GraphQLResponse } from './support/e2e';
import { logIn, type SignedInUser } from './support/users';
import { eventually } from './support/eventually';
import { IMPLEMENTED_SUBGRAPHS } from '../subgraphs/registry';
import { Client as PgClient } from 'pg';
import { withDatabase } from '../lib/database';

/**
 * The product's main flows end to end, as people use them: everyone logs in with a WhatsApp OTP and
 * talks only to the gateway (HTTP and graphql-ws); every service runs in its own process.
 */
describe('group buying end to end through the gateway', () => {
  let stack: TestStack;
  let owner: SignedInUser;
  let variantId: string;
  let productId: string;
  const sockets: Client[] = [];

  const as = (user: SignedInUser) => ({ token: user.token });
  const ok = <T = any>(result: GraphQLResponse<T>): T => {
    if (result.errors?.length) throw new Error(JSON.stringify(result.errors));
    return result.data as T;
  };

  /** A live subscription through the gateway, collecting its events. */
  function subscribe(user: SignedInUser | null, query: string, variables: Record<string, unknown> = {}) {
    const client = createClient({
      url: `${stack.gatewayUrl.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: user ? { authorization: `Bearer ${user.token}` } : {},
      retryAttempts: 0,
    });
    sockets.push(client);
    const events: any[] = [];
    const errors: unknown[] = [];
    client.subscribe(
      { query, variables },
      {
        next: (event) => (event.errors ? errors.push(...event.errors) : events.push(event.data)),
        error: (error) => errors.push(error),
        complete: () => undefined,
      },
    );
    return { events, errors };
  }

  async function buyerWithAddress(): Promise<SignedInUser & { addressId: string }> {
    const user = await logIn(stack);
    const address = ok(
      await stack.graphql(
        `mutation($input: CreateAddressInput!) { createAddress(input: $input) { id } }`,
        {
          input: {
            recipientName: 'Pembeli',
            phone: '081234567890',
            line1: 'Jl. Asia Afrika 8',
            city: 'Bandung',
            province: 'Jawa Barat',
            postalCode: '40111',
          },
        },
        as(user),
      ),
    );
    return { ...user, addressId: address.createAddress.id };
  }

  const openSession = async (moq: number, endsInMs: number) =>
    ok(
      await stack.graphql(
        `mutation($input: CreateGroupBuyingSessionInput!) { createGroupBuyingSession(input: $input) { id status } }`,
        {
          input: {
            productId,
            variantId,
            moq,
            groupPrice: 40000,
            endsAt: new Date(Date.now() + endsInMs).toISOString(),
          },
        },
        as(owner),
      ),
    ).createGroupBuyingSession.id as string;

  const join = async (
    buyer: SignedInUser & { addressId: string },
    sessionId: string,
    quantity: number,
    refundTo?: string,
  ) =>
    ok(
      await stack.graphql(
        `mutation($input: JoinGroupBuyingSessionInput!) { joinGroupBuyingSession(input: $input) { participant { id status } payment { id invoiceUrl } paymentUrl } }`,
        { input: { sessionId, quantity, addressId: buyer.addressId, ...(refundTo ? { refundTo } : {}) } },
        as(buyer),
      ),
    ).joinGroupBuyingSession as { paymentUrl: string; payment: { id: string; invoiceUrl: string } };

  const invoiceOf = (paymentUrl: string) => paymentUrl.split('/').pop()!;
  async function pay(paymentUrl: string) {
    expect((await stack.payInvoice(paymentUrl)).callback.status).toBe(200);
  }

  const sessionStatus = async (id: string) =>
    ok(await stack.graphql(`query($id: ID!) { groupBuyingSession(id: $id) { status paidQuantity } }`, { id }))
      .groupBuyingSession;

  const myOrders = async (user: SignedInUser) =>
    ok(
      await stack.graphql(
        `{ myOrders(first: 10) { totalCount edges { node { id status source total groupBuyingSession { id }
            items { quantity unitPrice product { name factory { name } } }
            payment { id status isInEscrow escrowStatus } shipment { id status trackingNumber events { status } } } } } }`,
        {},
        as(user),
      ),
    ).myOrders;

  async function expectLedgerBalanced() {
    const invariants = await stack.internal('payment', 'GET', '/api/payments/ledger/invariants');
    expect(invariants.body).toMatchObject({ ok: true, sum: 0 });
  }

  beforeAll(async () => {
    stack = await startTestStack({ subgraphs: IMPLEMENTED_SUBGRAPHS, sandbox: true });
    // A new user opens a factory and lists a product: the marketplace's own onboarding path.
    owner = await logIn(stack);
    const factory = ok(
      await stack.graphql(
        `mutation { createFactory(input: { name: "Konveksi Uji", city: "Cimahi" }) { id } }`,
        {},
        as(owner),
      ),
    ).createFactory;
    const category = ok(await stack.graphql(`{ categories { id } }`)).categories[0];
    const product = ok(
      await stack.graphql(
        `mutation($input: CreateProductInput!) { createProduct(input: $input) { id variants { id } } }`,
        {
          input: {
            factoryId: factory.id,
            categoryId: category.id,
            name: 'Kaos Komunitas',
            basePrice: 55000,
            variants: [{ sku: `KK-${Date.now()}`, name: 'All sizes', price: 55000 }],
          },
        },
        as(owner),
      ),
    ).createProduct;
    productId = product.id;
    variantId = product.variants[0].id;
    // The role upgrade travels auth → gateway feed; the same token acts as a factory owner within seconds.
    await eventually(
      'owner role',
      async () => ok(await stack.graphql(`{ me { role } }`, {}, as(owner))).me.role === 'FACTORY_OWNER',
    );
  }, 240_000);

  afterAll(async () => {
    await Promise.all(sockets.map((socket) => socket.dispose()));
    await stack?.stop();
  });

  it('fills a session live, reaches the MOQ, produces, releases escrow and ships', async () => {
    // Buyers sign in first: the session's clock should only have to cover joining and paying, even on a busy machine.
    const buyers = await Promise.all([buyerWithAddress(), buyerWithAddress(), buyerWithAddress()]);
    const notifications = buyers.map((buyer) => subscribe(buyer, `subscription { notificationAdded { type title } }`));
    const sessionId = await openSession(10, 20_000);
    const watcher = subscribe(
      null,
      `subscription($id: ID!) { groupBuyingSessionProgress(sessionId: $id) { paidQuantity status product { name } factory { name } } }`,
      { id: sessionId },
    );
    const joins = [
      await join(buyers[0], sessionId, 4),
      await join(buyers[1], sessionId, 4),
      await join(buyers[2], sessionId, 3),
    ];

    // Each payment moves the bar for the watcher, with fields of other subgraphs resolved per event.
    for (const [index, expected] of [4, 8, 11].entries()) {
      await pay(joins[index].paymentUrl);
      await eventually(`progress ${expected}`, async () =>
        watcher.events.some((e) => e.groupBuyingSessionProgress.paidQuantity === expected),
      );
    }
    expect(watcher.errors).toEqual([]);
    const paidSteps = watcher.events.map((e) => e.groupBuyingSessionProgress).filter((p) => p.status === 'FORMING');
    expect(paidSteps.map((p) => p.paidQuantity)).toEqual([4, 8, 11]);
    expect(paidSteps[0]).toMatchObject({ product: { name: 'Kaos Komunitas' }, factory: { name: 'Konveksi Uji' } });

    await eventually('MOQ_REACHED', async () => (await sessionStatus(sessionId)).status === 'MOQ_REACHED', 45_000);
    await eventually('MOQ_REACHED event', async () =>
      watcher.events.some((e) => e.groupBuyingSessionProgress.status === 'MOQ_REACHED'),
    );

    // One GROUP_BUYING order per buyer, linked to its escrow payment, money still held.
    const orders = await Promise.all(
      buyers.map((buyer) =>
        eventually('bulk order', async () => {
          const list = await myOrders(buyer);
          // Count and page are read side by side, so the page may trail the count by a moment.
          return list.totalCount === 1 && list.edges[0]?.node.payment && list.edges[0].node;
        }),
      ),
    );
    orders.forEach((order, index) => {
      expect(order).toMatchObject({
        source: 'GROUP_BUYING',
        status: 'PAID',
        total: 40000 * [4, 4, 3][index],
        groupBuyingSession: { id: sessionId },
        items: [
          {
            quantity: [4, 4, 3][index],
            unitPrice: 40000,
            product: { name: 'Kaos Komunitas', factory: { name: 'Konveksi Uji' } },
          },
        ],
        payment: { id: joins[index].payment.id, status: 'PAID', isInEscrow: true, escrowStatus: 'HELD' },
      });
    });
    await expectLedgerBalanced();

    // Only the factory's owner may run production.
    const start = `mutation($id: ID!) { startProduction(sessionId: $id) { status } }`;
    expect(errorCode(await stack.graphql(start, { id: sessionId }, as(buyers[0])))).toBe('FORBIDDEN');
    expect(ok(await stack.graphql(start, { id: sessionId }, as(owner))).startProduction.status).toBe('IN_PRODUCTION');
    const completed = ok(
      await stack.graphql(
        `mutation($id: ID!) { completeProduction(sessionId: $id) { status } }`,
        { id: sessionId },
        as(owner),
      ),
    );
    expect(completed.completeProduction.status).toBe('COMPLETED');

    for (const [index, buyer] of buyers.entries()) {
      const [order] = (await myOrders(buyer)).edges.map((e: any) => e.node);
      expect(order.payment.escrowStatus).toBe('RELEASED');
      await eventually('ESCROW_RELEASED over notificationAdded', async () =>
        notifications[index].events.some((e) => e.notificationAdded.type === 'ESCROW_RELEASED'),
      );
    }
    await expectLedgerBalanced();

    // One shipment per order; the owner walks one to DELIVERED and the buyer's order follows.
    const shipped = await Promise.all(
      buyers.map((buyer) => eventually('shipment', async () => (await myOrders(buyer)).edges[0].node.shipment)),
    );
    expect(new Set(shipped.map((s) => s.id)).size).toBe(3);
    expect(shipped.every((s) => s.status === 'PENDING' && s.trackingNumber)).toBe(true);
    const move = `mutation($input: UpdateShipmentStatusInput!) { updateShipmentStatus(input: $input) { status events { status } } }`;
    expect(
      errorCode(
        await stack.graphql(move, { input: { shipmentId: shipped[0].id, status: 'PICKED_UP' } }, as(buyers[0])),
      ),
    ).toBe('FORBIDDEN');
    expect(
      errorCode(await stack.graphql(move, { input: { shipmentId: shipped[1].id, status: 'DELIVERED' } }, as(owner))),
    ).toBe('CONFLICT');
    for (const status of ['PICKED_UP', 'IN_TRANSIT', 'DELIVERED']) {
      ok(
        await stack.graphql(
          move,
          { input: { shipmentId: shipped[0].id, status, description: `now ${status}` } },
          as(owner),
        ),
      );
    }
    const delivered = await eventually('order DELIVERED', async () => {
      const [order] = (await myOrders(buyers[0])).edges.map((e: any) => e.node);
      return order.status === 'DELIVERED' && order;
    });
    expect(delivered.shipment.events.map((e: any) => e.status)).toEqual([
      'PENDING',
      'PICKED_UP',
      'IN_TRANSIT',
      'DELIVERED',
    ]);
    expect((await myOrders(buyers[1])).edges[0].node.shipment.status).toBe('PENDING');
  });

  it('keeps live progress going when group-buying loses its LISTEN connection, re-sending the state after it reconnects', async () => {
    const [first, second] = await Promise.all([buyerWithAddress(), buyerWithAddress()]);
    const sessionId = await openSession(10, 120_000);
    const watcher = subscribe(
      null,
      `subscription($id: ID!) { groupBuyingSessionProgress(sessionId: $id) { paidQuantity status } }`,
      { id: sessionId },
    );
    await pay((await join(first, sessionId, 1)).paymentUrl);
    await eventually('progress 1', async () =>
      watcher.events.some((e) => e.groupBuyingSessionProgress.paidQuantity === 1),
    );
    const before = watcher.events.length;

    // What a database failover or an administrator does to group-buying's listening connections.
    const db = new PgClient({
      connectionString: withDatabase(stack.env.DATABASE_URL, `${stack.env.DB_PREFIX}_group_buying`),
    });
    await db.connect();
    try {
      const { rows } = await db.query(
        `select pg_terminate_backend(pid) as ended from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and query ilike 'listen%'`,
      );
      expect(rows.length).toBeGreaterThan(0);
    } finally {
      await db.end();
    }
    // Once it listens again, the subscriber gets the session as it is now, then live events as before.
    await eventually('the state re-sent after the reconnect', async () => watcher.events.length > before, 15_000);
    expect(watcher.events[before].groupBuyingSessionProgress).toMatchObject({
      id: sessionId,
      paidQuantity: 1,
      status: 'FORMING',
    });
    await pay((await join(second, sessionId, 2)).paymentUrl);
    await eventually('progress 3 after the reconnect', async () =>
      watcher.events.some((e) => e.groupBuyingSessionProgress.paidQuantity === 3),
    );
    expect(watcher.errors).toEqual([]);
  });

  it('answers NOT_FOUND to a progress subscription on an unknown session', async () => {
    const watcher = subscribe(
      null,
      `subscription($id: ID!) { groupBuyingSessionProgress(sessionId: $id) { paidQuantity product { name } } }`,
      {
        id: '01930000-0000-7000-8000-00000000dead',
      },
    );
    await eventually('an error', async () => watcher.errors.length > 0, 10_000);
    expect((watcher.errors[0] as { extensions?: { code?: string } }).extensions?.code).toBe('NOT_FOUND');
    expect(watcher.events).toEqual([]);
  });

  it('fails a session below its MOQ: refunds to card and wallet once, expires the unpaid invoice', async () => {
    const [walletBuyer, cardBuyer, unpaidBuyer] = await Promise.all([
      buyerWithAddress(),
      buyerWithAddress(),
      buyerWithAddress(),
    ]);
    const sessionId = await openSession(10, 12_000);
    const cardNotifications = subscribe(cardBuyer, `subscription { notificationAdded { type } }`);
    const walletJoin = await join(walletBuyer, sessionId, 2, 'WALLET');
    const cardJoin = await join(cardBuyer, sessionId, 1);
    const unpaidJoin = await join(unpaidBuyer, sessionId, 1);
    await pay(walletJoin.paymentUrl);
    await pay(cardJoin.paymentUrl);

    await eventually('FAILED', async () => (await sessionStatus(sessionId)).status === 'FAILED', 45_000);
    const participation = async (user: SignedInUser) =>
      ok(
        await stack.graphql(
          `query($id: ID!) { groupBuyingSession(id: $id) { myParticipation { status } } }`,
          { id: sessionId },
          as(user),
        ),
      ).groupBuyingSession.myParticipation.status;
    await eventually(
      'refunds',
      async () => (await participation(walletBuyer)) === 'REFUNDED' && (await participation(cardBuyer)) === 'REFUNDED',
    );
    await eventually('unpaid EXPIRED', async () => (await participation(unpaidBuyer)) === 'EXPIRED');
    const invoice = await (
      await fetch(`${stack.sandboxUrl}/__sandbox/xendit/invoices/${invoiceOf(unpaidJoin.paymentUrl)}`)
    ).json();
    expect(invoice.invoice.status).toBe('EXPIRED');
    await eventually('REFUND_COMPLETED', async () =>
      cardNotifications.events.some((e) => e.notificationAdded.type === 'REFUND_COMPLETED'),
    );

    const wallet = async () =>
      ok(
        await stack.graphql(
          `{ myWallet { balance transactions(first: 10) { edges { node { amount balanceAfter } } } } }`,
          {},
          as(walletBuyer),
        ),
      ).myWallet;
    const credited = await eventually('wallet credit', async () => (await wallet()).balance === 80000 && wallet());
    expect(credited.transactions.edges.map((e: any) => e.node)).toEqual([{ amount: 80000, balanceAfter: 80000 }]);

    // Replaying the refund (an operator, or a retried sweep) changes nothing.
    const replay = await stack.internal('payment', 'POST', '/api/payments/refund-session', {
      sessionId,
      reason: 'replay',
    });
    expect(replay.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await wallet()).transactions.edges).toHaveLength(1);
    const refunds = await (
      await fetch(`${stack.sandboxUrl}/__sandbox/xendit/refunds?invoiceId=${invoiceOf(cardJoin.paymentUrl)}`)
    ).json();
    expect(refunds.refunds).toHaveLength(1);

    // The ledger's wallet account and the wallet agree; everything balances.
    const account = await stack.internal(
      'payment',
      'GET',
      `/api/payments/ledger/accounts/${encodeURIComponent(`wallet:${walletBuyer.userId}`)}`,
    );
    expect(-account.body.balance).toBe((await wallet()).balance);
    await expectLedgerBalanced();
  });
});
