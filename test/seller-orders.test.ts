import { Client } from 'pg';
import { startTestStack, type TestStack, errorCode } from './support/e2e';
import { eventually, settled } from './support/eventually';
import { DEMO_FACTORIES, DEMO_OWNERS, DEMO_PRODUCTS } from '../lib/demo-data';
import type { Caller } from '../lib/internal-auth';
import { withDatabase } from '../lib/database';
import { newId } from '../lib/ids';
import { factoryBalancePath, orderDeliveredPath, REFUND_ORDER_PATH } from '../lib/contracts/seller';
import { INVENTORY_RESTOCK_PATH } from '../lib/contracts/warehouse';
import { createAddress, CREATE_ORDER, stockOf } from '../subgraphs/order/test-support';

/**
 * Orders from the factory's side, through real processes: listing and reading addresses, accept → ship →
 * deliver, the buyer's and the factory's cancel (its stock back in the warehouse; a group-buying order refunded
 * from escrow while held), and cancels racing each other and the payment callback.
 */
const FACTORY = DEMO_FACTORIES[0];
const OWNER: Caller = { userId: DEMO_OWNERS[0].id, role: 'FACTORY_OWNER' };
/** Owns Batik Sekar Arum only. */
const OTHER_OWNER: Caller = { userId: DEMO_OWNERS[1].id, role: 'FACTORY_OWNER' };
const ADMIN: Caller = { userId: newId(), role: 'ADMIN' };
const buyer = (): Caller => ({ userId: newId(), role: 'BUYER' });
const [shirtM, shirtL, shirtWhite] = DEMO_PRODUCTS[0].variants.map((v) => v.id as string);
const batik = DEMO_PRODUCTS[1].variants[0].id as string;

const FACTORY_ORDERS = `query($factoryId: ID!, $status: OrderStatus, $first: Int, $after: String) {
  factoryOrders(factoryId: $factoryId, status: $status, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id status total items { quantity productName variant { sku } }
      shippingAddress { recipientName phone line1 city postalCode } statusHistory { from to } } }
  }
}`;
const ORDER = `query($id: ID!) { order(id: $id) { id status shippingAddress { city line1 }
  shipment { id status } payment { status refunds { amount status destination } } } }`;
const ACCEPT = `mutation($id: ID!) { acceptOrder(orderId: $id) { id status shipment { id status trackingNumber } } }`;
const CANCEL = `mutation($id: ID!, $reason: String) { cancelOrder(orderId: $id, reason: $reason) { id status } }`;
const SHIP = `mutation($input: UpdateShipmentStatusInput!) { updateShipmentStatus(input: $input) { id status } }`;

