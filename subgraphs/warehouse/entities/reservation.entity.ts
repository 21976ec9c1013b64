import { Check, Entity, Index, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { newId } from '../../../lib/ids';
import type { Transitions } from '../../../lib/state-machine';
import type { ReservationStatus } from '../../../lib/contracts/warehouse';

export type { ReservationStatus };

/**
 * A reservation's life: paid (COMMITTED) or not (RELEASED); a paid order cancelled later puts its units back
 * (RESTOCKED). Each move is a claim from the states this table allows, so it happens once.
 */
export const RESERVATION_TRANSITIONS: Transitions<ReservationStatus> = {
  RESERVED: ['COMMITTED', 'RELEASED'],
  COMMITTED: ['RESTOCKED'],
  RELEASED: [],
  RESTOCKED: [],
};

/** Units of one variant held in one warehouse for one order (RESERVATION_TRANSITIONS). */
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
