import { Entity, Index, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { newId } from '../../../lib/ids';
import type { ShipmentStatus } from '../states';

/** One step in a shipment's history (the audit trail of its state machine); ids order them. */
@Entity({ tableName: 'tracking' })
export class TrackingEvent {
  [OptionalProps]?: 'occurredAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Index()
  @Property({ type: 'uuid' })
  shipmentId!: string;

  @Property({ type: 'string', length: 16 })
  status!: ShipmentStatus;

  @Property({ type: 'string', length: 500, nullable: true })
  description?: string | null;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  occurredAt: Date = new Date();
}
