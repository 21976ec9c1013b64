import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Warehouse } from './entities/warehouse.entity';
import { InventoryLevel } from './entities/inventory-level.entity';
import { Reservation, RESERVATION_TRANSITIONS, type ReservationStatus } from './entities/reservation.entity';
import { badInput, conflict, forbidden, notFound } from '../../lib/errors';
import { idSchema, nonEmpty, parseInput } from '../../lib/validation';
import type { Caller } from '../../lib/internal-auth';
import type { InternalClient } from '../../lib/internal-client';
import { FactoryAccess } from '../../lib/factory-access';
import { statesLeadingTo } from '../../lib/state-machine';
import type { InventoryAnswer } from '../../lib/contracts/warehouse';
import { productByVariantPath, type ProductSnapshot } from '../../lib/contracts/product';
import { asFieldInput } from '../../lib/downstream';

const createWarehouseSchema = z.object({ name: nonEmpty(120), city: nonEmpty(120) });

const setInventorySchema = z.object({
  warehouseId: idSchema,
  variantId: idSchema,
  quantity: z.number().int('must be a whole number').min(0, 'must be at least 0').max(10_000_000),
});

const reserveSchema = z.object({
  orderId: idSchema,
  items: z
    .array(z.object({ variantId: idSchema, quantity: z.number().int('must be a whole number').min(1).max(1_000_000) }))
    .min(1, 'at least one item')
    .max(100),
});

const orderIdSchema = z.object({ orderId: idSchema });

export type ReservationView = InventoryAnswer['reservations'][number];

type Settled = Exclude<ReservationStatus, 'RESERVED'>;

/** What a reservation's move does to its inventory row, per unit: [reserved, quantity]. */
const STOCK_CHANGE: Record<Settled, readonly [reserved: number, quantity: number]> = {
  // Reserved units leave the warehouse.
  COMMITTED: [-1, -1],
  // Reserved units are available again.
  RELEASED: [-1, 0],
  // Units that had left come back.
  RESTOCKED: [0, 1],
};

const view = (r: Reservation): ReservationView => ({
  id: r.id,
  orderId: r.orderId,
  warehouseId: r.warehouseId,
  variantId: r.variantId,
  quantity: r.quantity,
  status: r.status,
});

export class InventoryService {
  private factoryAccess?: FactoryAccess;

  constructor(
    private readonly em: EntityManager,
    private readonly client?: InternalClient,
  ) {}

  /** Admins, and whoever owns a factory (asked of the factory subgraph, so right after createFactory too). */
  async createWarehouse(caller: Caller, input: unknown): Promise<Warehouse> {
    const { name, city } = parseInput(createWarehouseSchema, input);
    await this.access.assertOwnsAny(caller, 'create a warehouse');
    const warehouse = this.em.create(Warehouse, { ownerId: caller.userId, name, city });
    await this.em.persistAndFlush(warehouse);
    return warehouse;
  }

  warehouses(caller: Caller): Promise<Warehouse[]> {
    const where = caller.role === 'ADMIN' ? {} : { ownerId: caller.userId };
    return this.em.find(Warehouse, where, { orderBy: { id: 'asc' } });
  }

  /** Levels of a variant in the warehouses the caller may see. */
  async inventory(caller: Caller, variantId: string): Promise<InventoryLevel[]> {
    const { variantId: id } = parseInput(z.object({ variantId: idSchema }), { variantId });
    const levels = await this.em.find(InventoryLevel, { variantId: id }, { orderBy: { warehouseId: 'asc' } });
    if (caller.role === 'ADMIN' || levels.length === 0) return levels;
    const owned = await this.em.find(Warehouse, {
      id: { $in: levels.map((l) => l.warehouseId) },
      ownerId: caller.userId,
    });
    const ownedIds = new Set(owned.map((w) => w.id));
    return levels.filter((level) => ownedIds.has(level.warehouseId));
  }

  /**
   * Sets on-hand stock. Only an admin, or the warehouse's owner for a variant of one of their own
   * factories, may: so a factory owner never stocks (and orders never reserve from them) another
   * factory's goods. One upsert whose conflict branch only applies while the new quantity still covers
   * what is reserved, so a concurrent reservation can never be undercut.
   */
  async setInventory(caller: Caller, input: unknown): Promise<InventoryLevel> {
    const { warehouseId, variantId, quantity } = parseInput(setInventorySchema, input);
    const warehouse = await this.em.findOne(Warehouse, { id: warehouseId });
    if (!warehouse) throw notFound('No warehouse with this id');
    if (caller.role !== 'ADMIN' && warehouse.ownerId !== caller.userId) {
      throw forbidden('Only the owner of this warehouse can set its stock');
    }
    const product = await this.requireVariant(variantId);
    if (!(await this.access.canManage(caller, product.factoryId)))
      throw forbidden('You can only stock variants of your own factories');
    const rows: { id: string }[] = await this.em.execute(
      `insert into inventory (id, warehouse_id, variant_id, quantity, reserved, updated_at)
       values (gen_random_uuid(), ?, ?, ?, 0, now())
       on conflict (warehouse_id, variant_id) do update set quantity = excluded.quantity, updated_at = now()
       where inventory.reserved <= excluded.quantity
       returning id`,
      [warehouseId, variantId, quantity],
    );
    if (rows.length === 0) {
      const level = await this.em.findOneOrFail(InventoryLevel, { warehouseId, variantId });
      throw conflict(`Cannot set the stock to ${quantity}: ${level.reserved} units are reserved for unpaid orders`);
    }
    return this.em.findOneOrFail(InventoryLevel, { id: rows[0].id }, { refresh: true });
  }

