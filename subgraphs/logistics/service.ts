import { randomInt } from 'node:crypto';
import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Shipment } from './entities/shipment.entity';
import { TrackingEvent } from './entities/tracking-event.entity';
import { BUYER_NOTICE, ORDER_STATUS_FOR, SHIPMENT_STATUSES, SHIPMENT_TRANSITIONS } from './states';
import { AppError, badInput, conflict, forbidden, notFound } from '../../lib/errors';
import { idSchema, parseInput, optionalText } from '../../lib/validation';
import { paginate, type PageArgs } from '../../lib/pagination';
import { assertTransition, transition } from '../../lib/state-machine';
import type { Caller } from '../../lib/internal-auth';
import type { InternalClient } from '../../lib/internal-client';
import { enqueue } from '../../lib/outbox';
import { notify } from '../../lib/notify';
import { FactoryAccess } from '../../lib/factory-access';
import {
  orderShipmentStatusPath,
  type OrderShipmentStatusRequest,
  type ShipmentCancelAnswer,
  type ShipmentsBulkAnswer,
} from '../../lib/contracts/order';
import { isId, newId } from '../../lib/ids';

const bulkSchema = z.object({
  shipments: z
    .array(z.object({ orderId: idSchema, userId: idSchema, factoryId: idSchema, addressId: idSchema }))
    .min(1, 'at least one shipment')
    .max(1000),
});

const cancelSchema = z.object({ orderId: idSchema });

const updateStatusSchema = z.object({
  shipmentId: idSchema,
  status: z.enum(SHIPMENT_STATUSES),
  description: optionalText(500),
});

/** `GB` and 14 random digits; the unique constraint is the backstop for the (negligible) collision. */
export function newTrackingNumber(): string {
  let digits = '';
  for (let i = 0; i < 14; i += 1) digits += String(randomInt(10));
  return `GB${digits}`;
}

export class ShipmentService {
  /**
   * `factoryAccess` memoises factory ownership per user (the request's loaders pass theirs), so a list of
   * orders asks the factory subgraph once, not once per shipment.
   */
  constructor(
    private readonly em: EntityManager,
    private readonly client?: InternalClient,
    private factoryAccess?: FactoryAccess,
  ) {}

  /**
   * One PENDING shipment per order, with its first tracking event. A repeat, even concurrent, inserts
   * nothing (unique order_id, ON CONFLICT DO NOTHING) and answers the shipments that exist.
   */
  async createBulk(input: unknown): Promise<ShipmentsBulkAnswer> {
    const { shipments } = parseInput(bulkSchema, input);
    const orderIds = shipments.map((s) => s.orderId);
    if (new Set(orderIds).size !== orderIds.length) throw badInput('shipments: each orderId may appear once');
    const byOrder = await this.em.transactional(async (tx) => {
      // Inserting in key order keeps overlapping concurrent batches from deadlocking on the unique index.
      const fresh = [...shipments]
        .sort((a, b) => a.orderId.localeCompare(b.orderId))
        .map((s) => ({ id: newId(), ...s, status: 'PENDING' as const, trackingNumber: newTrackingNumber() }));
      await tx.createQueryBuilder(Shipment).insert(fresh).onConflict('order_id').ignore().execute();
      const existing = await tx.find(Shipment, { orderId: { $in: orderIds } });
      const inserted = new Set(fresh.map((s) => s.id));
      for (const shipment of existing.filter((s) => inserted.has(s.id))) {
        tx.create(TrackingEvent, {
          shipmentId: shipment.id,
          status: 'PENDING',
          description: 'Shipment created; waiting for pick-up',
          occurredAt: shipment.createdAt,
        });
      }
      return new Map(existing.map((s) => [s.orderId, s.id]));
    });
    return { shipments: orderIds.map((orderId) => ({ id: byOrder.get(orderId)!, orderId })) };
  }

