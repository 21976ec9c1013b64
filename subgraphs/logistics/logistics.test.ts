import { Client } from 'pg';
import {
  startTestStack,
  type TestStack,
  errorCode,
  statusHistoryOf,
  TEST_INTERNAL_TOKEN,
} from '../../test/support/e2e';
import { eventually, settled } from '../../test/support/eventually';
import { DEMO_FACTORIES, DEMO_OWNERS, DEMO_PRODUCTS } from '../../lib/demo-data';
import { type Caller, identityHeaders, INTERNAL_TOKEN_HEADER } from '../../lib/internal-auth';
import { withDatabase } from '../../lib/database';
import type { SubgraphName } from '../../lib/services';
import { newId } from '../../lib/ids';
import { IMPLEMENTED_SUBGRAPHS } from '../registry';

/** Notification is written in parallel; its part of this test joins in once it exists. */
const WITH_NOTIFICATION = IMPLEMENTED_SUBGRAPHS.includes('notification');

const PRODUCT = DEMO_PRODUCTS[0];
const FACTORY = DEMO_FACTORIES[0];
const OWNER: Caller = { userId: DEMO_OWNERS[0].id, role: 'FACTORY_OWNER' };
/** Owns Batik Sekar Arum only. */
const OTHER_OWNER: Caller = { userId: DEMO_OWNERS[1].id, role: 'FACTORY_OWNER' };
const ADMIN: Caller = { userId: newId(), role: 'ADMIN' };
const buyer = (): Caller => ({ userId: newId(), role: 'BUYER' });

const SHIPMENT = `query ($id: ID!) { shipment(id: $id) { id status trackingNumber createdAt order { id } events { status description occurredAt } } }`;
const UPDATE = `mutation ($input: UpdateShipmentStatusInput!) {
  updateShipmentStatus(input: $input) { id status events { status description } }
}`;

