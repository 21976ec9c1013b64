import { randomInt } from 'node:crypto';
import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Shipment } from './entities/shipment.entity';
import { TrackingEvent } from './entities/tracking-event.entity';
import { BUYER_NOTICE, ORDER_STATUS_FOR, SHIPMENT_STATUSES, SHIPMENT_TRANSITIONS } from './states';
import { badInput, conflict, forbidden, notFound } from '../../lib/errors';
import { idSchema, parseInput, optionalText } from '../../lib/validation';
import { paginate, type PageArgs } from '../../lib/pagination';
import { assertTransition } from '../../lib/state-machine';
import type { Caller } from '../../lib/internal-auth';
import type { InternalClient } from '../../lib/internal-client';
import { enqueue } from '../../lib/outbox';
import { isId, newId } from '../../lib/ids';

const bulkSchema = z.object({
  shipments: z
    .array(z.object({ orderId: idSchema, userId: idSchema, factoryId: idSchema, addressId: idSchema }))
    .min(1, 'at least one shipment')
    .max(1000),
});

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
   * `ownership` memoises factory ownership per user (the request's loaders pass theirs), so a list of
   * orders asks the factory subgraph once, not once per shipment.
   */
  constructor(
    private readonly em: EntityManager,
    private readonly client?: InternalClient,
    private readonly ownership = new Map<string, Promise<string[]>>(),
  ) {}

  /**
   * One PENDING shipment per order, with its first tracking event. A repeat, even concurrent, inserts
   * nothing (unique order_id, ON CONFLICT DO NOTHING) and answers the shipments that exist.
   */
  async createBulk(input: unknown): Promise<{ shipments: { id: string; orderId: string }[] }> {
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
   * Moves a shipment one step on (owner of its factory, or admin). The claim, the tracking event and
   * the calls to order and notification (outbox) commit together, so none happens without the others.
   */
  async updateStatus(caller: Caller, input: unknown): Promise<Shipment> {
    const { shipmentId, status: to, description } = parseInput(updateStatusSchema, input);
    const shipment = await this.em.findOne(Shipment, { id: shipmentId });
    if (!shipment) throw notFound('No shipment with this id');
    if (!(await this.canManage(caller, shipment))) {
      throw forbidden('Only the owner of the shipping factory or an admin can update this shipment');
    }
    const from = shipment.status;
    assertTransition(SHIPMENT_TRANSITIONS, from, to, 'the shipment status');
    const notice = BUYER_NOTICE[to]!;
    await this.em.transactional(async (tx) => {
      const claimed: unknown[] = await tx.execute(
        'update shipments set status = ?, updated_at = now() where id = ? and status = ? returning id',
        [to, shipmentId, from],
      );
      if (claimed.length === 0) throw conflict(`The shipment is no longer ${from}; reload it and try again`);
      tx.create(TrackingEvent, { shipmentId, status: to, description: description ?? notice.body });
      const orderStatus = ORDER_STATUS_FOR[to];
      if (orderStatus) {
        await enqueue(tx, {
          dedupeKey: `order-shipment:${shipment.orderId}:${orderStatus}`,
          service: 'order',
          path: `/api/orders/${shipment.orderId}/shipment-status`,
          body: { status: orderStatus },
        });
      }
      const dedupeKey = `shipment:${shipmentId}:${to}`;
      await enqueue(tx, {
        dedupeKey,
        service: 'notification',
        path: '/api/notifications',
        body: {
          dedupeKey,
          userId: shipment.userId,
          type: notice.type,
          title: notice.title,
          body: `${notice.body} (tracking number ${shipment.trackingNumber})`,
          data: { shipmentId, orderId: shipment.orderId, status: to, trackingNumber: shipment.trackingNumber },
        },
      });
    });
    return this.em.findOneOrFail(Shipment, { id: shipmentId }, { refresh: true });
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

  async canManage(caller: Caller, shipment: Shipment): Promise<boolean> {
    if (caller.role === 'ADMIN') return true;
    return (await this.factoriesOwnedBy(caller.userId)).includes(shipment.factoryId);
  }

  private factoriesOwnedBy(userId: string): Promise<string[]> {
    let owned = this.ownership.get(userId);
    if (!owned) {
      const client = this.client;
      if (!client) throw new Error('ShipmentService needs an InternalClient to check factory ownership');
      owned = client
        .get<{ factoryIds: string[] }>('factory', `/api/factories/owned-by/${userId}`)
        .then(({ factoryIds }) => factoryIds);
      this.ownership.set(userId, owned);
    }
    return owned;
  }
}
