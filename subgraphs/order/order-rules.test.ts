import { startTestStack, type TestStack, errorCode, outliveCaller } from '../../test/support/e2e';
import { DEMO_FACTORIES, DEMO_PRODUCTS } from '../../lib/demo-data';
import { newId } from '../../lib/ids';
import type { Caller } from '../../lib/internal-auth';
import { countRows, createAddress, CREATE_ORDER, footprint, rowsOf as rowsIn, stockOf } from './test-support';
import { settled } from '../../test/support/eventually';

/**
 * The order's own rules against the real product, address, factory, warehouse and payment services (payment
 * on the Xendit sandbox); a payment outage is a killed payment process.
 */
const [shirtM, shirtL, shirtWhite] = DEMO_PRODUCTS[0].variants.map((v) => v.id as string);
const batikM = DEMO_PRODUCTS[1].variants[0].id as string;
const mugSand = DEMO_PRODUCTS[2].variants[1].id as string;
const admin: Caller = { userId: newId(), role: 'ADMIN' };
const buyer = (): Caller => ({ userId: newId(), role: 'BUYER' });

describe('order rules', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({
      subgraphs: ['product', 'factory', 'address', 'warehouse', 'order', 'payment'],
      sandbox: true,
    });
  });
  afterAll(() => stack?.stop());

  const rowsOf = (sql: string, params: unknown[]) => rowsIn(stack, 'order', sql, params);
  const paymentOf = async (orderId: string) =>
    (await stack.internal('payment', 'GET', `/api/payments/by-order/${orderId}`)).body;

  const order = (caller: Caller, input: Record<string, unknown>) => stack.graphql(CREATE_ORDER, { input }, { caller });
  const orderStatus = async (orderId: string) =>
    (await stack.internal('order', 'GET', `/api/orders/${orderId}`)).body.status;

  it('prices from the catalog, reserves stock and starts the payment', async () => {
    const me = buyer();
    const addressId = await createAddress(stack, me);
    const before = await stockOf(stack, shirtL);
    const result = await order(me, {
      addressId,
      items: [
        { variantId: shirtM, quantity: 2 },
        { variantId: shirtL, quantity: 1 },
      ],
    });
    expect(result.errors).toBeUndefined();
    const created = result.data.createOrder;
    expect(created.order).toMatchObject({
      status: 'PENDING_PAYMENT',
      source: 'REGULAR',
      currency: 'IDR',
      total: 2 * 45000 + 47000,
    });
    expect(created.order.items).toEqual([
      { quantity: 2, unitPrice: 45000, productName: DEMO_PRODUCTS[0].name, variant: { id: shirtM } },
      { quantity: 1, unitPrice: 47000, productName: DEMO_PRODUCTS[0].name, variant: { id: shirtL } },
    ]);
    const payment = await paymentOf(created.order.id);
    const paymentId = payment.id as string;
    expect(created.paymentUrl).toBe(payment.invoiceUrl);
    expect(created.paymentUrl).toMatch(/\/checkout\//);
    expect(payment.amount).toBe(created.order.total);
    expect(await stockOf(stack, shirtL)).toEqual({ quantity: before.quantity, reserved: before.reserved + 1 });

    // Payment says PAID: the order is PAID (a repeat is fine) and the stock leaves the warehouse.
    for (let i = 0; i < 2; i += 1) {
      const paid = await stack.internal('order', 'POST', '/api/orders/payment-status', {
        orderId: created.order.id,
        paymentId,
        status: 'PAID',
      });
      expect(paid).toMatchObject({ status: 200, body: { status: 'PAID' } });
    }
    expect(
      await settled(
        () => stockOf(stack, shirtL),
        (s) => s.reserved === before.reserved,
      ),
    ).toEqual({
      quantity: before.quantity - 1,
      reserved: before.reserved,
    });
    // Illegal moves are CONFLICT and change nothing; the fulfilment path is walked step by step.
    const expired = await stack.internal('order', 'POST', '/api/orders/payment-status', {
      orderId: created.order.id,
      paymentId,
      status: 'EXPIRED',
    });
    expect(expired.status).toBe(409);
    const otherPayment = await stack.internal('order', 'POST', '/api/orders/payment-status', {
      orderId: created.order.id,
      paymentId: newId(),
      status: 'PAID',
    });
    expect(otherPayment.status).toBe(409);
    expect(
      (
        await stack.internal('order', 'POST', `/api/orders/${created.order.id}/shipment-status`, {
          status: 'DELIVERED',
        })
      ).body.status,
    ).toBe('DELIVERED');
    expect(
      (await stack.internal('order', 'POST', `/api/orders/${created.order.id}/shipment-status`, { status: 'SHIPPED' }))
        .status,
    ).toBe(409);
    expect(
      (await stack.internal('order', 'POST', `/api/orders/${created.order.id}/shipment-status`, { status: 'LOST' }))
        .status,
    ).toBe(400);
    expect(
      (await stack.internal('order', 'POST', `/api/orders/${newId()}/shipment-status`, { status: 'SHIPPED' })).status,
    ).toBe(404);

    // Visible to its buyer, the owner of its factory and admins; null for anyone else.
    const query = `query($id: ID!) { order(id: $id) { id status shippingAddress { id } } }`;
    // Demo factory 0 (the shirts) is owned by owner 0; owner 1 owns only the batik factory.
    const factoryOwner: Caller = { userId: DEMO_FACTORIES[0].ownerId, role: 'FACTORY_OWNER' };
    const otherOwner: Caller = { userId: DEMO_FACTORIES[1].ownerId, role: 'FACTORY_OWNER' };
    for (const who of [me, admin, factoryOwner]) {
      expect((await stack.graphql(query, { id: created.order.id }, { caller: who })).data.order).toEqual({
        id: created.order.id,
        status: 'DELIVERED',
        shippingAddress: { id: addressId },
      });
    }
    for (const who of [buyer(), otherOwner])
      expect((await stack.graphql(query, { id: created.order.id }, { caller: who })).data.order).toBeNull();
    expect(errorCode(await stack.graphql(query, { id: created.order.id }))).toBe('UNAUTHENTICATED');
  });

  it('refuses bad orders before writing anything', async () => {
    const me = buyer();
    const addressId = await createAddress(stack, me);
    const someoneElses = await createAddress(stack, buyer());
    const before = await footprint(stack);
    const stockBefore = await stockOf(stack, shirtM);
    const cases: [Record<string, unknown>, string][] = [
      [{ addressId, items: [{ variantId: shirtM, quantity: 0 }] }, 'BAD_USER_INPUT'],
      [{ addressId, items: [{ variantId: shirtM, quantity: -3 }] }, 'BAD_USER_INPUT'],
      [{ addressId, items: [] }, 'BAD_USER_INPUT'],
      [{ addressId, items: [{ variantId: newId(), quantity: 1 }] }, 'BAD_USER_INPUT'],
      [
        {
          addressId,
          items: [
            { variantId: shirtM, quantity: 1 },
            { variantId: shirtM, quantity: 1 },
          ],
        },
        'BAD_USER_INPUT',
      ],
      [
        {
          addressId,
          items: [
            { variantId: shirtM, quantity: 1 },
            { variantId: batikM, quantity: 1 },
          ],
        },
        'BAD_USER_INPUT',
      ],
      [{ addressId: someoneElses, items: [{ variantId: shirtM, quantity: 1 }] }, 'FORBIDDEN'],
      [{ addressId: newId(), items: [{ variantId: shirtM, quantity: 1 }] }, 'NOT_FOUND'],
      // A total the API's Int cannot carry (100,000 × Rp45,000) is bad input; one that fits but exceeds stock conflicts.
      [{ addressId, items: [{ variantId: shirtM, quantity: 100_000 }] }, 'BAD_USER_INPUT'],
      [{ addressId, items: [{ variantId: shirtM, quantity: 40_000 }] }, 'CONFLICT'],
      // All or nothing: the first line has stock, the second does not.
      [
        {
          addressId,
          items: [
            { variantId: shirtM, quantity: 1 },
            { variantId: shirtWhite, quantity: 39_999 },
          ],
        },
        'CONFLICT',
      ],
    ];
    for (const [input, code] of cases)
      expect([JSON.stringify(input), errorCode(await order(me, input))]).toEqual([JSON.stringify(input), code]);
    // A price is not even part of the input type: GraphQL validation refuses it.
    const priced = await order(me, { addressId, items: [{ variantId: shirtM, quantity: 1, unitPrice: 1 }] });
    expect(priced.errors?.[0].message).toMatch(/unitPrice/);
    expect(
      errorCode(
        await stack.graphql(CREATE_ORDER, { input: { addressId, items: [{ variantId: shirtM, quantity: 1 }] } }),
      ),
    ).toBe('UNAUTHENTICATED');
    expect(await footprint(stack)).toEqual(before);
    expect(await stockOf(stack, shirtM)).toEqual(stockBefore);
  });

  it('cancels the order and releases its stock when the payment cannot be started', async () => {
    const me = buyer();
    const addressId = await createAddress(stack, me);
    const before = await stockOf(stack, mugSand);
    await stack.stack.kill('payment');
    try {
      const result = await order(me, { addressId, items: [{ variantId: mugSand, quantity: 4 }] });
      expect(errorCode(result)).toBe('INTERNAL_SERVER_ERROR');
      // A real failure, but one the buyer is told about plainly through the gateway.
      expect(result.errors?.[0]?.message).toMatch(/payment could not be started/);
    } finally {
      await stack.stack.startOne('payment');
    }
    expect(
      await countRows(stack, 'order', "select 1 from orders where user_id = $1 and status = 'CANCELLED'", [me.userId]),
    ).toBe(1);
    expect(
      await countRows(stack, 'order', "select 1 from orders where user_id = $1 and status <> 'CANCELLED'", [me.userId]),
    ).toBe(0);
    expect(
      await settled(
        () => stockOf(stack, mugSand),
        (s) => s.reserved === before.reserved,
      ),
    ).toEqual(before);
  });

  it('closes the invoice a payment call made after the order stopped waiting for it', async () => {
    const me = buyer();
    const addressId = await createAddress(stack, me);
    const restoreOrder = await outliveCaller(stack, 'order');
    try {
      const result = await order(me, { addressId, items: [{ variantId: shirtWhite, quantity: 1 }] });
      expect(result.errors?.[0]?.message).toMatch(/payment could not be started/);
      const [{ id: orderId }] = await rowsOf("select id from orders where user_id = $1 and status = 'CANCELLED'", [
        me.userId,
      ]);

      // Payment went on and made the invoice; order's abandon message then expires it, at Xendit too.
      const payment = await settled(
        () => paymentOf(orderId),
        (p) => p.status === 'EXPIRED' && Boolean(p.invoiceUrl),
        20_000,
      );
      expect(payment.status).toBe('EXPIRED');
      const invoiceId = payment.invoiceUrl.split('/').pop();
      const atXendit = await (await fetch(`${stack.sandboxUrl}/__sandbox/xendit/invoices/${invoiceId}`)).json();
      expect(atXendit.invoice.status).toBe('EXPIRED');
      // Nothing for the buyer to act on: no invoice left open, and the abandon is not retried.
      expect(
        await rowsOf('select delivered_at from outbox where dedupe_key = $1 and delivered_at is not null', [
          `payment-abandon:${orderId}`,
        ]),
      ).toHaveLength(1);
    } finally {
      await restoreOrder();
    }
  });

  it('creates bulk orders once per participant and links them to their payments', async () => {
    const sessionId = newId();
    const participants = await Promise.all(
      Array.from({ length: 3 }, async () => {
        const participant = { participantId: newId(), userId: newId(), quantity: 2, addressId: newId() };
        const escrow = await stack.internal('payment', 'POST', '/api/payments/escrow', {
          ...participant,
          sessionId,
          factoryId: DEMO_PRODUCTS[1].factoryId,
          amount: 300000,
          expiresAt: new Date(Date.now() + 600_000).toISOString(),
          description: 'Group buy',
        });
        expect(escrow.status).toBeLessThan(300);
        return { ...participant, paymentId: escrow.body.id as string };
      }),
    );
    const body = {
      sessionId,
      productId: DEMO_PRODUCTS[1].id,
      variantId: batikM,
      factoryId: DEMO_PRODUCTS[1].factoryId,
      unitPrice: 150000,
      participants,
    };
    const first = await stack.internal('order', 'POST', '/api/orders/bulk', body);
    expect(first.status).toBe(200);
    const [again, concurrent] = await Promise.all([
      stack.internal('order', 'POST', '/api/orders/bulk', body),
      stack.internal('order', 'POST', '/api/orders/bulk', body),
    ]);
    expect(again.body).toEqual(first.body);
    expect(concurrent.body).toEqual(first.body);
    expect(first.body.orders.map((o: { participantId: string }) => o.participantId)).toEqual(
      participants.map((p) => p.participantId),
    );
    expect(await countRows(stack, 'order', 'select 1 from orders where session_id = $1', [sessionId])).toBe(3);
    const summary = await stack.internal('order', 'GET', `/api/orders/${first.body.orders[0].orderId}`);
    expect(summary.body).toMatchObject({
      status: 'PAID',
      source: 'GROUP_BUYING',
      sessionId,
      total: 300000,
      userId: participants[0].userId,
    });
    // Each order is linked to its participant's escrow payment at payment.
    for (const [index, created] of (first.body.orders as { orderId: string }[]).entries()) {
      const linked = await settled(
        () => paymentOf(created.orderId),
        (found) => found?.id === participants[index].paymentId,
      );
      expect(linked).toMatchObject({ id: participants[index].paymentId });
    }

    const wrongFactory = await stack.internal('order', 'POST', '/api/orders/bulk', {
      ...body,
      sessionId: newId(),
      factoryId: DEMO_PRODUCTS[0].factoryId,
    });
    expect(wrongFactory.status).toBe(400);
    const wrongVariant = await stack.internal('order', 'POST', '/api/orders/bulk', {
      ...body,
      sessionId: newId(),
      variantId: shirtM,
    });
    expect(wrongVariant.status).toBe(400);
    expect(await orderStatus(first.body.orders[1].orderId)).toBe('PAID');
  });
});
