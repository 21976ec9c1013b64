import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Order } from './entities/order.entity';
import { OrderItem } from './entities/order-item.entity';
import { fulfilmentSteps, ORDER_TRANSITIONS, type OrderStatus, STATUS_AFTER_PAYMENT } from './states';
import { AppError, badInput, conflict, forbidden, notFound } from '../../lib/errors';
import { idSchema, parseInput, rupiah } from '../../lib/validation';
import { assertRepresentableAmount } from '../../lib/money';
import { assertTransition } from '../../lib/state-machine';
import { abandonPaymentOf } from '../../lib/abandoned-payment';
import { paginate, type PageArgs } from '../../lib/pagination';
import { enqueue } from '../../lib/outbox';
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
});

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

const shipmentStatusSchema = z.object({ status: z.enum(['SHIPPED', 'DELIVERED']) });

/** GET product /api/products/… (docs/internal-api.md). */
interface ProductSnapshot {
  id: string;
  name: string;
  currency: string;
  factoryId: string;
  categoryId: string;
  categoryName: string | null;
  variants: { id: string; sku: string; name: string; price: number }[];
}

interface AddressSnapshot {
  id: string;
  userId: string;
}

interface PaymentCreated {
  id: string;
  invoiceUrl: string;
}

/** GET /api/orders/:orderId. */
export interface OrderSummary {
  id: string;
  userId: string;
  factoryId: string;
  status: OrderStatus;
  source: Order['source'];
  sessionId: string | null;
  addressId: string;
  total: number;
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

/** Stock follow-ups must survive the warehouse being down, so they go through the outbox. */
const stockMessage = (orderId: string, action: 'commit' | 'release') => ({
  dedupeKey: `inventory-${action}:${orderId}`,
  service: 'warehouse' as const,
  path: `/api/inventory/${action}`,
  body: { orderId },
});

/** Unpaid orders one hold sweep cancels at a time. */
const UNPAID_SWEEP_BATCH = 500;

export class OrderService {
  constructor(
    private readonly em: EntityManager,
    private readonly client: InternalClient,
    private readonly config: Pick<Config, 'MAX_UNPAID_ORDERS' | 'UNPAID_HOLD_MINUTES'>,
    private readonly logger?: Logger,
  ) {}

