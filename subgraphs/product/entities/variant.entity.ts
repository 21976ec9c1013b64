import { Entity, OptionalProps, Index, PrimaryKey, Property } from '@mikro-orm/core';
import { newId } from '../../../lib/ids';
import { moneyType } from '../../../lib/money';

@Entity({ tableName: 'variants' })
export class Variant {
  [OptionalProps]?: 'createdAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Index()
  @Property({ type: 'uuid' })
  productId!: string;

  @Property({ type: 'string', length: 64, unique: true })
  sku!: string;

  @Property({ type: 'string', length: 200 })
  name!: string;

  /** IDR, integer rupiah. */
  @Property({ type: moneyType() })
  price!: number;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();
}
