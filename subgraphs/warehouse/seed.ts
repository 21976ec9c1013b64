import type { EntityManager } from '@mikro-orm/postgresql';
import { DEMO_OWNERS, DEMO_PRODUCTS } from '../../lib/demo-data';
import { Warehouse } from './entities/warehouse.entity';
import { InventoryLevel } from './entities/inventory-level.entity';
import { newId } from '../../lib/ids';

export const DEMO_WAREHOUSE_ID = '01930000-0000-7000-8000-0000000000d1';
export const DEMO_STOCK_PER_VARIANT = 100;

/**
 * A demo warehouse with stock for every demo variant. Existing rows are left alone (never reset), so a
 * restart cannot undo sales or undercut reservations.
 */
export async function seedWarehouse(em: EntityManager): Promise<void> {
  await em
    .createQueryBuilder(Warehouse)
    .insert({ id: DEMO_WAREHOUSE_ID, ownerId: DEMO_OWNERS[0].id, name: 'Gudang Bandung', city: 'Bandung', createdAt: new Date() })
    .onConflict('id')
    .ignore()
    .execute();
  for (const variantId of DEMO_PRODUCTS.flatMap((p) => p.variants.map((v) => v.id as string))) {
    await em
      .createQueryBuilder(InventoryLevel)
      .insert({ id: newId(), warehouseId: DEMO_WAREHOUSE_ID, variantId, quantity: DEMO_STOCK_PER_VARIANT, reserved: 0, updatedAt: new Date() })
      .onConflict(['warehouseId', 'variantId'])
      .ignore()
      .execute();
  }
}
