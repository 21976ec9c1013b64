import { randomBytes } from 'node:crypto';
import { dropDatabases, ensureDatabase, withDatabase } from './database';
import { initOrm, type Orm } from './orm';
import { enqueue, OutboxMessage } from './outbox';
import { newId } from './ids';
import { assertTransition, claimed, statesLeadingTo, transition } from './state-machine';
import { capturingLogger } from '../test/support/logs';
import { Order } from '../subgraphs/order/entities/order.entity';
import { OrderItem } from '../subgraphs/order/entities/order-item.entity';
import { OrderStatusChange } from '../subgraphs/order/entities/order-status-change.entity';
import { ORDER_TRANSITIONS, type OrderStatus } from '../subgraphs/order/states';
import { migrations } from '../subgraphs/order/migrations';

/** transition() against real PostgreSQL: a fresh database with the order subgraph's schema (a real aggregate). */
describe('transition()', () => {
  const prefix = `sm${randomBytes(4).toString('hex')}`;
  const database = `${prefix}_order`;
  let orm: Orm;

  beforeAll(async () => {
    await ensureDatabase(process.env.TEST_DATABASE_URL!, database);
    orm = await initOrm({
      clientUrl: withDatabase(process.env.TEST_DATABASE_URL!, database),
      entities: [Order, OrderItem, OrderStatusChange, OutboxMessage],
      migrations,
      logger: capturingLogger().logger,
    });
  });
  afterAll(async () => {
    await orm?.close();
    await dropDatabases(process.env.TEST_DATABASE_URL!, prefix);
  });

  const anOrder = async (status: OrderStatus, source: 'REGULAR' | 'GROUP_BUYING' = 'REGULAR') => {
    const em = orm.em.fork();
    const order = em.create(Order, {
      userId: newId(),
      factoryId: newId(),
      addressId: newId(),
      status,
      source,
      total: 1000,
      updatedAt: new Date(Date.now() - 60_000),
    });
    await em.flush();
    return order;
  };
  const statusOf = async (id: string) => (await orm.em.fork().findOneOrFail(Order, { id })).status;
  const outboxFor = (dedupeKey: string) => orm.em.fork().count(OutboxMessage, { dedupeKey });

  it('derives the sources from the table', () => {
    expect(statesLeadingTo(ORDER_TRANSITIONS, 'REFUNDED')).toEqual(['PAID', 'PROCESSING']);
    expect(statesLeadingTo(ORDER_TRANSITIONS, 'PENDING_PAYMENT')).toEqual([]);
    expect(() => assertTransition(ORDER_TRANSITIONS, 'SHIPPED', 'REFUNDED', 'order status')).toThrow(
      'Cannot change order status from SHIPPED to REFUNDED',
    );
  });

  it('claims a legal move: status, typed columns, updatedAt, effects and history in one transaction', async () => {
    const order = await anOrder('PAID');
    const paymentId = newId();
    const em = orm.em.fork();
    const moved = await em.transactional((tx) =>
      transition(tx, Order, order.id, 'PROCESSING', {
        table: ORDER_TRANSITIONS,
        set: { paymentId },
        effects: (inner, row) =>
          enqueue(inner, { dedupeKey: `effect:${row.id}`, service: 'logistics', path: '/x', body: {} }),
      }),
    );
    expect(moved).toBeInstanceOf(Order);
    expect(moved).toMatchObject({ id: order.id, status: 'PROCESSING', paymentId, total: 1000 });
    expect(moved!.updatedAt.getTime()).toBeGreaterThan(order.updatedAt.getTime());
    expect(await outboxFor(`effect:${order.id}`)).toBe(1);
    const history = await orm.em.fork().find(OrderStatusChange, { subjectId: order.id }, { orderBy: { id: 'asc' } });
    expect(history.map((h) => [h.fromStatus, h.toStatus])).toEqual([
      [null, 'PAID'],
      ['PAID', 'PROCESSING'],
    ]);
  });

  it('answers null and changes nothing for a move the table forbids, a narrowed source or a failed where', async () => {
    const shipped = await anOrder('SHIPPED');
    let ran = 0;
    const effects = async () => void (ran += 1);
    const em = orm.em.fork();
    expect(await transition(em, Order, shipped.id, 'REFUNDED', { table: ORDER_TRANSITIONS, effects })).toBeNull();
    expect(await transition(em, Order, newId(), 'REFUNDED', { table: ORDER_TRANSITIONS, effects })).toBeNull();
    const paid = await anOrder('PAID', 'GROUP_BUYING');
    expect(
      await transition(em, Order, paid.id, 'REFUNDED', { table: ORDER_TRANSITIONS, from: ['PROCESSING'], effects }),
    ).toBeNull();
    expect(
      await transition(em, Order, paid.id, 'REFUNDED', {
        table: ORDER_TRANSITIONS,
        where: { source: 'REGULAR' },
        effects,
      }),
    ).toBeNull();
    expect(ran).toBe(0);
    expect([await statusOf(shipped.id), await statusOf(paid.id)]).toEqual(['SHIPPED', 'PAID']);
    expect(() => claimed(null, 'The order is no longer PAID')).toThrow(
      expect.objectContaining({ code: 'CONFLICT', message: 'The order is no longer PAID' }),
    );
  });

  it('lets exactly one of many concurrent claims win, with its effects once', async () => {
    const order = await anOrder('PROCESSING');
    const winners = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        orm.em.fork().transactional((tx) =>
          transition(tx, Order, order.id, i % 2 ? 'REFUNDED' : 'SHIPPED', {
            table: ORDER_TRANSITIONS,
            effects: (inner) =>
              enqueue(inner, { dedupeKey: `race:${order.id}:${i}`, service: 'payment', path: '/x', body: {} }),
          }),
        ),
      ),
    );
    const won = winners.filter((w) => w !== null);
    expect(won).toHaveLength(1);
    expect(await statusOf(order.id)).toBe(won[0]!.status);
    expect(await orm.em.fork().count(OutboxMessage, { dedupeKey: { $like: `race:${order.id}:%` } })).toBe(1);
  });

  it('undoes the claim when an effect fails', async () => {
    const order = await anOrder('PENDING_PAYMENT');
    await expect(
      orm.em.fork().transactional((tx) =>
        transition(tx, Order, order.id, 'CANCELLED', {
          table: ORDER_TRANSITIONS,
          effects: async () => {
            throw new Error('warehouse message could not be written');
          },
        }),
      ),
    ).rejects.toThrow('warehouse message could not be written');
    expect(await statusOf(order.id)).toBe('PENDING_PAYMENT');
  });

  it('refreshes an entity the transaction had already loaded', async () => {
    const order = await anOrder('PAID');
    await orm.em.fork().transactional(async (tx) => {
      const loaded = await tx.findOneOrFail(Order, { id: order.id });
      const moved = await transition(tx, Order, order.id, 'PROCESSING', { table: ORDER_TRANSITIONS });
      expect(moved).toBe(loaded);
      expect(loaded.status).toBe('PROCESSING');
    });
  });
});