  /**
   * Moves a shipment one step on (owner of its factory, or admin). A pick-up asks the order first
   * (synchronously, before the claim): the order moves to SHIPPED or refuses because it was cancelled
   * meanwhile, and then the pick-up is refused too (CONFLICT), so no parcel leaves for a cancelled order.
   * The claim, the tracking event, the order's DELIVERED and the buyer's notice (outbox) commit together.
   */
  async updateStatus(caller: Caller, input: unknown): Promise<Shipment> {
    const { shipmentId, status: to, description } = parseInput(updateStatusSchema, input);
    if (to === 'CANCELLED') throw badInput('status: a shipment is cancelled by cancelling its order (cancelOrder)');
    const shipment = await this.em.findOne(Shipment, { id: shipmentId });
    if (!shipment) throw notFound('No shipment with this id');
    if (!(await this.canManage(caller, shipment))) {
      throw forbidden('Only the owner of the shipping factory or an admin can update this shipment');
    }
    const from = shipment.status;
    assertTransition(SHIPMENT_TRANSITIONS, from, to, 'the shipment status');
    if (to === 'PICKED_UP') await this.orderShips(shipment.orderId);
    const notice = BUYER_NOTICE[to]!;
    const moved = await this.em.transactional((tx) =>
      transition(tx, Shipment, shipmentId, to, {
        table: SHIPMENT_TRANSITIONS,
        from: [from],
        effects: async (inner, claimed) => {
          inner.create(TrackingEvent, { shipmentId, status: to, description: description ?? notice.body });
          if (to === 'DELIVERED') {
            const body: OrderShipmentStatusRequest = { status: 'DELIVERED' };
            await enqueue(inner, {
              dedupeKey: `order-shipment:${claimed.orderId}:DELIVERED`,
              service: 'order',
              path: orderShipmentStatusPath(claimed.orderId),
              body: { ...body },
            });
          }
          await notify(inner, {
            dedupeKey: `shipment:${shipmentId}:${to}`,
            userId: claimed.userId,
            type: notice.type,
            title: notice.title,
            body: `${notice.body} (tracking number ${claimed.trackingNumber})`,
            data: { shipmentId, orderId: claimed.orderId, status: to, trackingNumber: claimed.trackingNumber },
          });
        },
      }),
    );
    if (!moved) throw conflict(`The shipment is no longer ${from}; reload it and try again`);
    return moved;
  }

  /** The order moves to SHIPPED, or refuses (cancelled meanwhile): then so does the pick-up. A repeat is fine. */
  private async orderShips(orderId: string): Promise<void> {
    const body: OrderShipmentStatusRequest = { status: ORDER_STATUS_FOR.PICKED_UP! };
    try {
      await this.requireClient().post('order', orderShipmentStatusPath(orderId), body);
    } catch (error) {
      if (error instanceof AppError && error.code === 'CONFLICT') {
        throw conflict(`The order of this shipment cannot ship (${error.message}); the parcel stays at the factory`);
      }
      throw error;
    }
  }

  /**
   * Its order was cancelled before pick-up (order's outbox): PENDING → CANCELLED with a tracking event.
   * Idempotent; no shipment (yet) answers null — one created later cannot be picked up, the order refuses.
   */
  async cancelForOrder(input: unknown): Promise<ShipmentCancelAnswer> {
    const { orderId } = parseInput(cancelSchema, input);
    const shipment = await this.em.findOne(Shipment, { orderId });
    if (!shipment) return { shipment: null };
    if (shipment.status !== 'CANCELLED') {
      const cancelled = await this.em.transactional((tx) =>
        transition(tx, Shipment, shipment.id, 'CANCELLED', {
          table: SHIPMENT_TRANSITIONS,
          effects: async (inner) => {
            inner.create(TrackingEvent, {
              shipmentId: shipment.id,
              status: 'CANCELLED',
              description: 'The order was cancelled; the parcel will not be sent',
            });
          },
        }),
      );
      if (!cancelled) {
        const current = await this.em.fork().findOneOrFail(Shipment, { id: shipment.id });
        if (current.status !== 'CANCELLED') throw conflict(`The parcel has left the factory (${current.status})`);
      }
    }
    return { shipment: { id: shipment.id, status: 'CANCELLED' } };
  }

  /** A shipment the caller may see, or null. */
  async visibleShipment(caller: Caller, id: string): Promise<Shipment | null> {
    const shipment = isId(id) ? await this.em.findOne(Shipment, { id }) : null;
    return shipment && (await this.canSee(caller, shipment)) ? shipment : null;
  }

  myShipments(userId: string, page: PageArgs) {
    return paginate(this.em, Shipment, { userId }, page, { newestFirst: true });
  }

  /** Its buyer, the owner of its factory, or an admin. */
  async canSee(caller: Caller | null, shipment: Shipment): Promise<boolean> {
    if (!caller) return false;
    return caller.userId === shipment.userId || this.canManage(caller, shipment);
  }

  canManage(caller: Caller, shipment: Shipment): Promise<boolean> {
    return this.access.canManage(caller, shipment.factoryId);
  }

  private requireClient(): InternalClient {
    if (!this.client) throw new Error('ShipmentService needs an InternalClient to reach other services');
    return this.client;
  }

  private get access(): FactoryAccess {
    return (this.factoryAccess ??= new FactoryAccess(this.requireClient()));
  }
}
