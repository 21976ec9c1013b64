import { Entity, Enum, Index, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { newId } from '../../../lib/ids';
import { moneyType } from '../../../lib/money';
import { PARTICIPANT_STATUSES, type ParticipantStatus, type RefundPreference } from '../states';

/**
 * One buyer's place in a session; the unique (session, user) key over places that are not EXPIRED makes a
 * second join a CONFLICT under any race, while a buyer whose unpaid hold ran out may join again.
 */
@Entity({ tableName: 'group_participants' })
@Unique({
  name: 'group_participants_session_id_user_id_unique',
  expression: `create unique index "group_participants_session_id_user_id_unique" on "group_participants" ("session_id", "user_id") where "status" <> 'EXPIRED'`,
})
@Index({ properties: ['sessionId', 'id'] })
export class GroupParticipant {
  [OptionalProps]?: 'status' | 'refundTo' | 'createdAt' | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Property({ type: 'uuid' })
  sessionId!: string;

  @Index()
  @Property({ type: 'uuid' })
  userId!: string;

  @Property({ type: 'integer' })
  quantity!: number;

  /** The session's group price when joining, integer IDR. */
  @Property({ type: moneyType() })
  unitPrice!: number;

  /** unitPrice × quantity, integer IDR: what the escrow invoice asks. */
  @Property({ type: moneyType() })
  amount!: number;

  @Property({ type: 'uuid' })
  addressId!: string;

  @Property({ type: 'string', length: 20 })
  refundTo: RefundPreference = 'ORIGINAL_METHOD';

  @Enum({ items: () => [...PARTICIPANT_STATUSES], type: 'string', length: 20, default: 'PENDING_PAYMENT' })
  status: ParticipantStatus = 'PENDING_PAYMENT';

  @Property({ type: 'uuid', nullable: true })
  paymentId?: string | null;

  @Property({ type: 'text', nullable: true })
  paymentUrl?: string | null;

  /** The bulk order placed for this participant when the MOQ was reached (for shipments). */
  @Property({ type: 'uuid', nullable: true })
  orderId?: string | null;

  @Property({ type: 'datetime', nullable: true })
  paidAt?: Date | null;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', defaultRaw: 'now()', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
