import { loadConfig } from '../../lib/config';
import { InternalClient } from '../../lib/internal-client';
import { OutboxMessage } from '../../lib/outbox';
import { newId } from '../../lib/ids';
import { orderDeliveredPath, REFUND_ORDER_PATH } from '../../lib/contracts/seller';
import { SHIPMENT_CANCEL_PATH } from '../../lib/contracts/order';
import { INVENTORY_RESTOCK_PATH } from '../../lib/contracts/warehouse';
import { NOTIFICATIONS_PATH } from '../../lib/contracts/notification';
import { openServiceDatabase, type ServiceDatabase } from '../../test/support/service-db';
import { Order } from './entities/order.entity';
import { OrderItem } from './entities/order-item.entity';
import { OrderStatusChange } from './entities/order-status-change.entity';
import type { OrderSource, OrderStatus } from './states';
import { migrations } from './migrations';
import { OrderService } from './service';

/**
 * The order's transitions and what each one sends, in process against PostgreSQL (a fresh database with the
 * order schema): the paths that call no other service. The flows with them: test/seller-orders.test.ts.
 */
describe('order service: transitions and their effects', () => {
  let db: ServiceDatabase;
  const config = loadConfig({ NODE_ENV: 'test', UNPAID_HOLD_MINUTES: '1' });

  beforeAll(async () => {
    db = await openServiceDatabase('order', {
      entities: [Order, OrderItem, OrderStatusChange, OutboxMessage],
      migrations,
    });
  });
  afterAll(() => db?.close());

  const service = () => new OrderService(db.orm.em.fork(), new InternalClient(config), config);
  const anOrder = async (status: OrderStatus, source: OrderSource = 'REGULAR', createdAt = new Date()) => {
    const em = db.orm.em.fork();
    const order = em.create(Order, {
      userId: newId(),
      factoryId: newId(),
      addressId: newId(),
      status,
      source,
      total: 94_000,
      paymentId: newId(),
      createdAt,
    });
    await em.flush();
    return order;
  };
  /** The outbox messages an order's changes left, as [service, path, type or status]. */
  const sent = async (orderId: string) =>
    (
      await db.orm.em
        .fork()
        .find(OutboxMessage, { dedupeKey: { $like: `%${orderId}%` } }, { orderBy: { createdAt: 'asc', id: 'asc' } })
    ).map((m) => [m.service, m.path, (m.body.type as string | undefined) ?? null]);
  const history = async (orderId: string) =>
    (await db.orm.em.fork().find(OrderStatusChange, { subjectId: orderId }, { orderBy: { id: 'asc' } })).map(
      (h) => `${h.fromStatus ?? ''}→${h.toStatus}`,
    );

  it("pays a regular order once: stock committed and the factory's owner told", async () => {
    const order = await anOrder('PENDING_PAYMENT');
    const paid = { orderId: order.id, paymentId: order.paymentId, status: 'PAID' };
    expect((await service().applyPaymentStatus(paid)).status).toBe('PAID');
    expect((await service().applyPaymentStatus(paid)).status).toBe('PAID');
    expect(await sent(order.id)).toEqual([
      ['warehouse', '/api/inventory/commit', null],
      ['notification', '/api/notifications', 'ORDER_RECEIVED'],
    ]);
    const notice = await db.orm.em
      .fork()
      .findOneOrFail(OutboxMessage, { dedupeKey: `notify:order-received:${order.id}` });
    expect(notice.body).toMatchObject({ factoryId: order.factoryId, data: { orderId: order.id } });
    expect(notice.body.userId).toBeUndefined();
    // A late EXPIRED cannot cancel it; another payment's verdict is refused.
    await expect(service().applyPaymentStatus({ ...paid, status: 'EXPIRED' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    await expect(service().applyPaymentStatus({ ...paid, paymentId: newId() })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    expect(await history(order.id)).toEqual(['→PENDING_PAYMENT', 'PENDING_PAYMENT→PAID']);
  });

  it('follows its shipment step by step; DELIVERED tells payment once (regular orders only) and asks for a review once', async () => {
    const regular = await anOrder('PROCESSING');
    const group = await anOrder('PAID', 'GROUP_BUYING');
    for (const order of [regular, group]) {
      expect((await service().applyShipmentStatus(order.id, { status: 'SHIPPED' })).status).toBe('SHIPPED');
      expect((await service().applyShipmentStatus(order.id, { status: 'SHIPPED' })).status).toBe('SHIPPED');
      expect((await service().applyShipmentStatus(order.id, { status: 'DELIVERED' })).status).toBe('DELIVERED');
      expect((await service().applyShipmentStatus(order.id, { status: 'DELIVERED' })).status).toBe('DELIVERED');
    }
    // Both ask their buyer for a review, once.
    expect(await sent(regular.id)).toEqual([
      ['payment', orderDeliveredPath(regular.id), null],
      ['notification', NOTIFICATIONS_PATH, 'REVIEW_REQUESTED'],
    ]);
    expect(await sent(group.id)).toEqual([['notification', NOTIFICATIONS_PATH, 'REVIEW_REQUESTED']]);
    expect(await history(group.id)).toEqual(['→PAID', 'PAID→PROCESSING', 'PROCESSING→SHIPPED', 'SHIPPED→DELIVERED']);
  });

  it('refuses to ship a cancelled or refunded order (the pick-up is refused with it)', async () => {
    for (const status of ['CANCELLED', 'REFUNDED', 'PENDING_PAYMENT'] as const) {
      const order = await anOrder(status);
      await expect(service().applyShipmentStatus(order.id, { status: 'SHIPPED' })).rejects.toMatchObject({
        code: 'CONFLICT',
      });
      expect(await history(order.id)).toEqual([`→${status}`]);
    }
    await expect(service().applyShipmentStatus(newId(), { status: 'SHIPPED' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('restocks, cancels the shipment and tells the buyer when payment refunds a paid order', async () => {
    const order = await anOrder('PROCESSING');
    const refunded = { orderId: order.id, paymentId: order.paymentId, status: 'REFUNDED' };
    expect((await service().applyPaymentStatus(refunded)).status).toBe('REFUNDED');
    expect((await service().applyPaymentStatus(refunded)).status).toBe('REFUNDED');
    expect(await sent(order.id)).toEqual([
      ['warehouse', INVENTORY_RESTOCK_PATH, null],
      ['logistics', SHIPMENT_CANCEL_PATH, null],
      ['notification', '/api/notifications', 'ORDER_CANCELLED'],
    ]);
    // The refund itself is payment's here (it told us); only the factory's cancel asks payment for one.
    expect((await sent(order.id)).some(([, path]) => path === REFUND_ORDER_PATH)).toBe(false);

    // A group-buying order refunded from escrow: no stock of the warehouse's, the rest alike.
    const group = await anOrder('PAID', 'GROUP_BUYING');
    const groupRefunded = { orderId: group.id, paymentId: group.paymentId, status: 'REFUNDED' };
    expect((await service().applyPaymentStatus(groupRefunded)).status).toBe('REFUNDED');
    expect(await sent(group.id)).toEqual([
      ['logistics', SHIPMENT_CANCEL_PATH, null],
      ['notification', '/api/notifications', 'ORDER_CANCELLED'],
    ]);
  });

  it('sweeps lapsed unpaid orders: each cancelled once, stock released, payment abandoned', async () => {
    const lapsed = await anOrder('PENDING_PAYMENT', 'REGULAR', new Date(Date.now() - 5 * 60_000));
    const fresh = await anOrder('PENDING_PAYMENT');
    const paid = await anOrder('PAID', 'REGULAR', new Date(Date.now() - 5 * 60_000));
    const counts = await Promise.all([service().cancelLapsedUnpaid(), service().cancelLapsedUnpaid()]);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(1);
    expect(await service().cancelLapsedUnpaid()).toBe(0);
    const statuses = await db.orm.em.fork().find(Order, { id: { $in: [lapsed.id, fresh.id, paid.id] } });
    expect(Object.fromEntries(statuses.map((o) => [o.id, o.status]))).toEqual({
      [lapsed.id]: 'CANCELLED',
      [fresh.id]: 'PENDING_PAYMENT',
      [paid.id]: 'PAID',
    });
    expect(await sent(lapsed.id)).toEqual([
      ['warehouse', '/api/inventory/release', null],
      ['payment', '/api/payments/abandon', null],
    ]);
    expect(await history(lapsed.id)).toEqual(['→PENDING_PAYMENT', 'PENDING_PAYMENT→CANCELLED']);

    // Paid in the moment after the sweep: the order stays cancelled and payment is asked to refund, once.
    const paidLate = { orderId: lapsed.id, paymentId: lapsed.paymentId, status: 'PAID' };
    expect((await service().applyPaymentStatus(paidLate)).status).toBe('CANCELLED');
    expect((await service().applyPaymentStatus(paidLate)).status).toBe('CANCELLED');
    expect((await sent(lapsed.id)).slice(2)).toEqual([['payment', REFUND_ORDER_PATH, null]]);
    const refunded = { ...paidLate, status: 'REFUNDED' };
    expect((await service().applyPaymentStatus(refunded)).status).toBe('CANCELLED');
    expect(await history(lapsed.id)).toEqual(['→PENDING_PAYMENT', 'PENDING_PAYMENT→CANCELLED']);
  });
});