describe('logistics: shipments and their tracking', () => {
  let stack: TestStack;
  let db: Client;
  const subgraphs: SubgraphName[] = [
    'factory',
    'logistics',
    // A pick-up asks the order, so the shipments here belong to real (group-buying) orders.
    'product',
    'order',
    ...(WITH_NOTIFICATION ? (['notification'] as const) : []),
  ];

  beforeAll(async () => {
    stack = await startTestStack({ subgraphs });
    db = new Client({ connectionString: withDatabase(stack.env.DATABASE_URL, `${stack.env.DB_PREFIX}_logistics`) });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await stack?.stop();
  });

  const bulk = (shipments: Record<string, unknown>[]) =>
    stack.internal('logistics', 'POST', '/api/shipments/bulk', { shipments });
  const update = (caller: Caller | undefined, input: Record<string, unknown>) =>
    stack.graphql(UPDATE, { input }, caller ? { caller } : undefined);
  const shipmentAs = async (caller: Caller, id: string) => {
    const result = await stack.graphql(SHIPMENT, { id }, { caller });
    expect(result.errors).toBeUndefined();
    return result.data.shipment;
  };
  const orderRow = async (orderId: string) => {
    const orders = new Client({
      connectionString: withDatabase(stack.env.DATABASE_URL, `${stack.env.DB_PREFIX}_order`),
    });
    await orders.connect();
    try {
      return (await orders.query('select * from orders where id = $1', [orderId])).rows[0];
    } finally {
      await orders.end();
    }
  };
  const historyOf = (shipmentId: string) => statusHistoryOf(db, 'shipment_status_history', 'shipment_id', shipmentId);
  const outbox = async (like: string) =>
    (
      await db.query(
        'select service, path, body, delivered_at from outbox where dedupe_key like $1 order by created_at, id',
        [like],
      )
    ).rows;

  /** Orders to ship: real PAID group-buying orders. */
  async function ordersFor(buyers: Caller[]): Promise<string[]> {
    const participants = buyers.map((b) => ({
      participantId: newId(),
      userId: b.userId,
      quantity: 2,
      addressId: newId(),
      paymentId: newId(),
    }));
    const response = await stack.internal('order', 'POST', '/api/orders/bulk', {
      sessionId: newId(),
      productId: PRODUCT.id,
      variantId: PRODUCT.variants[0].id,
      factoryId: FACTORY.id,
      unitPrice: 40000,
      participants,
    });
    expect(response.status).toBe(200);
    return participants.map((p) => response.body.orders.find((o: any) => o.participantId === p.participantId).orderId);
  }

  async function shipTo(buyers: Caller[]): Promise<{ orderId: string; shipmentId: string; buyer: Caller }[]> {
    const orderIds = await ordersFor(buyers);
    const response = await bulk(
      orderIds.map((orderId, i) => ({ orderId, userId: buyers[i].userId, factoryId: FACTORY.id, addressId: newId() })),
    );
    expect(response.status).toBe(200);
    return orderIds.map((orderId, i) => {
      expect(response.body.shipments[i].orderId).toBe(orderId);
      return { orderId, shipmentId: response.body.shipments[i].id, buyer: buyers[i] };
    });
  }

  it('creates one PENDING shipment per order with a tracking number and a first event, however often asked', async () => {
    const buyers = [buyer(), buyer()];
    const orderIds = await ordersFor(buyers);
    const rows = orderIds.map((orderId, i) => ({
      orderId,
      userId: buyers[i].userId,
      factoryId: FACTORY.id,
      addressId: newId(),
    }));
    const answers = await Promise.all([bulk(rows), bulk(rows), bulk([...rows].reverse())]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(answers[1].body).toEqual(answers[0].body);
    expect(answers[2].body.shipments).toEqual([...answers[0].body.shipments].reverse());
    expect(new Set(answers[0].body.shipments.map((s: any) => s.id)).size).toBe(2);

    // A later batch with one known and one new order adds only the new one.
    const [extra] = await ordersFor([buyer()]);
    const mixed = await bulk([rows[0], { ...rows[1], orderId: extra }]);
    expect(mixed.body.shipments[0]).toEqual(answers[0].body.shipments[0]);
    expect(mixed.body.shipments[1].id).not.toBe(answers[0].body.shipments[1].id);

    const shipment = await shipmentAs(buyers[0], answers[0].body.shipments[0].id);
    expect(shipment).toMatchObject({ status: 'PENDING', order: { id: orderIds[0] }, events: [{ status: 'PENDING' }] });
    expect(shipment.trackingNumber).toMatch(/^GB\d{14}$/);
    const ids = [...answers[0].body.shipments.map((s: any) => s.id), mixed.body.shipments[1].id];
    const events = await db.query(
      'select shipment_id, count(*)::int as n from tracking where shipment_id = any($1) group by shipment_id',
      [ids],
    );
    expect(events.rows.map((r) => r.n)).toEqual([1, 1, 1]);
  });

  it.each([
    ['an empty list', []],
    ['a malformed order id', [{ orderId: 'x', userId: newId(), factoryId: FACTORY.id, addressId: newId() }]],
    ['a missing factory', [{ orderId: newId(), userId: newId(), addressId: newId() }]],
  ])('refuses a bulk with %s with 400 BAD_USER_INPUT', async (_label, shipments) => {
    const response = await bulk(shipments as Record<string, unknown>[]);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('BAD_USER_INPUT');
  });

  it('refuses a bulk naming one order twice and creates none of it', async () => {
    const row = { orderId: newId(), userId: newId(), factoryId: FACTORY.id, addressId: newId() };
    const fresh = { ...row, orderId: newId() };
    const response = await bulk([fresh, row, { ...row, addressId: newId() }]);
    expect(response.status).toBe(400);
    const { rows } = await db.query('select count(*)::int as n from shipments where order_id = any($1)', [
      [row.orderId, fresh.orderId],
    ]);
    expect(rows[0].n).toBe(0);
  });

  it('lets the factory owner (and an admin) walk a shipment to DELIVERED; the order and the buyer follow', async () => {
    const [{ orderId, shipmentId, buyer: owner }] = await shipTo([buyer()]);
    const steps: [Caller, string, string | null][] = [
      [OWNER, 'PICKED_UP', 'Picked up at Bandung'],
      [ADMIN, 'IN_TRANSIT', null],
      [OWNER, 'DELIVERED', 'Received by the buyer'],
    ];
    for (const [caller, status, description] of steps) {
      const result = await update(caller, { shipmentId, status, description });
      expect(result.errors).toBeUndefined();
      expect(result.data.updateShipmentStatus.status).toBe(status);
      if (status === 'PICKED_UP') {
        const order = await settled(
          () => stack.internal('order', 'GET', `/api/orders/${orderId}`),
          (r) => r.body.status === 'SHIPPED',
        );
        expect(order.body.status).toBe('SHIPPED');
      }
    }

    const shipment = await shipmentAs(owner, shipmentId);
    expect(shipment.status).toBe('DELIVERED');
    expect(shipment.events.map((e: any) => e.status)).toEqual(['PENDING', 'PICKED_UP', 'IN_TRANSIT', 'DELIVERED']);
    expect(shipment.events[1].description).toBe('Picked up at Bandung');
    expect(shipment.events[2].description).toEqual(expect.any(String));
    const times = shipment.events.map((e: any) => Date.parse(e.occurredAt));
    expect([...times].sort((a, b) => a - b)).toEqual(times);

    expect(errorCode(await update(OWNER, { shipmentId, status: 'DELIVERED' }))).toBe('CONFLICT');
    expect(await historyOf(shipmentId)).toEqual([
      [null, 'PENDING'],
      ['PENDING', 'PICKED_UP'],
      ['PICKED_UP', 'IN_TRANSIT'],
      ['IN_TRANSIT', 'DELIVERED'],
    ]);

    // The pick-up asked the order synchronously; the delivery tells it through the outbox.
    const toOrder = await outbox(`order-shipment:${orderId}:%`);
    expect(toOrder.map((m) => [m.service, m.path, m.body.status])).toEqual([
      ['order', `/api/orders/${orderId}/shipment-status`, 'DELIVERED'],
    ]);
    const toBuyer = await outbox(`notify:shipment:${shipmentId}:%`);
    expect(toBuyer.map((m) => [m.service, m.body.userId, m.body.type])).toEqual([
      ['notification', owner.userId, 'ORDER_SHIPPED'],
      ['notification', owner.userId, 'SHIPMENT_UPDATED'],
      ['notification', owner.userId, 'ORDER_DELIVERED'],
    ]);

    const order = await settled(
      () => stack.internal('order', 'GET', `/api/orders/${orderId}`),
      (r) => r.body.status === 'DELIVERED',
    );
    expect(order.body.status).toBe('DELIVERED');
    const viaGateway = await stack.graphql(
      `query ($id: ID!) { order(id: $id) { status shipment { id status trackingNumber events { status } } } }`,
      { id: orderId },
      { caller: owner },
    );
    expect(viaGateway.errors).toBeUndefined();
    expect(viaGateway.data.order).toMatchObject({
      status: 'DELIVERED',
      shipment: { id: shipmentId, status: 'DELIVERED' },
    });
    expect(viaGateway.data.order.shipment.events).toHaveLength(4);
    if (WITH_NOTIFICATION) {
      const delivered = await settled(
        () => outbox(`notify:shipment:${shipmentId}:%`),
        (rows) => rows.every((m) => m.delivered_at),
      );
      expect(delivered.every((m) => m.delivered_at)).toBe(true);
    }
  });

  it('refuses the buyer, another factory and an anonymous caller, and changes nothing', async () => {
    const [{ shipmentId, buyer: owner }] = await shipTo([buyer()]);
    expect(errorCode(await update(owner, { shipmentId, status: 'PICKED_UP' }))).toBe('FORBIDDEN');
    expect(errorCode(await update(OTHER_OWNER, { shipmentId, status: 'PICKED_UP' }))).toBe('FORBIDDEN');
    expect(errorCode(await update(undefined, { shipmentId, status: 'PICKED_UP' }))).toBe('UNAUTHENTICATED');
    expect(errorCode(await update(OWNER, { shipmentId: newId(), status: 'PICKED_UP' }))).toBe('NOT_FOUND');
    expect(errorCode(await update(OWNER, { shipmentId: 'nope', status: 'PICKED_UP' }))).toBe('BAD_USER_INPUT');
    const shipment = await shipmentAs(ADMIN, shipmentId);
    expect(shipment).toMatchObject({ status: 'PENDING', events: [{ status: 'PENDING' }] });
    expect(await outbox(`notify:shipment:${shipmentId}:%`)).toEqual([]);
  });

  it('refuses an illegal jump (PENDING → DELIVERED) with CONFLICT and changes nothing', async () => {
    const [{ orderId, shipmentId }] = await shipTo([buyer()]);
    expect(errorCode(await update(OWNER, { shipmentId, status: 'DELIVERED' }))).toBe('CONFLICT');
    expect(errorCode(await update(OWNER, { shipmentId, status: 'PENDING' }))).toBe('CONFLICT');
    expect(await shipmentAs(OWNER, shipmentId)).toMatchObject({ status: 'PENDING', events: [{ status: 'PENDING' }] });
    expect(await outbox(`%${orderId}%`)).toEqual([]);
    expect(await outbox(`notify:shipment:${shipmentId}:%`)).toEqual([]);
  });

  it('lets exactly one of two racing identical moves win', async () => {
    const [{ shipmentId }] = await shipTo([buyer()]);
    const results = await Promise.all([
      update(OWNER, { shipmentId, status: 'PICKED_UP' }),
      update(ADMIN, { shipmentId, status: 'PICKED_UP' }),
    ]);
    expect(results.map((r) => errorCode(r) ?? 'OK').sort()).toEqual(['CONFLICT', 'OK']);
    expect((await shipmentAs(OWNER, shipmentId)).events.map((e: any) => e.status)).toEqual(['PENDING', 'PICKED_UP']);
    expect(await historyOf(shipmentId)).toEqual([
      [null, 'PENDING'],
      ['PENDING', 'PICKED_UP'],
    ]);
  });

  it('cancels a PENDING shipment for its order (idempotently) and then refuses its pick-up', async () => {
    const cancel = (orderId: string) => stack.internal('logistics', 'POST', '/api/shipments/cancel', { orderId });
    const [{ orderId, shipmentId }, picked] = await shipTo([buyer(), buyer()]);
    const answers = await Promise.all([cancel(orderId), cancel(orderId)]);
    expect(answers.map((a) => [a.status, a.body])).toEqual([
      [200, { shipment: { id: shipmentId, status: 'CANCELLED' } }],
      [200, { shipment: { id: shipmentId, status: 'CANCELLED' } }],
    ]);
    expect(await shipmentAs(OWNER, shipmentId)).toMatchObject({
      status: 'CANCELLED',
      events: [{ status: 'PENDING' }, { status: 'CANCELLED' }],
    });
    expect(errorCode(await update(OWNER, { shipmentId, status: 'PICKED_UP' }))).toBe('CONFLICT');
    expect(errorCode(await update(OWNER, { shipmentId: picked.shipmentId, status: 'CANCELLED' }))).toBe(
      'BAD_USER_INPUT',
    );
    expect((await cancel(newId())).body).toEqual({ shipment: null });

    expect((await update(OWNER, { shipmentId: picked.shipmentId, status: 'PICKED_UP' })).errors).toBeUndefined();
    const late = await cancel(picked.orderId);
    expect([late.status, late.body.error.code]).toEqual([409, 'CONFLICT']);
    expect(await historyOf(shipmentId)).toEqual([
      [null, 'PENDING'],
      ['PENDING', 'CANCELLED'],
    ]);
  });

  it('refuses the pick-up of a parcel whose order was refunded meanwhile; the shipment is cancelled, never picked up', async () => {
    const [{ orderId, shipmentId }] = await shipTo([buyer()]);
    const refunded = await stack.internal('order', 'POST', '/api/orders/payment-status', {
      orderId,
      paymentId: (await orderRow(orderId)).payment_id,
      status: 'REFUNDED',
    });
    expect(refunded.body.status).toBe('REFUNDED');
    expect(errorCode(await update(OWNER, { shipmentId, status: 'PICKED_UP' }))).toBe('CONFLICT');
    // The refunded order cancels its shipment through the outbox: whichever came first, no pick-up was recorded.
    await eventually(
      'the shipment cancelled',
      async () => (await shipmentAs(OWNER, shipmentId)).status === 'CANCELLED',
    );
    expect(await historyOf(shipmentId)).toEqual([
      [null, 'PENDING'],
      ['PENDING', 'CANCELLED'],
    ]);
    expect((await stack.internal('order', 'GET', `/api/orders/${orderId}`)).body.status).toBe('REFUNDED');
  });

  it("resolves Order.shipment in one batch for its buyer, its factory's owner and admins only", async () => {
    const [a, b] = await shipTo([buyer(), buyer()]);
    const unknownOrder = newId();
    const entities = async (caller: Caller) => {
      const response = await fetch(`${stack.serviceUrl('logistics')}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [INTERNAL_TOKEN_HEADER]: TEST_INTERNAL_TOKEN,
          ...identityHeaders(caller),
        },
        body: JSON.stringify({
          query: `query ($r: [_Any!]!) { _entities(representations: $r) { ... on Order { id shipment { id } } } }`,
          variables: { r: [a.orderId, b.orderId, unknownOrder].map((id) => ({ __typename: 'Order', id })) },
        }),
      });
      const body = (await response.json()) as any;
      expect(body.errors).toBeUndefined();
      return body.data._entities.map((e: any) => e.shipment?.id ?? null);
    };
    expect(await entities(a.buyer)).toEqual([a.shipmentId, null, null]);
    expect(await entities(OWNER)).toEqual([a.shipmentId, b.shipmentId, null]);
    expect(await entities(ADMIN)).toEqual([a.shipmentId, b.shipmentId, null]);
    expect(await entities(OTHER_OWNER)).toEqual([null, null, null]);
    expect(await stack.graphql(SHIPMENT, { id: a.shipmentId }, { caller: b.buyer })).toEqual({
      data: { shipment: null },
    });

    const mine = await stack.graphql(
      `{ myShipments(first: 5) { totalCount edges { node { id } } } }`,
      {},
      { caller: b.buyer },
    );
    expect(mine.data.myShipments).toEqual({ totalCount: 1, edges: [{ node: { id: b.shipmentId } }] });
  });
});
