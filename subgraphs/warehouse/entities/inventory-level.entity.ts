import { Check, Entity, Index, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { newId } from '../../../lib/ids';

/**
 * Stock of one variant in one warehouse. `reserved` units are promised to unpaid orders; the CHECKs
 * make negative or over-reserved stock impossible whatever the code does.
 */
@Entity({ tableName: 'inventory' })
@Unique({ properties: ['warehouseId', 'variantId'] })
@Check({ name: 'inventory_quantity_check', expression: 'quantity >= 0' })
@Check({ name: 'inventory_reserved_check', expression: 'reserved >= 0 and reserved <= quantity' })
export class InventoryLevel {
  [OptionalProps]?: 'reserved' | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Property({ type: 'uuid' })
  warehouseId!: string;

  @Index()
  @Property({ type: 'uuid' })
  variantId!: string;

  @Property({ type: 'integer' })
  quantity!: number;

  @Property({ type: 'integer', default: 0 })
  reserved: number = 0;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  updatedAt: Date = new Date();
}
