import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Order } from './entities/order.entity';
import { OrderItem } from './entities/order-item.entity';
import { fulfilmentSteps, ORDER_TRANSITIONS, type OrderStatus, STATUS_AFTER_PAYMENT } from './states';
import { AppError, badInput, conflict, forbidden, notFound } from '../../lib/errors';
import { idSchema, optionalText, parseInput, rupiah } from '../../lib/validation';
import { assertRepresentableAmount } from '../../lib/money';
import { statesLeadingTo, transition } from '../../lib/state-machine';
import { abandonPaymentOf } from '../../lib/abandoned-payment';
import { paginate, type PageArgs } from '../../lib/pagination';
import { enqueue } from '../../lib/outbox';
import { notify } from '../../lib/notify';
import { FactoryAccess } from '../../lib/factory-access';
import {
  orderDeliveredPath,
  REFUND_ORDER_PATH,
  type RefundOrderAnswer,
  type RefundOrderRequest,
} from '../../lib/contracts/seller';
import {
  INVENTORY_COMMIT_PATH,
  INVENTORY_RELEASE_PATH,
  INVENTORY_RESERVE_PATH,
  INVENTORY_RESTOCK_PATH,
  type InventoryOrderRequest,
  type InventoryReserveRequest,
} from '../../lib/contracts/warehouse';
import {
  type OrdersForReviewAnswer,
  type OrderSummary,
  SHIPMENT_CANCEL_PATH,
  SHIPMENTS_BULK_PATH,
  type ShipmentCancelRequest,
  type ShipmentsBulkRequest,
} from '../../lib/contracts/order';
import { productByVariantPath, productPath, type ProductSnapshot } from '../../lib/contracts/product';
import { addressPath, type AddressSnapshot } from '../../lib/contracts/address';
import { asFieldInput } from '../../lib/downstream';
import type { Caller } from '../../lib/internal-auth';
import type { Config } from '../../lib/config';
import type { InternalClient } from '../../lib/internal-client';
import type { Logger } from '../../lib/logger';
import { isId, newId } from '../../lib/ids';

const quantity = z.number().int('must be a whole number').min(1, 'must be at least 1').max(100_000);

const createOrderSchema = z.object({
  addressId: idSchema,
  items: z
    .array(z.object({ variantId: idSchema, quantity }))
    .min(1, 'an order needs at least one item')
    .max(50),
  refundTo: z.enum(['ORIGINAL_METHOD', 'WALLET']).nullish(),
});

const factoryOrdersSchema = z.object({
  factoryId: idSchema,
  status: z.enum(Object.keys(ORDER_TRANSITIONS) as [OrderStatus, ...OrderStatus[]]).nullish(),
});

const cancelSchema = z.object({ reason: optionalText(200) });

const bulkSchema = z.object({
  sessionId: idSchema,
  productId: idSchema,
  variantId: idSchema,
  factoryId: idSchema,
  unitPrice: rupiah,
  participants: z
    .array(z.object({ participantId: idSchema, userId: idSchema, quantity, addressId: idSchema, paymentId: idSchema }))
    .min(1)
    .max(5000),
});

const paymentStatusSchema = z.object({
  orderId: idSchema,
  paymentId: idSchema,
  status: z.enum(['PAID', 'EXPIRED', 'FAILED', 'REFUNDED']),
});

const forReviewSchema = z.object({ orderIds: z.array(idSchema).max(100) });

const shipmentStatusSchema = z.object({ status: z.enum(['SHIPPED', 'DELIVERED']) });

interface PaymentCreated {
  id: string;
  invoiceUrl: string;
}

const summary = (o: Order): OrderSummary => ({
  id: o.id,
  userId: o.userId,
  factoryId: o.factoryId,
  status: o.status,
  source: o.source,
  sessionId: o.sessionId ?? null,
  addressId: o.addressId,
  total: o.total,
});

const STOCK_PATHS = {
  commit: INVENTORY_COMMIT_PATH,
  release: INVENTORY_RELEASE_PATH,
  restock: INVENTORY_RESTOCK_PATH,
} as const;

