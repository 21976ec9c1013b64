import type { EntityManager } from '@mikro-orm/postgresql';
import { DEMO_FACTORIES, DEMO_OWNERS, DEMO_PRODUCTS } from '../../lib/demo-data';
import { Warehouse } from './entities/warehouse.entity';
import { InventoryLevel } from './entities/inventory-level.entity';
import { newId } from '../../lib/ids';

export const DEMO_WAREHOUSE_ID = '01930000-0000-7000-8000-0000000000d1';
export const DEMO_STOCK_PER_VARIANT = 100;

/** One demo warehouse per demo owner, each stocking only the variants of that owner's factories. */
const DEMO_WAREHOUSES = [
  { id: DEMO_WAREHOUSE_ID, ownerId: DEMO_OWNERS[0].id, name: 'Gudang Bandung', city: 'Bandung' },
  { id: '01930000-0000-7000-8000-0000000000d2', ownerId: DEMO_OWNERS[1].id, name: 'Gudang Solo', city: 'Solo' },
];

/**
 * Demo warehouses with stock for every demo variant. Existing rows are left alone (never reset), so a
 * restart cannot undo sales or undercut reservations.
 */
export async function seedWarehouse(em: EntityManager): Promise<void> {
  for (const warehouse of DEMO_WAREHOUSES) {
    await em
      .createQueryBuilder(Warehouse)
      .insert({ ...warehouse, createdAt: new Date() })
      .onConflict('id')
      .ignore()
      .execute();
    const factories = new Set<string>(DEMO_FACTORIES.filter((f) => f.ownerId === warehouse.ownerId).map((f) => f.id));
    const variantIds = DEMO_PRODUCTS.filter((p) => factories.has(p.factoryId)).flatMap((p) =>
      p.variants.map((v) => v.id as string),
    );
    for (const variantId of variantIds) {
      await em
        .createQueryBuilder(InventoryLevel)
        .insert({
          id: newId(),
          warehouseId: warehouse.id,
          variantId,
          quantity: DEMO_STOCK_PER_VARIANT,
          reserved: 0,
          updatedAt: new Date(),
        })
        .onConflict(['warehouseId', 'variantId'])
        .ignore()
        .execute();
    }
  }
}