  /**
   * Reserves every item for an order, all or nothing, at most once per order (a repeat answers the
   * first reservation). Items are taken in variant order so concurrent reservations lock rows in the
   * same order and cannot deadlock.
   */
  async reserve(input: unknown): Promise<{ reservations: ReservationView[] }> {
    const { orderId, items } = parseInput(reserveSchema, input);
    const variantIds = items.map((i) => i.variantId);
    if (new Set(variantIds).size !== variantIds.length) throw badInput('items: each variant may appear once');
    const sorted = [...items].sort((a, b) => a.variantId.localeCompare(b.variantId));
    return this.em.transactional(async (tx) => {
      await tx.execute('select pg_advisory_xact_lock(hashtextextended(?, 0))', [orderId]);
      const existing = await tx.find(Reservation, { orderId }, { orderBy: { variantId: 'asc' } });
      if (existing.length) return { reservations: existing.map(view) };
      const reservations: Reservation[] = [];
      for (const item of sorted) {
        const warehouseId = await takeStock(tx, item.variantId, item.quantity);
        if (!warehouseId) throw conflict(`Not enough stock for variant ${item.variantId}`);
        reservations.push(
          tx.create(Reservation, { orderId, warehouseId, variantId: item.variantId, quantity: item.quantity }),
        );
      }
      return { reservations: reservations.map(view) };
    });
  }

  /** The order was paid: reserved units leave the warehouse. Idempotent. */
  commit(input: unknown) {
    return this.settle(input, ['COMMITTED']);
  }

  /** The order will not be paid: reserved units become available again. Idempotent. */
  release(input: unknown) {
    return this.settle(input, ['RELEASED']);
  }

  /**
   * A paid order was cancelled: its units go back to the warehouses they came from, committed or still
   * reserved (a commit racing this finds nothing left to commit). Idempotent.
   */
  restock(input: unknown) {
    return this.settle(input, ['RESTOCKED', 'RELEASED']);
  }

  /**
   * Moves the order's reservations to the first of `targets` each may reach, per RESERVATION_TRANSITIONS, and
   * their stock with them, in one transaction. Calls for one order are serialised (the lock reserve takes), and
   * each move is a claim from its table sources, so every reservation moves at most once per step however often
   * and however concurrently this is called.
   */
  private async settle(input: unknown, targets: Settled[]): Promise<InventoryAnswer> {
    const { orderId } = parseInput(orderIdSchema, input);
    return this.em.transactional(async (tx) => {
      await tx.execute('select pg_advisory_xact_lock(hashtextextended(?, 0))', [orderId]);
      const moved: { warehouse_id: string; variant_id: string; quantity: number; to: Settled }[] = [];
      for (const to of targets) {
        const from = statesLeadingTo(RESERVATION_TRANSITIONS, to);
        const rows: { warehouse_id: string; variant_id: string; quantity: number }[] = await tx.execute(
          `update reservations set status = ?, updated_at = now()
            where order_id = ? and status in (${from.map(() => '?').join(', ')})
           returning warehouse_id, variant_id, quantity`,
          [to, orderId, ...from],
        );
        moved.push(...rows.map((row) => ({ ...row, to })));
      }
      // Inventory rows in variant order, as reserve takes them, so concurrent orders cannot deadlock.
      moved.sort((a, b) => a.variant_id.localeCompare(b.variant_id));
      for (const row of moved) {
        const [reserved, quantity] = STOCK_CHANGE[row.to];
        await tx.execute(
          `update inventory set reserved = reserved + ?, quantity = quantity + ?, updated_at = now()
           where warehouse_id = ? and variant_id = ?`,
          [reserved * row.quantity, quantity * row.quantity, row.warehouse_id, row.variant_id],
        );
      }
      const all = await tx.find(Reservation, { orderId }, { orderBy: { variantId: 'asc' } });
      return { reservations: all.map(view) };
    });
  }

  private requireVariant(variantId: string): Promise<ProductSnapshot> {
    if (!this.client) throw new Error('InventoryService needs an InternalClient to check variants');
    return asFieldInput(
      this.client.get<ProductSnapshot>('product', productByVariantPath(variantId)),
      'variantId: no such variant',
    );
  }

  private get access(): FactoryAccess {
    if (!this.client) throw new Error('InventoryService needs an InternalClient to check factory ownership');
    return (this.factoryAccess ??= new FactoryAccess(this.client));
  }
}

/**
 * Takes `quantity` units of a variant from the warehouse with the most available. The guarded UPDATE
 * is the real check: under concurrency a candidate may have been drained since the SELECT, so the
 * row count decides and the next candidate is tried.
 */
async function takeStock(tx: EntityManager, variantId: string, quantity: number): Promise<string | null> {
  const candidates: { id: string }[] = await tx.execute(
    `select id from inventory where variant_id = ? and quantity - reserved >= ?
     order by quantity - reserved desc, id`,
    [variantId, quantity],
  );
  for (const candidate of candidates) {
    const taken: { warehouse_id: string }[] = await tx.execute(
      `update inventory set reserved = reserved + ?, updated_at = now()
       where id = ? and quantity - reserved >= ? returning warehouse_id`,
      [quantity, candidate.id, quantity],
    );
    if (taken.length) return taken[0].warehouse_id;
  }
  return null;
}