describe('seller side: orders from the factory', () => {
  let stack: TestStack;
  let orderDb: Client;
  let groupDb: Client;

  beforeAll(async () => {
    stack = await startTestStack({
      subgraphs: [
        'product',
        'factory',
        'address',
        'warehouse',
        'order',
        'payment',
        'notification',
        'logistics',
        'wallet',
        'group-buying',
      ],
      sandbox: true,
      env: { MAX_UNPAID_ORDERS: '20' },
    });
    orderDb = new Client({ connectionString: withDatabase(stack.env.DATABASE_URL, `${stack.env.DB_PREFIX}_order`) });
    await orderDb.connect();
    groupDb = new Client({
      connectionString: withDatabase(stack.env.DATABASE_URL, `${stack.env.DB_PREFIX}_group_buying`),
    });
    await groupDb.connect();
  });
  afterAll(async () => {
    await orderDb?.end();
    await groupDb?.end();
    await stack?.stop();
  });

  const as = (caller: Caller, query: string, variables: Record<string, unknown> = {}) =>
    stack.graphql(query, variables, { caller });
  const statusOf = async (orderId: string) =>
    (await stack.internal('order', 'GET', `/api/orders/${orderId}`)).body.status as string;
  const untilStatus = async (orderId: string, status: string) => {
    await eventually(`order ${orderId} ${status}`, async () => (await statusOf(orderId)) === status);
  };
  const outboxOf = async (dedupeKey: string) =>
    (await orderDb.query('select service, path, body, delivered_at from outbox where dedupe_key = $1', [dedupeKey]))
      .rows[0];
  const invariants = async () => (await stack.internal('payment', 'GET', '/api/payments/ledger/invariants')).body;
  const invoiceOf = async (paymentUrl: string) =>
    (
      (await (await fetch(`${stack.sandboxUrl}/__sandbox/xendit/invoices/${paymentUrl.split('/').pop()}`)).json()) as {
        invoice: { status: string };
      }
    ).invoice;

  /** A regular order of `variantId` by `who`, paid in the sandbox unless `pay` is false. */
  async function placeOrder(who: Caller, options: { variantId?: string; pay?: boolean; refundTo?: string } = {}) {
    const addressId = await createAddress(stack, who, 'Cimahi');
    const created = await as(who, CREATE_ORDER, {
      input: {
        addressId,
        items: [{ variantId: options.variantId ?? shirtM, quantity: 2 }],
        ...(options.refundTo ? { refundTo: options.refundTo } : {}),
      },
    });
    expect(created.errors).toBeUndefined();
    const { order, paymentUrl } = created.data.createOrder;
    if (options.pay !== false) {
      await stack.payInvoice(paymentUrl);
      await untilStatus(order.id, 'PAID');
    }
    return { orderId: order.id as string, total: order.total as number, paymentUrl: paymentUrl as string, addressId };
  }

  it("lists a factory's orders to its owner and an admin, newest first with addresses; refuses everyone else", async () => {
    const alice = buyer();
    const older = await placeOrder(alice);
    const newer = await placeOrder(alice, { variantId: shirtL, pay: false });
    const elsewhere = await placeOrder(buyer(), { variantId: batik });

    const listed = await as(OWNER, FACTORY_ORDERS, { factoryId: FACTORY.id, first: 1 });
    expect(listed.errors).toBeUndefined();
    expect(listed.data.factoryOrders.totalCount).toBeGreaterThanOrEqual(2);
    expect(listed.data.factoryOrders.edges[0].node).toMatchObject({
      id: newer.orderId,
      status: 'PENDING_PAYMENT',
      items: [{ quantity: 2, variant: { sku: 'KPC30-BLK-L' } }],
      shippingAddress: { recipientName: 'Ayu', phone: expect.any(String), line1: 'Jl. Merdeka 1', city: 'Cimahi' },
    });
    const next = await as(OWNER, FACTORY_ORDERS, {
      factoryId: FACTORY.id,
      first: 1,
      after: listed.data.factoryOrders.pageInfo.endCursor,
    });
    expect(next.data.factoryOrders.edges[0].node).toMatchObject({
      id: older.orderId,
      status: 'PAID',
      statusHistory: [
        { from: null, to: 'PENDING_PAYMENT' },
        { from: 'PENDING_PAYMENT', to: 'PAID' },
      ],
    });
    const paid = await as(ADMIN, FACTORY_ORDERS, { factoryId: FACTORY.id, status: 'PAID' });
    expect(paid.errors).toBeUndefined();
    const paidIds = paid.data.factoryOrders.edges.map((e: any) => e.node.id);
    expect(paidIds).toContain(older.orderId);
    expect(paidIds).not.toContain(newer.orderId);
    expect(paidIds).not.toContain(elsewhere.orderId);

    // The owner reads one order's address too; its buyer still does; nobody else sees the order at all.
    expect((await as(OWNER, ORDER, { id: older.orderId })).data.order.shippingAddress).toEqual({
      city: 'Cimahi',
      line1: 'Jl. Merdeka 1',
    });
    expect((await as(alice, ORDER, { id: older.orderId })).data.order.shippingAddress.city).toBe('Cimahi');
    for (const stranger of [OTHER_OWNER, buyer()]) {
      expect(await as(stranger, ORDER, { id: older.orderId })).toEqual({ data: { order: null } });
    }
    // Seeing orders does not open the address book: the address itself stays its owner's.
    expect((await as(OWNER, `query($id: ID!) { address(id: $id) { id } }`, { id: older.addressId })).data).toEqual({
      address: null,
    });

    for (const stranger of [OTHER_OWNER, alice]) {
      expect(errorCode(await as(stranger, FACTORY_ORDERS, { factoryId: FACTORY.id }))).toBe('FORBIDDEN');
    }
    expect(errorCode(await stack.graphql(FACTORY_ORDERS, { factoryId: FACTORY.id }))).toBe('UNAUTHENTICATED');
    expect(errorCode(await as(OWNER, FACTORY_ORDERS, { factoryId: 'nope' }))).toBe('BAD_USER_INPUT');

    // The owner is told of the paid order (notification resolves the factory's owner).
    expect(await outboxOf(`notify:order-received:${older.orderId}`)).toMatchObject({
      service: 'notification',
      body: { type: 'ORDER_RECEIVED', factoryId: FACTORY.id, data: { orderId: older.orderId } },
    });
    expect(await outboxOf(`notify:order-received:${newer.orderId}`)).toBeUndefined();
    await eventually('the owner sees ORDER_RECEIVED', async () => {
      const mine = await as(OWNER, `{ myNotifications(first: 50) { edges { node { type body } } } }`);
      return mine.data?.myNotifications.edges.some(
        (e: any) => e.node.type === 'ORDER_RECEIVED' && e.node.body.includes(older.orderId),
      );
    });
  });

  it('accepts a paid regular order, ships and delivers it; the order follows and the money is told', async () => {
    const alice = buyer();
    const { orderId, total } = await placeOrder(alice);
    const unpaid = await placeOrder(alice, { pay: false });

    expect(errorCode(await as(alice, ACCEPT, { id: orderId }))).toBe('FORBIDDEN');
    expect(errorCode(await as(OTHER_OWNER, ACCEPT, { id: orderId }))).toBe('FORBIDDEN');
    expect(errorCode(await as(OWNER, ACCEPT, { id: newId() }))).toBe('NOT_FOUND');
    expect(errorCode(await as(OWNER, ACCEPT, { id: unpaid.orderId }))).toBe('CONFLICT');

    const accepted = await as(OWNER, ACCEPT, { id: orderId });
    expect(accepted.errors).toBeUndefined();
    expect(accepted.data.acceptOrder).toMatchObject({ status: 'PROCESSING', shipment: { status: 'PENDING' } });
    const shipmentId = accepted.data.acceptOrder.shipment.id;
    expect(errorCode(await as(OWNER, ACCEPT, { id: orderId }))).toBe('CONFLICT');

    const ship = (status: string) => as(OWNER, SHIP, { input: { shipmentId, status } });
    expect((await ship('PICKED_UP')).errors).toBeUndefined();
    // The pick-up asked the order first: SHIPPED already when the mutation answers.
    expect(await statusOf(orderId)).toBe('SHIPPED');
    expect(errorCode(await as(OWNER, CANCEL, { id: orderId }))).toBe('CONFLICT');
    expect((await ship('IN_TRANSIT')).errors).toBeUndefined();
    expect((await ship('DELIVERED')).errors).toBeUndefined();
    await untilStatus(orderId, 'DELIVERED');

    const view = await as(alice, ORDER, { id: orderId });
    expect(view.data.order).toMatchObject({ status: 'DELIVERED', shipment: { id: shipmentId, status: 'DELIVERED' } });
    const delivered = await outboxOf(`order-delivered:${orderId}`);
    expect(delivered).toMatchObject({ service: 'payment', path: orderDeliveredPath(orderId), body: { orderId } });
    await eventually(
      'the delivered call reached payment',
      async () => (await outboxOf(`order-delivered:${orderId}`)).delivered_at,
    );
    const balance = (await stack.internal('payment', 'GET', factoryBalancePath(FACTORY.id))).body;
    // Its money became available, less commission (other tests' orders of this factory are never delivered).
    expect(balance.available + balance.commission).toBe(total);
    expect(balance.commission).toBe(Math.floor((total * 300) / 10_000));
    expect((await invariants()).ok).toBe(true);
  });

  it('lets the buyer cancel an unpaid order: invoice expired at Xendit, stock back, once', async () => {
    const alice = buyer();
    const before = await stockOf(stack, shirtWhite);
    const { orderId, paymentUrl } = await placeOrder(alice, { variantId: shirtWhite, pay: false });
    expect((await stockOf(stack, shirtWhite)).reserved).toBe(before.reserved + 2);

    expect(errorCode(await as(buyer(), CANCEL, { id: orderId }))).toBe('FORBIDDEN');
    expect(errorCode(await as(OTHER_OWNER, CANCEL, { id: orderId }))).toBe('FORBIDDEN');
    // The factory cannot cancel what the buyer may still pay; unpaid orders lapse by themselves.
    expect(errorCode(await as(OWNER, CANCEL, { id: orderId }))).toBe('CONFLICT');
    expect(await statusOf(orderId)).toBe('PENDING_PAYMENT');

    const results = await Promise.all([as(alice, CANCEL, { id: orderId }), as(alice, CANCEL, { id: orderId })]);
    expect(results.map((r) => errorCode(r) ?? r.data.cancelOrder.status).sort()).toEqual(['CANCELLED', 'CONFLICT']);
    expect(await statusOf(orderId)).toBe('CANCELLED');
    expect((await invoiceOf(paymentUrl)).status).toBe('EXPIRED');
    expect((await as(alice, ORDER, { id: orderId })).data.order.payment.status).toBe('EXPIRED');
    expect(
      await settled(
        () => stockOf(stack, shirtWhite),
        (s) => s.reserved === before.reserved,
      ),
    ).toEqual(before);
    expect(errorCode(await as(alice, CANCEL, { id: orderId }))).toBe('CONFLICT');
  });

  it('lets the factory cancel a PAID or PROCESSING order: REFUNDED once, refunded in full, stock back, shipment cancelled', async () => {
    const alice = buyer();
    const before = await stockOf(stack, shirtM);
    const paid = await placeOrder(alice);
    const processing = await placeOrder(alice, { refundTo: 'WALLET' });
    // Paid: the 2 × 2 units have left the warehouse (their commits arrive through order's outbox).
    expect(
      await settled(
        () => stockOf(stack, shirtM),
        (s) => s.reserved === before.reserved,
      ),
    ).toEqual({ quantity: before.quantity - 4, reserved: before.reserved });
    const accepted = await as(OWNER, ACCEPT, { id: processing.orderId });
    const shipmentId = accepted.data.acceptOrder.shipment.id;

    // Once paid, the buyer asks the factory.
    expect(errorCode(await as(alice, CANCEL, { id: paid.orderId }))).toBe('CONFLICT');
    expect(errorCode(await as(OTHER_OWNER, CANCEL, { id: paid.orderId }))).toBe('FORBIDDEN');

    const racing = await Promise.all([
      as(OWNER, CANCEL, { id: paid.orderId, reason: 'Out of fabric' }),
      as(ADMIN, CANCEL, { id: paid.orderId, reason: 'Out of fabric' }),
    ]);
    expect(racing.map((r) => errorCode(r) ?? r.data.cancelOrder.status).sort()).toEqual(['CONFLICT', 'REFUNDED']);
    expect((await as(ADMIN, CANCEL, { id: processing.orderId })).data.cancelOrder.status).toBe('REFUNDED');

    expect(await outboxOf(`refund-order:${paid.orderId}`)).toMatchObject({
      service: 'payment',
      path: REFUND_ORDER_PATH,
      body: { orderId: paid.orderId, reason: 'Out of fabric' },
    });
    expect(await outboxOf(`notify:order-cancelled:${paid.orderId}`)).toMatchObject({
      body: { userId: alice.userId, type: 'ORDER_CANCELLED' },
    });
    // The parcel never leaves: its shipment is cancelled, and a pick-up is refused.
    await eventually('the shipment cancelled', async () => {
      const order = (await as(OWNER, ORDER, { id: processing.orderId })).data.order;
      return order.shipment?.status === 'CANCELLED';
    });
    expect(errorCode(await as(OWNER, SHIP, { input: { shipmentId, status: 'PICKED_UP' } }))).toBe('CONFLICT');

    {
      for (const [{ orderId, total }, destination] of [
        [paid, 'ORIGINAL_METHOD'],
        [processing, 'WALLET'],
      ] as const) {
        const refunds = await settled(
          async () => (await as(alice, ORDER, { id: orderId })).data.order.payment.refunds,
          (r: any[]) => r.length > 0 && r.every((x) => x.status === 'SUCCEEDED'),
        );
        expect(refunds).toEqual([{ amount: total, status: 'SUCCEEDED', destination }]);
      }
      expect((await invariants()).ok).toBe(true);
    }
    expect(await statusOf(paid.orderId)).toBe('REFUNDED');
    // Every unit is back where it was taken from, once: a replayed restock changes nothing.
    expect(
      await settled(
        () => stockOf(stack, shirtM),
        (s) => s.quantity === before.quantity,
      ),
    ).toEqual(before);
    expect((await stack.internal('warehouse', 'POST', INVENTORY_RESTOCK_PATH, { orderId: paid.orderId })).status).toBe(
      200,
    );
    expect(await stockOf(stack, shirtM)).toEqual(before);
  });

  it('lets exactly one of a factory cancel and the pick-up win; order and shipment agree', async () => {
    for (let round = 0; round < 3; round += 1) {
      const { orderId } = await placeOrder(buyer());
      const shipmentId = (await as(OWNER, ACCEPT, { id: orderId })).data.acceptOrder.shipment.id;
      const [cancel, pickUp] = await Promise.all([
        as(OWNER, CANCEL, { id: orderId }),
        as(OWNER, SHIP, { input: { shipmentId, status: 'PICKED_UP' } }),
      ]);
      expect([cancel, pickUp].map((r) => errorCode(r) ?? 'OK').sort()).toEqual(['CONFLICT', 'OK']);
      const [order, shipment] = cancel.errors ? ['SHIPPED', 'PICKED_UP'] : ['REFUNDED', 'CANCELLED'];
      expect(await statusOf(orderId)).toBe(order);
      await eventually(
        `shipment ${shipment}`,
        async () => (await as(OWNER, ORDER, { id: orderId })).data.order.shipment.status === shipment,
      );
    }
  });

  it('settles a buyer cancel racing the payment callback to exactly one outcome, money consistent', async () => {
    const outcomes: string[] = [];
    for (let round = 0; round < 4; round += 1) {
      const alice = buyer();
      const { orderId, paymentUrl } = await placeOrder(alice, { pay: false });
      const invoiceId = paymentUrl.split('/').pop();
      const [cancel] = await Promise.all([
        as(alice, CANCEL, { id: orderId }),
        fetch(`${stack.sandboxUrl}/__sandbox/xendit/invoices/${invoiceId}/pay`, { method: 'POST' }),
      ]);
      if (errorCode(cancel) === 'CONFLICT') {
        // The payment won: the order is paid, the factory's to fulfil or refund.
        await untilStatus(orderId, 'PAID');
        outcomes.push('PAID');
      } else {
        expect(cancel.errors).toBeUndefined();
        expect(cancel.data.cancelOrder.status).toBe('CANCELLED');
        // A payment that landed after the cancel is a late payment, refunded by payment.
        const payment = await settled(
          async () => (await as(alice, ORDER, { id: orderId })).data.order.payment,
          (p) => ['EXPIRED', 'REFUNDED'].includes(p.status),
        );
        expect(['EXPIRED', 'REFUNDED']).toContain(payment.status);
        outcomes.push('CANCELLED');
      }
      expect(['PAID', 'CANCELLED']).toContain(await statusOf(orderId));
    }
    expect(outcomes).toHaveLength(4);
    await eventually('the ledger invariants', async () => (await invariants()).ok);
  });
  it('refunds a group-buying order the factory cancels while its escrow is held; once released it is CONFLICT', async () => {
    // Batik Sekar Arum's session, so its escrow release is the only money released to that factory here.
    const product = DEMO_PRODUCTS[1];
    const owner = OTHER_OWNER;
    const price = 40_000;
    const session = async (who?: Caller) =>
      (
        await stack.graphql(
          `query($id: ID!) { groupBuyingSession(id: $id) { status paidQuantity myParticipation { status } } }`,
          { id: sessionId },
          who ? { caller: who } : undefined,
        )
      ).data.groupBuyingSession;
    const created = await as(
      owner,
      `mutation($input: CreateGroupBuyingSessionInput!) { createGroupBuyingSession(input: $input) { id } }`,
      {
        input: {
          productId: product.id,
          variantId: product.variants[0].id,
          moq: 3,
          groupPrice: price,
          endsAt: new Date(Date.now() + 120_000).toISOString(),
        },
      },
    );
    expect(created.errors).toBeUndefined();
    const sessionId: string = created.data.createGroupBuyingSession.id;

    // Three buyers of one unit each: cancelled at MOQ_REACHED, cancelled in production, kept.
    const [early, late, kept] = [buyer(), buyer(), buyer()];
    const invoices = new Map<Caller, string>();
    for (const [who, refundTo] of [
      [early, 'ORIGINAL_METHOD'],
      [late, 'WALLET'],
      [kept, 'ORIGINAL_METHOD'],
    ] as const) {
      const addressId = await createAddress(stack, who, 'Solo');
      const joined = await as(
        who,
        `mutation($input: JoinGroupBuyingSessionInput!) { joinGroupBuyingSession(input: $input) { paymentUrl } }`,
        { input: { sessionId, quantity: 1, addressId, refundTo } },
      );
      expect(joined.errors).toBeUndefined();
      const { paymentUrl } = joined.data.joinGroupBuyingSession;
      await stack.payInvoice(paymentUrl);
      invoices.set(who, paymentUrl.split('/').pop());
    }
    await eventually('3 units paid', async () => (await session()).paidQuantity === 3);
    // Ended now rather than at endsAt: the sweep decides it and places the bulk orders.
    await groupDb.query('update group_buying_sessions set ends_at = now() where id = $1', [sessionId]);
    await eventually('MOQ_REACHED', async () => (await session()).status === 'MOQ_REACHED');
    /** The buyer's bulk order, once payment knows its payment (the link goes through order's outbox). */
    const orderOf = (who: Caller) =>
      eventually('the bulk order, linked', async () => {
        const mine = await as(who, `{ myOrders(first: 5) { edges { node { id source status } } } }`);
        const order = mine.data?.myOrders.edges.map((e: any) => e.node).find((o: any) => o.source === 'GROUP_BUYING');
        if (!order) return null;
        const linked = await stack.internal('payment', 'GET', `/api/payments/by-order/${order.id}`);
        return linked.status === 200 && (order.id as string);
      });
    const refundsOf = async (who: Caller, orderId: string) =>
      settled(
        async () => (await as(who, ORDER, { id: orderId })).data.order.payment.refunds,
        (r: any[]) => r.length > 0 && r.every((x) => x.status === 'SUCCEEDED'),
      );
    const participantOf = (who: Caller) =>
      settled(
        async () => (await session(who)).myParticipation.status,
        (status) => status === 'REFUNDED',
      );

    // MOQ_REACHED: the buyer cannot cancel a paid order, another factory's owner may not; owner and admin race.
    const earlyOrder = await orderOf(early);
    expect(errorCode(await as(early, CANCEL, { id: earlyOrder }))).toBe('CONFLICT');
    expect(errorCode(await as(OWNER, CANCEL, { id: earlyOrder }))).toBe('FORBIDDEN');
    const racing = await Promise.all([
      as(owner, CANCEL, { id: earlyOrder, reason: 'Dye lot failed' }),
      as(ADMIN, CANCEL, { id: earlyOrder, reason: 'Dye lot failed' }),
    ]);
    const outcomes = racing.map((r) => errorCode(r) ?? r.data.cancelOrder.status);
    expect(outcomes).toContain('REFUNDED');
    expect(outcomes.every((o) => ['REFUNDED', 'CONFLICT'].includes(o))).toBe(true);
    expect(await statusOf(earlyOrder)).toBe('REFUNDED');
    expect(await refundsOf(early, earlyOrder)).toEqual([
      { amount: price, status: 'SUCCEEDED', destination: 'ORIGINAL_METHOD' },
    ]);
    const atXendit = await (
      await fetch(`${stack.sandboxUrl}/__sandbox/xendit/refunds?invoiceId=${invoices.get(early)}`)
    ).json();
    expect(atXendit.refunds.map((r: any) => r.refund.amount)).toEqual([price]);
    expect(await participantOf(early)).toBe('REFUNDED');
    expect(await outboxOf(`notify:order-cancelled:${earlyOrder}`)).toMatchObject({
      body: { userId: early.userId, type: 'ORDER_CANCELLED' },
    });

    // IN_PRODUCTION: still held, refunded to the wallet this buyer chose.
    await eventually('production started', async () => {
      const started = await as(owner, `mutation($id: ID!) { startProduction(sessionId: $id) { status } }`, {
        id: sessionId,
      });
      if (started.errors && errorCode(started) !== 'CONFLICT') throw new Error(JSON.stringify(started.errors));
      return started.data?.startProduction;
    });
    const lateOrder = await orderOf(late);
    expect((await as(ADMIN, CANCEL, { id: lateOrder })).data.cancelOrder.status).toBe('REFUNDED');
    expect(await refundsOf(late, lateOrder)).toEqual([{ amount: price, status: 'SUCCEEDED', destination: 'WALLET' }]);
    expect(await participantOf(late)).toBe('REFUNDED');
    expect(errorCode(await as(owner, CANCEL, { id: lateOrder }))).toBe('CONFLICT');

    // Production completed: the escrow is the factory's now, so the cancel is refused and nothing changes.
    const completed = await as(owner, `mutation($id: ID!) { completeProduction(sessionId: $id) { status } }`, {
      id: sessionId,
    });
    expect(completed.errors).toBeUndefined();
    const keptOrder = await orderOf(kept);
    expect(errorCode(await as(owner, CANCEL, { id: keptOrder }))).toBe('CONFLICT');
    expect(await statusOf(keptOrder)).toBe('PAID');
    expect((await session(kept)).myParticipation.status).toBe('ORDERED');
    expect((await as(kept, ORDER, { id: keptOrder })).data.order.payment.refunds).toEqual([]);
    // Only the kept order ships; the session keeps the paid quantity that decided it.
    await eventually(
      "the kept order's shipment",
      async () => (await as(owner, ORDER, { id: keptOrder })).data.order.shipment?.status === 'PENDING',
    );
    expect((await as(owner, ORDER, { id: earlyOrder })).data.order.shipment).toBeNull();
    expect(await session()).toMatchObject({ status: 'COMPLETED', paidQuantity: 3 });
    const balance = (await stack.internal('payment', 'GET', factoryBalancePath(product.factoryId))).body;
    expect(balance.released).toBe(price);
    await eventually('the ledger invariants', async () => (await invariants()).ok);
  });
});
