import { Check, Entity, Index, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { newId } from '../../../lib/ids';

export type ReservationStatus = 'RESERVED' | 'COMMITTED' | 'RELEASED';

/** Units of one variant held in one warehouse for one order; moves RESERVED → COMMITTED | RELEASED once. */
@Entity({ tableName: 'reservations' })
@Unique({ properties: ['orderId', 'variantId'] })
@Check({ name: 'reservations_quantity_check', expression: 'quantity > 0' })
export class Reservation {
  [OptionalProps]?: 'status' | 'createdAt' | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Index()
  @Property({ type: 'uuid' })
  orderId!: string;

  @Property({ type: 'uuid' })
  warehouseId!: string;

  @Property({ type: 'uuid' })
  variantId!: string;

  @Property({ type: 'integer' })
  quantity!: number;

  @Property({ type: 'string', length: 16, default: 'RESERVED' })
  status: ReservationStatus = 'RESERVED';

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  updatedAt: Date = new Date();
}