/** Stock follow-ups must survive the warehouse being down, so they go through the outbox. */
const stockMessage = (orderId: string, action: keyof typeof STOCK_PATHS) => {
  const body: InventoryOrderRequest = { orderId };
  return {
    dedupeKey: `inventory-${action}:${orderId}`,
    service: 'warehouse' as const,
    path: STOCK_PATHS[action],
    body: { ...body },
  };
};

/** Unpaid orders one hold sweep cancels at a time. */
const UNPAID_SWEEP_BATCH = 500;

/** What payment's `POST /api/payments/abandon` answers: the payment's status then, or NONE without one. */
interface Abandoned {
  status: string;
}

const rupiahText = (amount: number) => `Rp${amount.toLocaleString('id-ID')}`;

export class OrderService {
  constructor(
    private readonly em: EntityManager,
    private readonly client: InternalClient,
    private readonly config: Pick<Config, 'MAX_UNPAID_ORDERS' | 'UNPAID_HOLD_MINUTES'>,
    private readonly logger?: Logger,
  ) {
    this.access = new FactoryAccess(client);
  }

  /** Ownership asked of the factory subgraph once per user for this service's life (one request). */
  private readonly access: FactoryAccess;

  /**
   * A regular order. Everything is validated before the first write; stock is reserved before the
   * order is inserted and released on any later failure, so a refused order leaves nothing behind.
   * The stock is held unpaid for UNPAID_HOLD_MINUTES at most, and a buyer has at most
   * MAX_UNPAID_ORDERS unpaid orders at once.
   */
  async createOrder(caller: Caller, input: unknown): Promise<{ order: Order; paymentUrl: string }> {
    const { addressId, items, refundTo } = parseInput(createOrderSchema, input);
    const variantIds = items.map((i) => i.variantId);
    if (new Set(variantIds).size !== variantIds.length) throw badInput('items: list each variant once');
    const [address, products] = await Promise.all([
      this.address(addressId),
      Promise.all(items.map((item, i) => this.productOfVariant(item.variantId, `items.${i}.variantId`))),
    ]);
    if (address.userId !== caller.userId) throw forbidden('This address belongs to another user');
    const lines = items.map((item, i) => {
      const product = products[i];
      const variant = product.variants.find((v) => v.id === item.variantId)!;
      return { product, variant, quantity: item.quantity };
    });
    // One order is paid to and shipped by one factory; a cart across factories is several orders.
    if (new Set(lines.map((l) => l.product.factoryId)).size > 1) {
      throw badInput('items: every item of an order must come from the same factory; place one order per factory');
    }
    const total = lines.reduce((sum, l) => sum + l.variant.price * l.quantity, 0);
    assertRepresentableAmount('items', total);
    await this.assertUnpaidBelowLimit(this.em, caller.userId);

    const orderId = newId();
    try {
      const reservation: InventoryReserveRequest = {
        orderId,
        items: lines.map((l) => ({ variantId: l.variant.id, quantity: l.quantity })),
      };
      await this.client.post('warehouse', INVENTORY_RESERVE_PATH, reservation);
    } catch (error) {
      if (error instanceof AppError && error.code === 'CONFLICT') throw conflict(`Not enough stock: ${error.message}`);
      // A reservation that timed out on our side may still have been made.
      await this.releaseNow(orderId);
      throw error;
    }

    let order: Order;
    try {
      order = await this.em.transactional(async (tx) => {
        // Serialises one buyer's order inserts, so concurrent ones cannot all pass the unpaid limit.
        await tx.execute('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`unpaid-orders:${caller.userId}`]);
        await this.assertUnpaidBelowLimit(tx, caller.userId);
        const created = tx.create(Order, {
          id: orderId,
          userId: caller.userId,
          factoryId: lines[0].product.factoryId,
          addressId,
          status: 'PENDING_PAYMENT',
          source: 'REGULAR',
          total,
        });
        for (const l of lines)
          tx.create(OrderItem, itemRow(orderId, l.product, l.variant, l.variant.price, l.quantity));
        return created;
      });
    } catch (error) {
      await this.releaseNow(orderId);
      throw error;
    }

    let payment: PaymentCreated;
    try {
      payment = await this.client.post<PaymentCreated>('payment', '/api/payments', {
        orderId,
        userId: caller.userId,
        factoryId: order.factoryId,
        amount: total,
        refundTo: refundTo ?? 'ORIGINAL_METHOD',
        description: describe(
          orderId,
          lines.map((l) => `${l.quantity}× ${l.product.name} (${l.variant.name})`),
        ),
      });
    } catch (error) {
      this.logger?.warn({ err: error, orderId }, 'payment could not be created; cancelling the order');
      // A refusal (4xx) made no payment; after a timeout or 5xx one may exist, so it is abandoned too.
      await this.cancelUnpaid(orderId, !(error instanceof AppError));
      if (error instanceof AppError) throw error;
      throw new AppError(
        'INTERNAL_SERVER_ERROR',
        'The payment could not be started, so the order was cancelled and its stock released. Nothing was charged; please try again.',
      );
    }
    await this.em.nativeUpdate(
      Order,
      { id: orderId, paymentId: null },
      { paymentId: payment.id, updatedAt: new Date() },
    );
    order.paymentId = payment.id;
    return { order, paymentUrl: payment.invoiceUrl };
  }

  /**
   * One PAID GROUP_BUYING order per session participant (the escrow already holds the money), at the
   * session's price. Calls for a session are serialised, and the unique (session, participant) key
   * backs that up, so a repeat answers the same orders and creates none.
   */
  async createBulkOrders(input: unknown): Promise<{ orders: { orderId: string; participantId: string }[] }> {
    const parsed = parseInput(bulkSchema, input);
    const participantIds = parsed.participants.map((p) => p.participantId);
    if (new Set(participantIds).size !== participantIds.length) throw badInput('participants: each participant once');
    const product = await this.product(parsed.productId);
    const variant = product.variants.find((v) => v.id === parsed.variantId);
    if (!variant) throw badInput('variantId: not a variant of this product');
    if (product.factoryId !== parsed.factoryId) throw badInput('factoryId: the product belongs to another factory');

    return this.em.transactional(async (tx) => {
      await tx.execute('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`orders-bulk:${parsed.sessionId}`]);
      const existing = await tx.find(Order, { sessionId: parsed.sessionId, participantId: { $in: participantIds } });
      const byParticipant = new Map(existing.map((o) => [o.participantId!, o.id]));
      for (const p of parsed.participants) {
        if (byParticipant.has(p.participantId)) continue;
        const order = tx.create(Order, {
          userId: p.userId,
          factoryId: parsed.factoryId,
          addressId: p.addressId,
          status: 'PAID',
          source: 'GROUP_BUYING',
          sessionId: parsed.sessionId,
          participantId: p.participantId,
          paymentId: p.paymentId,
          total: parsed.unitPrice * p.quantity,
        });
        tx.create(OrderItem, itemRow(order.id, product, variant, parsed.unitPrice, p.quantity));
        byParticipant.set(p.participantId, order.id);
      }
      const orders = parsed.participants.map((p) => ({
        orderId: byParticipant.get(p.participantId)!,
        participantId: p.participantId,
      }));
      const links = orders.map(({ orderId, participantId }) => ({ participantId, orderId }));
      // Keyed by the exact link set: a repeated call adds nothing, a call with more participants links them all.
      const digest = createHash('sha256')
        .update(JSON.stringify([...links].sort((a, b) => a.participantId.localeCompare(b.participantId))))
        .digest('hex');
      await enqueue(tx, {
        dedupeKey: `link-orders:${parsed.sessionId}:${digest}`,
        service: 'payment',
        path: '/api/payments/link-orders',
        body: { links },
      });
      return { orders };
    });
  }

  /** Payment's verdict on an order's invoice (docs/internal-api.md); what follows goes through the outbox. */
  async applyPaymentStatus(input: unknown): Promise<OrderSummary> {
    const { orderId, paymentId, status } = parseInput(paymentStatusSchema, input);
    return summary(await this.moveTo(orderId, STATUS_AFTER_PAYMENT[status], { paymentId }));
  }

  /**
   * Logistics' progress; a PAID group-buying order passes through PROCESSING on its way to SHIPPED. Logistics
   * asks this before a pick-up, so an order cancelled meanwhile refuses (CONFLICT) and its parcel stays.
   */
  async applyShipmentStatus(orderId: string, input: unknown): Promise<OrderSummary> {
    const { status } = parseInput(shipmentStatusSchema, input);
    return summary(await this.moveTo(orderId, status, { alongFulfilment: true }));
  }

  async summary(orderId: string): Promise<OrderSummary> {
    const order = isId(orderId) ? await this.em.findOne(Order, { id: orderId }) : null;
    if (!order) throw notFound('No order with this id');
    return summary(order);
  }

  /** POST ORDERS_FOR_REVIEW_PATH (reviews): the orders with their items, in two statements whatever their number. */
  async forReview(input: unknown): Promise<OrdersForReviewAnswer> {
    const { orderIds } = parseInput(forReviewSchema, input);
    if (!orderIds.length) return { orders: [] };
    const [orders, items] = await Promise.all([
      this.em.find(Order, { id: { $in: orderIds } }),
      this.em.find(OrderItem, { orderId: { $in: orderIds } }, { orderBy: { id: 'asc' } }),
    ]);
    return {
      orders: orders.map((o) => ({
        id: o.id,
        userId: o.userId,
        factoryId: o.factoryId,
        status: o.status,
        items: items
          .filter((item) => item.orderId === o.id)
          .map(({ productId, variantId, productName, variantName }) => ({
            productId,
            variantId,
            productName,
            variantName,
          })),
      })),
    };
  }

  /** The order if the caller is its buyer, the owner of its factory, or an admin. */
  async visibleOrder(caller: Caller, orderId: string): Promise<Order | null> {
    const order = isId(orderId) ? await this.em.findOne(Order, { id: orderId }) : null;
    if (!order) return null;
    return order.userId === caller.userId || (await this.access.canManage(caller, order.factoryId)) ? order : null;
  }

  myOrders(caller: Caller, page: PageArgs) {
    return paginate(this.em, Order, { userId: caller.userId }, page, { newestFirst: true });
  }

  /** A factory's orders, newest first, optionally of one status: for its owner or an admin. */
  async factoryOrders(caller: Caller, args: { factoryId: string; status?: OrderStatus | null } & PageArgs) {
    const { factoryId, status } = parseInput(factoryOrdersSchema, { factoryId: args.factoryId, status: args.status });
    await this.access.assertCanManage(caller, factoryId, 'this factory');
    const where = status ? { factoryId, status } : { factoryId };
    return paginate(this.em, Order, where, { first: args.first, after: args.after }, { newestFirst: true });
  }

  /**
   * PAID → PROCESSING for a regular order (its factory's owner or an admin), its shipment requested from
   * logistics through the outbox in the same transaction. Logistics is also asked at once after the commit
   * (idempotent per order), so the answer normally shows the shipment; if that fails, the outbox delivers it.
   */
  async acceptOrder(caller: Caller, orderId: string): Promise<Order> {
    const order = await this.managedOrder(caller, orderId);
    if (order.source !== 'REGULAR') {
      throw conflict("A group-buying order ships when its session's production is completed");
    }
    const request: ShipmentsBulkRequest = {
      shipments: [{ orderId, userId: order.userId, factoryId: order.factoryId, addressId: order.addressId }],
    };
    const accepted = await this.em.transactional((tx) =>
      transition(tx, Order, orderId, 'PROCESSING', {
        table: ORDER_TRANSITIONS,
        effects: (inner) =>
          enqueue(inner, {
            dedupeKey: `shipment-create:${orderId}`,
            service: 'logistics',
            path: SHIPMENTS_BULK_PATH,
            body: { ...request },
          }),
      }),
    );
    if (!accepted) {
      throw conflict(`The order is ${await this.currentStatus(orderId)}; only a PAID order can be accepted`);
    }
    try {
      await this.client.post('logistics', SHIPMENTS_BULK_PATH, request);
    } catch (error) {
      this.logger?.warn({ err: error, orderId }, 'shipment not created yet; the outbox will create it');
    }
    return accepted;
  }

  /**
   * Cancels an order (see the schema for who may, when). The buyer's cancel of an unpaid order lets payment
   * decide first: its abandon claims the payment PENDING → EXPIRED (an invoice paid a moment earlier stays
   * PAID: CONFLICT), so a payment landing later is a late payment payment refunds, never a paid order here.
   * The factory's cancel of a paid regular order is one claim PAID | PROCESSING → REFUNDED whose effects
   * (refund, stock, shipment, buyer notice) commit with it: exactly one cancel wins. A group-buying order's
   * money is its session's escrow, so payment refunds it first (cancelGroupOrder).
   */
  async cancelOrder(caller: Caller, orderId: string, input: unknown): Promise<Order> {
    const { reason } = parseInput(cancelSchema, input);
    const order = isId(orderId) ? await this.em.findOne(Order, { id: orderId }) : null;
    if (!order) throw notFound('No order with this id');
    const buys = order.userId === caller.userId;
    const manages = await this.access.canManage(caller, order.factoryId);
    if (!buys && !manages) {
      throw forbidden("Only the order's buyer, the owner of its factory or an admin can cancel it");
    }
    if (buys && order.status === 'PENDING_PAYMENT') return this.cancelUnpaidByBuyer(order);
    if (!manages) throw conflict(`The order is ${order.status}; once paid, only the factory can cancel it`);
    if (order.source === 'GROUP_BUYING') return this.cancelGroupOrder(order, reason ?? 'Cancelled by the factory');
    const refunded = await this.em.transactional((tx) =>
      transition(tx, Order, order.id, 'REFUNDED', {
        table: ORDER_TRANSITIONS,
        where: { source: 'REGULAR' },
        effects: async (inner, row) => {
          await this.askRefund(inner, row, reason ?? 'Cancelled by the factory');
          await this.effectsOf(inner, row);
        },
      }),
    );
    if (!refunded) throw conflict(factoryCancelRefused(await this.currentStatus(order.id)));
    return refunded;
  }

  /**
   * The factory's cancel of a group-buying order. Its money is the session's escrow, refundable only while
   * HELD (MOQ_REACHED, IN_PRODUCTION: completeProduction releases it), so payment decides first, synchronously:
   * REFUND_ORDER_PATH refunds it in full, once per order (a repeat answers the same refund), or answers 409
   * once the escrow was released, and the cancel is CONFLICT with nothing changed. Then the order's claim
   * PAID | PROCESSING → REFUNDED commits with its effects (shipment cancel, buyer notice). If this process
   * stops between the two, payment's REFUNDED verdict, sent when the refund completes, makes the same claim;
   * it also tells group-buying, whose participant becomes REFUNDED.
   */
  private async cancelGroupOrder(order: Order, reason: string): Promise<Order> {
    if (!statesLeadingTo(ORDER_TRANSITIONS, 'REFUNDED').includes(order.status)) {
      throw conflict(factoryCancelRefused(order.status));
    }
    const request: RefundOrderRequest = { orderId: order.id, reason };
    try {
      await this.client.post<RefundOrderAnswer>('payment', REFUND_ORDER_PATH, request);
    } catch (error) {
      if (error instanceof AppError && error.code === 'CONFLICT') {
        throw conflict(
          "The session's escrow was already released to the factory; this order can no longer be refunded",
        );
      }
      // The bulk order's payment is linked through the outbox, a moment after the order is made.
      if (error instanceof AppError && error.code === 'NOT_FOUND') {
        throw conflict("The order's payment is still being linked; try again in a moment");
      }
      if (error instanceof AppError) throw error;
      this.logger?.warn({ err: error, orderId: order.id }, 'refund of a group-buying order not confirmed');
      throw new AppError(
        'INTERNAL_SERVER_ERROR',
        'The refund could not be confirmed, so the order is not cancelled yet; please try again (it is refunded at most once)',
      );
    }
    const refunded = await this.em.transactional((tx) =>
      transition(tx, Order, order.id, 'REFUNDED', {
        table: ORDER_TRANSITIONS,
        effects: (inner, row) => this.effectsOf(inner, row),
      }),
    );
    if (refunded) return refunded;
    // Lost to a concurrent cancel of this order, or to payment's verdict on this very refund: refunded either way.
    const current = await this.em.fork().findOneOrFail(Order, { id: order.id });
    if (current.status === 'REFUNDED') return current;
    this.logger?.error(
      { orderId: order.id, status: current.status },
      'a group-buying order moved on while its refund was being made',
    );
    throw conflict(factoryCancelRefused(current.status));
  }

  private async cancelUnpaidByBuyer(order: Order): Promise<Order> {
    const { status } = await this.client.post<Abandoned>('payment', '/api/payments/abandon', { orderId: order.id });
    if (!['NONE', 'EXPIRED', 'FAILED'].includes(status)) {
      throw conflict('The order was paid meanwhile; ask the factory to cancel it');
    }
    const cancelled = await this.em.transactional((tx) =>
      transition(tx, Order, order.id, 'CANCELLED', {
        table: ORDER_TRANSITIONS,
        // The abandon is repeated through the outbox: a payment still being created (NONE) is closed too.
        effects: (inner, row) => this.afterUnpaidCancel(inner, row, row.paymentId ? new Date() : undefined),
      }),
    );
    if (!cancelled) throw conflict(`The order is ${await this.currentStatus(order.id)}; it cannot be cancelled`);
    return cancelled;
  }

  /** Payment refunds the order's payment in full (REFUND_ORDER_PATH, through the outbox); once per order. */
  private async askRefund(tx: EntityManager, order: Order, reason: string): Promise<void> {
    const body: RefundOrderRequest = { orderId: order.id, reason };
    await enqueue(tx, {
      dedupeKey: `refund-order:${order.id}`,
      service: 'payment',
      path: REFUND_ORDER_PATH,
      body: { ...body },
    });
  }

  /** The order if the caller may manage its factory: NOT_FOUND without one, FORBIDDEN for anyone else. */
  private async managedOrder(caller: Caller, orderId: string): Promise<Order> {
    const order = isId(orderId) ? await this.em.findOne(Order, { id: orderId }) : null;
    if (!order) throw notFound('No order with this id');
    await this.access.assertCanManage(caller, order.factoryId, "this order's factory");
    return order;
  }

  private async currentStatus(orderId: string): Promise<OrderStatus> {
    return (await this.em.fork().findOneOrFail(Order, { id: orderId })).status;
  }

  /**
   * Moves an order to `target` in one transaction, one transition() claim per step; `alongFulfilment`
   * walks PAID → PROCESSING → SHIPPED → DELIVERED step by step. Being at the target already is a repeat
   * and succeeds; anything illegal is CONFLICT. Each step's effects commit with it, once.
   */
  private async moveTo(
    orderId: string,
    target: OrderStatus,
    options: { paymentId?: string; alongFulfilment?: boolean } = {},
  ): Promise<Order> {
    if (!isId(orderId)) throw notFound('No order with this id');
    const { paymentId } = options;
    return this.em.transactional(async (tx) => {
      const found = await tx.findOne(Order, { id: orderId });
      if (!found) throw notFound('No order with this id');
      let order: Order = found;
      if (paymentId && order.paymentId && order.paymentId !== paymentId)
        throw conflict('This payment belongs to another order');
      if (order.status === target) return order;
      if (target === 'PAID' && order.status === 'CANCELLED' && order.source === 'REGULAR') {
        // Paid in the moment after the unpaid sweep cancelled it (before its abandon reached payment): the
        // order stays cancelled, its stock is gone, so the money goes back in full. Once per order.
        await this.askRefund(tx, order, 'The order was cancelled before the payment arrived');
        return order;
      }
      // That refund done: the order was cancelled all along.
      if (target === 'REFUNDED' && order.status === 'CANCELLED') return order;
      const steps = (options.alongFulfilment && fulfilmentSteps(order.status, target)) || [target];
      for (const step of steps) {
        const moved = await transition(tx, Order, orderId, step, {
          table: ORDER_TRANSITIONS,
          set: { paymentId: order.paymentId ?? paymentId ?? null },
          effects: (inner, row) => this.effectsOf(inner, row),
        });
        if (!moved) {
          // Lost to a concurrent change: fine if that change reached the target, else refuse.
          const current = await tx.findOneOrFail(Order, { id: orderId }, { refresh: true });
          if (current.status === target) return current;
          throw conflict(`The order is ${current.status} now; cannot move it to ${target}`);
        }
        order = moved;
      }
      return order;
    });
  }

  /**
   * What an order's new status causes, in the transaction of its claim. A group-buying order takes no stock and
   * its money follows its session, so of its statuses only REFUNDED causes something (shipment, notice).
   */
  private async effectsOf(tx: EntityManager, order: Order): Promise<void> {
    if (order.source !== 'REGULAR' && order.status !== 'REFUNDED' && order.status !== 'DELIVERED') return;
    switch (order.status) {
      case 'PAID':
        await enqueue(tx, stockMessage(order.id, 'commit'));
        await notify(tx, {
          dedupeKey: `order-received:${order.id}`,
          factoryId: order.factoryId,
          type: 'ORDER_RECEIVED',
          title: 'New paid order',
          body: `Order ${order.id} was paid (${rupiahText(order.total)}). Accept it to ship it.`,
          data: { orderId: order.id, total: order.total },
        });
        return;
      case 'CANCELLED':
        await enqueue(tx, stockMessage(order.id, 'release'));
        return;
      case 'DELIVERED':
        // The factory's money becomes available, less commission (payment, per regular order).
        if (order.source === 'REGULAR')
          await enqueue(tx, {
            dedupeKey: `order-delivered:${order.id}`,
            service: 'payment',
            path: orderDeliveredPath(order.id),
            body: { orderId: order.id },
          });
        // Every delivered order, regular or group-buying, asks its buyer for a review once (reviews subgraph).
        await notify(tx, {
          dedupeKey: `review-requested:${order.id}`,
          userId: order.userId,
          type: 'REVIEW_REQUESTED',
          title: 'How was your order?',
          body: `Order ${order.id} was delivered. Rate what you bought in My orders.`,
          data: { orderId: order.id },
        });
        return;
      case 'REFUNDED': {
        // Paid stock was committed (or its commit is on its way): restock puts every unit back, once.
        if (order.source === 'REGULAR') await enqueue(tx, stockMessage(order.id, 'restock'));
        const cancel: ShipmentCancelRequest = { orderId: order.id };
        await enqueue(tx, {
          dedupeKey: `shipment-cancel:${order.id}`,
          service: 'logistics',
          path: SHIPMENT_CANCEL_PATH,
          body: { ...cancel },
        });
        await notify(tx, {
          dedupeKey: `order-cancelled:${order.id}`,
          userId: order.userId,
          type: 'ORDER_CANCELLED',
          title: 'Your order was cancelled',
          body: `The factory cancelled order ${order.id}; ${rupiahText(order.total)} is being refunded to you in full.`,
          data: { orderId: order.id, total: order.total },
        });
        return;
      }
      default:
    }
  }

  /**
   * Cancels every regular order still unpaid UNPAID_HOLD_MINUTES after it was placed, a batch at a time (rows
   * locked, SKIP LOCKED so replicas share the work), each by its transition() claim with the stock release
   * (warehouse) and the invoice's expiry (payment) through the outbox in the same transaction. A payment that
   * lands meanwhile is payment's to settle. Answers how many orders were cancelled.
   */
  async cancelLapsedUnpaid(): Promise<number> {
    return this.em.transactional(async (tx) => {
      const lapsed: { id: string }[] = await tx.execute(
        `select id from orders
          where status = 'PENDING_PAYMENT' and source = 'REGULAR' and created_at < now() - ?::float8 * interval '1 minute'
          order by created_at
          limit ${UNPAID_SWEEP_BATCH}
          for update skip locked`,
        [this.config.UNPAID_HOLD_MINUTES],
      );
      let cancelled = 0;
      for (const { id } of lapsed) {
        const order = await transition(tx, Order, id, 'CANCELLED', {
          table: ORDER_TRANSITIONS,
          // A create call long answered can be abandoned at once; one still unanswered gets its settle time.
          effects: (inner, row) => this.afterUnpaidCancel(inner, row, row.paymentId ? new Date() : undefined),
        });
        if (order) cancelled += 1;
      }
      return cancelled;
    });
  }

  /** Each service counts its own unpaid items: here, regular orders not yet paid. */
  private async assertUnpaidBelowLimit(em: EntityManager, userId: string): Promise<void> {
    const unpaid = await em.count(Order, { userId, source: 'REGULAR', status: 'PENDING_PAYMENT' });
    if (unpaid >= this.config.MAX_UNPAID_ORDERS) {
      throw conflict(
        `You already have ${unpaid} unpaid orders (at most ${this.config.MAX_UNPAID_ORDERS}); pay one of them or let it expire first`,
      );
    }
  }

  /** PENDING_PAYMENT → CANCELLED for an order whose payment could not be started. */
  private async cancelUnpaid(orderId: string, abandonPayment: boolean): Promise<void> {
    await this.em.transactional((tx) =>
      transition(tx, Order, orderId, 'CANCELLED', {
        table: ORDER_TRANSITIONS,
        effects: async (inner, row) => {
          if (abandonPayment) await this.afterUnpaidCancel(inner, row);
          else await enqueue(inner, stockMessage(row.id, 'release'));
        },
      }),
    );
  }

  /** An unpaid order was cancelled: its stock back, and its invoice closed (not before `abandonNotBefore`). */
  private async afterUnpaidCancel(tx: EntityManager, order: Order, abandonNotBefore?: Date): Promise<void> {
    await enqueue(tx, stockMessage(order.id, 'release'));
    await abandonPaymentOf(tx, this.client, { orderId: order.id }, abandonNotBefore);
  }

  /** Release for an order that was never written (there is no row to hang an outbox message on). */
  private async releaseNow(orderId: string): Promise<void> {
    try {
      const body: InventoryOrderRequest = { orderId };
      await this.client.post('warehouse', INVENTORY_RELEASE_PATH, body);
    } catch (error) {
      this.logger?.error({ err: error, orderId }, 'could not release the stock of a failed order');
    }
  }

  private async address(addressId: string): Promise<AddressSnapshot> {
    return this.client.get<AddressSnapshot>('address', addressPath(addressId));
  }

  private product(productId: string): Promise<ProductSnapshot> {
    return asFieldInput(
      this.client.get<ProductSnapshot>('product', productPath(productId)),
      'productId: no such product',
    );
  }

  private async productOfVariant(variantId: string, field: string): Promise<ProductSnapshot> {
    const product = await asFieldInput(
      this.client.get<ProductSnapshot>('product', productByVariantPath(variantId)),
      `${field}: no such variant`,
    );
    if (!product.variants.some((v) => v.id === variantId)) throw badInput(`${field}: no such variant`);
    return product;
  }
}

function itemRow(
  orderId: string,
  product: ProductSnapshot,
  variant: ProductSnapshot['variants'][number],
  unitPrice: number,
  quantity: number,
) {
  return {
    orderId,
    productId: product.id,
    variantId: variant.id,
    productName: product.name,
    variantName: variant.name,
    sku: variant.sku,
    categoryId: product.categoryId,
    categoryName: product.categoryName,
    unitPrice,
    quantity,
  };
}

function factoryCancelRefused(status: OrderStatus): string {
  return `The order is ${status}; the factory can cancel only PAID or PROCESSING orders`;
}

function describe(orderId: string, lines: string[]): string {
  const text = `Order ${orderId}: ${lines.join(', ')}`;
  return text.length > 250 ? `${text.slice(0, 249)}…` : text;
}
