import { Check, Entity, Index, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { newId } from '../../../lib/ids';
import { moneyType } from '../../../lib/money';
import type { OrderSource, OrderStatus } from '../states';

/**
 * A buyer's order from one factory. REGULAR orders are paid by their own invoice; GROUP_BUYING orders
 * are created already paid (escrow) once per session participant, which the unique key enforces.
 */
@Entity({ tableName: 'orders' })
@Unique({ properties: ['sessionId', 'participantId'] })
@Index({ properties: ['userId', 'id'] })
// factoryOrders: a factory's orders newest first, page by page.
@Index({ properties: ['factoryId', 'id'] })
@Check({ name: 'orders_total_check', expression: 'total >= 0' })
export class Order {
  [OptionalProps]?: 'currency' | 'createdAt' | 'updatedAt' | 'sessionId' | 'participantId' | 'paymentId';

  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Property({ type: 'uuid' })
  userId!: string;

  @Property({ type: 'uuid' })
  factoryId!: string;

  @Property({ type: 'uuid' })
  addressId!: string;

  @Property({ type: 'string', length: 20 })
  status!: OrderStatus;

  @Property({ type: 'string', length: 20 })
  source!: OrderSource;

  @Property({ type: 'uuid', nullable: true })
  sessionId?: string | null;

  @Property({ type: 'uuid', nullable: true })
  participantId?: string | null;

  @Property({ type: 'uuid', nullable: true })
  paymentId?: string | null;

  /** IDR: Σ unitPrice × quantity of its items. */
  @Property({ type: moneyType() })
  total!: number;

  @Property({ type: 'string', length: 3 })
  currency: string = 'IDR';

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  updatedAt: Date = new Date();
}
