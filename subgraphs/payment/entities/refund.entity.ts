import { Entity, Index, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { newId } from '../../../lib/ids';
import { moneyType } from '../../../lib/money';
import type { RefundDestination, RefundStatus } from '../states';

/**
 * Money going back to a buyer. At most one per payment (unique), written PENDING and committed before
 * Xendit is called with this row's id as idempotency key, so a rerun after a crash never refunds twice.
 */
@Entity({ tableName: 'refunds' })
export class Refund {
  [OptionalProps]?: 'createdAt' | 'currency' | 'status';

  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Property({ type: 'uuid', unique: true })
  paymentId!: string;

  @Index()
  @Property({ type: 'uuid', nullable: true })
  sessionId?: string | null;

  @Property({ type: 'uuid' })
  userId!: string;

  @Property({ type: moneyType() })
  amount!: number;

  @Property({ type: 'string', length: 3 })
  currency: string = 'IDR';

  @Property({ type: 'string', length: 20 })
  destination!: RefundDestination;

  @Property({ type: 'string', length: 20 })
  status: RefundStatus = 'PENDING';

  /** The caller's reason, as given (Xendit gets the nearest of its own reason codes). */
  @Property({ type: 'string', length: 200 })
  reason!: string;

  /** Xendit's `rfd-…` id, once Xendit accepted the request. */
  @Property({ type: 'string', length: 100, nullable: true, unique: true })
  xenditRefundId?: string | null;

  @Property({ type: 'string', length: 100, nullable: true })
  failureCode?: string | null;

  @Property({ type: 'datetime', nullable: true })
  completedAt?: Date | null;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();
}
