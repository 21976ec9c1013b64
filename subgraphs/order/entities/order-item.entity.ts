import { Check, Entity, Index, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { newId } from '../../../lib/ids';
import { moneyType } from '../../../lib/money';

/** One line of an order, with the catalog snapshot taken when it was placed (later price changes do not apply). */
@Entity({ tableName: 'order_items' })
@Check({ name: 'order_items_quantity_check', expression: 'quantity >= 1' })
export class OrderItem {
  [OptionalProps]?: 'createdAt' | 'categoryId' | 'categoryName';

  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Index()
  @Property({ type: 'uuid' })
  orderId!: string;

  @Property({ type: 'uuid' })
  productId!: string;

  @Property({ type: 'uuid' })
  variantId!: string;

  @Property({ type: 'string', length: 200 })
  productName!: string;

  @Property({ type: 'string', length: 200 })
  variantName!: string;

  @Property({ type: 'string', length: 64 })
  sku!: string;

  @Property({ type: 'uuid', nullable: true })
  categoryId?: string | null;

  @Property({ type: 'string', length: 120, nullable: true })
  categoryName?: string | null;

  /** IDR for one unit, from the product service (or the session's group price). */
  @Property({ type: moneyType() })
  unitPrice!: number;

  @Property({ type: 'integer' })
  quantity!: number;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();
}
