import { Entity, OptionalProps, Index, PrimaryKey, Property } from '@mikro-orm/core';
import { newId } from '../../../lib/ids';
import { moneyType } from '../../../lib/money';

@Entity({ tableName: 'products' })
export class Product {
  [OptionalProps]?: 'createdAt' | 'currency';

  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Index()
  @Property({ type: 'uuid' })
  factoryId!: string;

  @Index()
  @Property({ type: 'uuid' })
  categoryId!: string;

  @Property({ type: 'string', length: 200 })
  name!: string;

  @Property({ type: 'text', nullable: true })
  description?: string | null;

  /** IDR, integer rupiah. */
  @Property({ type: moneyType() })
  basePrice!: number;

  @Property({ type: 'string', length: 3 })
  currency: string = 'IDR';

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();
}