  /**
   * A regular order. Everything is validated before the first write; stock is reserved before the
   * order is inserted and released on any later failure, so a refused order leaves nothing behind.
   * The stock is held unpaid for UNPAID_HOLD_MINUTES at most, and a buyer has at most
   * MAX_UNPAID_ORDERS unpaid orders at once.
   */
  async createOrder(caller: Caller, input: unknown): Promise<{ order: Order; paymentUrl: string }> {
    const { addressId, items } = parseInput(createOrderSchema, input);
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
      await this.client.post('warehouse', '/api/inventory/reserve', {
        orderId,
        items: lines.map((l) => ({ variantId: l.variant.id, quantity: l.quantity })),
      });
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

  /** Payment's verdict on an order's invoice (docs/internal-api.md); stock follows through the outbox. */
  async applyPaymentStatus(input: unknown): Promise<OrderSummary> {
    const { orderId, paymentId, status } = parseInput(paymentStatusSchema, input);
    return summary(await this.moveTo(orderId, STATUS_AFTER_PAYMENT[status], { paymentId }));
  }

  /** Logistics' progress; a PAID order passes through PROCESSING on its way to SHIPPED. */
  async applyShipmentStatus(orderId: string, input: unknown): Promise<OrderSummary> {
    const { status } = parseInput(shipmentStatusSchema, input);
    return summary(await this.moveTo(orderId, status, { alongFulfilment: true }));
  }

  async summary(orderId: string): Promise<OrderSummary> {
    const order = isId(orderId) ? await this.em.findOne(Order, { id: orderId }) : null;
    if (!order) throw notFound('No order with this id');
    return summary(order);
  }

  /** The order if the caller is its buyer, the owner of its factory, or an admin. */
  async visibleOrder(caller: Caller, orderId: string): Promise<Order | null> {
    const order = isId(orderId) ? await this.em.findOne(Order, { id: orderId }) : null;
    if (!order) return null;
    if (caller.role === 'ADMIN' || order.userId === caller.userId) return order;
    if (caller.role !== 'FACTORY_OWNER') return null;
    const { factoryIds } = await this.client.get<{ factoryIds: string[] }>(
      'factory',
      `/api/factories/owned-by/${caller.userId}`,
    );
    return factoryIds.includes(order.factoryId) ? order : null;
  }

  myOrders(caller: Caller, page: PageArgs) {
    return paginate(this.em, Order, { userId: caller.userId }, page, { newestFirst: true });
  }

  /**
   * Moves an order to `target` with one atomic claim per step (`UPDATE … WHERE status = from`), in one
   * transaction; `alongFulfilment` walks PAID → PROCESSING → SHIPPED → DELIVERED step by step. Being at
   * the target already is a repeat and succeeds; anything illegal is CONFLICT. The stock follow-up is
   * enqueued every time: the outbox keeps one message per order and action.
   */
  private async moveTo(
    orderId: string,
    target: OrderStatus,
    options: { paymentId?: string; alongFulfilment?: boolean } = {},
  ): Promise<Order> {
    if (!isId(orderId)) throw notFound('No order with this id');
    const { paymentId } = options;
    return this.em.transactional(async (tx) => {
      let order = await tx.findOne(Order, { id: orderId });
      if (!order) throw notFound('No order with this id');
      if (paymentId && order.paymentId && order.paymentId !== paymentId)
        throw conflict('This payment belongs to another order');
      const steps =
        order.status === target ? [] : (options.alongFulfilment && fulfilmentSteps(order.status, target)) || [target];
      for (const step of steps) {
        const from: OrderStatus = order.status;
        assertTransition(ORDER_TRANSITIONS, from, step, 'order status');
        const claimed = await tx.nativeUpdate(
          Order,
          { id: orderId, status: from },
          { status: step, paymentId: order.paymentId ?? paymentId ?? null, updatedAt: new Date() },
        );
        order = await tx.findOneOrFail(Order, { id: orderId }, { refresh: true });
        // Lost the claim to a concurrent change: fine if that change reached the target, else refuse.
        if (!claimed && order.status !== target)
          throw conflict(`The order is ${order.status} now; cannot move it to ${target}`);
        if (!claimed) break;
      }
      if (order.source === 'REGULAR' && target === 'PAID') await enqueue(tx, stockMessage(orderId, 'commit'));
      if (order.source === 'REGULAR' && target === 'CANCELLED') await enqueue(tx, stockMessage(orderId, 'release'));
      return order;
    });
  }

  /**
   * Cancels every regular order still unpaid UNPAID_HOLD_MINUTES after it was placed: one claim per batch
   * (`UPDATE … WHERE status = 'PENDING_PAYMENT' AND created_at < …`), and in the same transaction the
   * stock release (warehouse) and the invoice's expiry (payment) through the outbox. A payment that lands
   * meanwhile is payment's to settle. Answers how many orders were cancelled.
   */
  async cancelLapsedUnpaid(): Promise<number> {
    return this.em.transactional(async (tx) => {
      const cancelled: { id: string; payment_id: string | null }[] = await tx.execute(
        `update orders set status = 'CANCELLED', updated_at = now()
          where id in (
            select id from orders
             where status = 'PENDING_PAYMENT' and source = 'REGULAR' and created_at < now() - ?::float8 * interval '1 minute'
             order by created_at
             limit ${UNPAID_SWEEP_BATCH}
             for update skip locked)
            and status = 'PENDING_PAYMENT'
          returning id, payment_id`,
        [this.config.UNPAID_HOLD_MINUTES],
      );
      for (const order of cancelled) {
        await enqueue(tx, stockMessage(order.id, 'release'));
        // A create call long answered can be abandoned at once; one still unanswered gets its settle time.
        await abandonPaymentOf(tx, this.client, { orderId: order.id }, order.payment_id ? new Date() : undefined);
      }
      return cancelled.length;
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

  /** PENDING_PAYMENT → CANCELLED as an atomic claim, with the stock release in the same transaction. */
  private async cancelUnpaid(orderId: string, abandonPayment: boolean): Promise<void> {
    await this.em.transactional(async (tx) => {
      const claimed = await tx.nativeUpdate(
        Order,
        { id: orderId, status: 'PENDING_PAYMENT' },
        { status: 'CANCELLED', updatedAt: new Date() },
      );
      if (!claimed) return;
      await enqueue(tx, stockMessage(orderId, 'release'));
      if (abandonPayment) await abandonPaymentOf(tx, this.client, { orderId });
    });
  }

  /** Release for an order that was never written (there is no row to hang an outbox message on). */
  private async releaseNow(orderId: string): Promise<void> {
    try {
      await this.client.post('warehouse', '/api/inventory/release', { orderId });
    } catch (error) {
      this.logger?.error({ err: error, orderId }, 'could not release the stock of a failed order');
    }
  }

  private async address(addressId: string): Promise<AddressSnapshot> {
    return this.client.get<AddressSnapshot>('address', `/api/addresses/${addressId}`);
  }

  private async product(productId: string): Promise<ProductSnapshot> {
    try {
      return await this.client.get<ProductSnapshot>('product', `/api/products/id/${productId}`);
    } catch (error) {
      if (error instanceof AppError && error.code === 'NOT_FOUND') throw badInput('productId: no such product');
      throw error;
    }
  }

  private async productOfVariant(variantId: string, field: string): Promise<ProductSnapshot> {
    try {
      const product = await this.client.get<ProductSnapshot>('product', `/api/products/by-variant/${variantId}`);
      if (!product.variants.some((v) => v.id === variantId)) throw badInput(`${field}: no such variant`);
      return product;
    } catch (error) {
      if (error instanceof AppError && error.code === 'NOT_FOUND') throw badInput(`${field}: no such variant`);
      throw error;
    }
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

function describe(orderId: string, lines: string[]): string {
  const text = `Order ${orderId}: ${lines.join(', ')}`;
  return text.length > 250 ? `${text.slice(0, 249)}…` : text;
}
