import { Check, Entity, Index, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { newId } from '../../../lib/ids';
import type { ShipmentStatus } from '../states';

/** The parcel of one order, from the factory to the buyer; at most one per order. */
@Entity({ tableName: 'shipments' })
@Check({
  name: 'shipments_status_check',
  expression: "status in ('PENDING', 'PICKED_UP', 'IN_TRANSIT', 'DELIVERED', 'CANCELLED')",
})
export class Shipment {
  [OptionalProps]?: 'status' | 'createdAt' | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Property({ type: 'uuid', unique: true })
  orderId!: string;

  /** The buyer. */
  @Index()
  @Property({ type: 'uuid' })
  userId!: string;

  @Index()
  @Property({ type: 'uuid' })
  factoryId!: string;

  @Property({ type: 'uuid' })
  addressId!: string;

  @Property({ type: 'string', length: 16, default: 'PENDING' })
  status: ShipmentStatus = 'PENDING';

  @Property({ type: 'string', length: 32, unique: true })
  trackingNumber!: string;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  updatedAt: Date = new Date();
}
