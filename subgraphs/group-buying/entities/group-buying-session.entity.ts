import { Check, Entity, Enum, Index, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { newId } from '../../../lib/ids';
import { moneyType } from '../../../lib/money';
import { SESSION_STATUSES, type SessionStatus } from '../states';

/** `PENDING`: the status moved on but its orders/refunds are not all confirmed downstream yet. */
export type SettlementState = 'PENDING' | 'SETTLED';

@Entity({ tableName: 'group_buying_sessions' })
@Index({ properties: ['status', 'endsAt'] })
@Index({ properties: ['settlementState'] })
// The database, not only the join query, guarantees the maximum is never exceeded.
@Check({
  name: 'group_buying_sessions_quantities_check',
  expression:
    'joined_quantity >= 0 and paid_quantity >= 0 and participants_count >= 0 and (max_quantity is null or joined_quantity <= max_quantity)',
})
export class GroupBuyingSession {
  [OptionalProps]?:
    | 'status'
    | 'joinedQuantity'
    | 'paidQuantity'
    | 'participantsCount'
    | 'settlementRound'
    | 'settlementAttempts'
    | 'createdAt'
    | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Index()
  @Property({ type: 'uuid' })
  productId!: string;

  @Property({ type: 'uuid' })
  variantId!: string;

  @Index()
  @Property({ type: 'uuid' })
  factoryId!: string;

  /** The user who opened it (the factory owner or an admin). */
  @Property({ type: 'uuid' })
  createdBy!: string;

  @Property({ type: 'integer' })
  moq!: number;

  /** IDR per unit, integer rupiah. */
  @Property({ type: moneyType() })
  groupPrice!: number;

  @Property({ type: 'integer', nullable: true })
  maxQuantity?: number | null;

  @Property({ type: 'datetime' })
  endsAt!: Date;

  @Enum({ items: () => [...SESSION_STATUSES], type: 'string', length: 20, default: 'FORMING' })
  status: SessionStatus = 'FORMING';

  @Property({ type: 'integer', default: 0 })
  joinedQuantity: number = 0;

  @Property({ type: 'integer', default: 0 })
  paidQuantity: number = 0;

  @Property({ type: 'integer', default: 0 })
  participantsCount: number = 0;

  /** Null while nothing is owed downstream; see SettlementState. */
  @Property({ type: 'string', length: 10, nullable: true })
  settlementState?: SettlementState | null;

  /** Bumped whenever more settlement work appears (a late payment), so a settle run in flight cannot mark it done. */
  @Property({ type: 'integer', default: 0 })
  settlementRound: number = 0;

  @Property({ type: 'datetime', nullable: true })
  settledAt?: Date | null;

  /** Failed settlement runs in a row; the next run waits until settlementRetryAt (doubling back-off). */
  @Property({ type: 'integer', default: 0 })
  settlementAttempts: number = 0;

  @Property({ type: 'datetime', nullable: true })
  settlementRetryAt?: Date | null;

  @Property({ type: 'text', nullable: true })
  settlementError?: string | null;

  /** The expiry/settlement claim (DESIGN.md §3): who holds it and when it was last renewed; stale claims are taken over. */
  @Property({ type: 'uuid', nullable: true })
  processingClaim?: string | null;

  @Property({ type: 'datetime', nullable: true })
  processingClaimedAt?: Date | null;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', defaultRaw: 'now()', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
