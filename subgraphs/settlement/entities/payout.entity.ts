import { Check, Entity, Index, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { newId } from '../../../lib/ids';
import { moneyType } from '../../../lib/money';
import type { PayoutStatus } from '../states';

/**
 * Money sent from a factory's available balance to its payout account. The destination is copied from the
 * payout account at request time, so every retry of the Xendit create sends exactly what the first one did.
 * Its id is the Xendit idempotency key and reference id, and payment's reservation key.
 */
@Entity({ tableName: 'payouts' })
@Unique({ name: 'payouts_factory_idempotency_key_unique', properties: ['factoryId', 'idempotencyKey'] })
@Index({
  name: 'payouts_requested_index',
  expression: `create index "payouts_requested_index" on "payouts" ("next_attempt_at") where "status" = 'REQUESTED'`,
})
@Index({
  name: 'payouts_accepted_index',
  expression: `create index "payouts_accepted_index" on "payouts" ("accepted_at") where "status" = 'ACCEPTED'`,
})
@Check({
  name: 'payouts_status_check',
  expression: "status in ('REQUESTED', 'ACCEPTED', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'REVERSED')",
})
@Check({ name: 'payouts_amount_check', expression: 'amount > 0' })
export class Payout {
  [OptionalProps]?:
    | 'status'
    | 'currency'
    | 'idempotencyKey'
    | 'xenditPayoutId'
    | 'failureCode'
    | 'reservedAt'
    | 'acceptedAt'
    | 'completedAt'
    | 'attempts'
    | 'nextAttemptAt'
    | 'createdAt'
    | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Index()
  @Property({ type: 'uuid' })
  factoryId!: string;

  /** The caller's key: the same key for the same factory is the same payout. */
  @Property({ type: 'string', length: 200, nullable: true })
  idempotencyKey?: string | null;

  /** Who asked (the owner or an admin). */
  @Property({ type: 'uuid' })
  requestedBy!: string;

  /** IDR, integer rupiah. */
  @Property({ type: moneyType() })
  amount!: number;

  @Property({ type: 'string', length: 3, default: 'IDR' })
  currency: string = 'IDR';

  @Property({ type: 'string', length: 40 })
  channelCode!: string;

  @Property({ type: 'string', length: 40 })
  accountNumber!: string;

  @Property({ type: 'string', length: 200 })
  accountHolderName!: string;

  @Property({ type: 'string', length: 20, default: 'REQUESTED' })
  status: PayoutStatus = 'REQUESTED';

  @Property({ type: 'string', length: 100, nullable: true, unique: true })
  xenditPayoutId?: string | null;

  @Property({ type: 'string', length: 100, nullable: true })
  failureCode?: string | null;

  /**
   * When payment moved the amount to in-payout. Until then the payout is invisible (a refused reservation
   * deletes it) and Xendit has never heard of it.
   */
  @Property({ type: 'datetime', nullable: true })
  reservedAt?: Date | null;

  @Property({ type: 'datetime', nullable: true })
  acceptedAt?: Date | null;

  /** When it reached SUCCEEDED, FAILED or CANCELLED (REVERSED keeps the time it succeeded). */
  @Property({ type: 'datetime', nullable: true })
  completedAt?: Date | null;

  /** Resumptions of a REQUESTED payout by the reconciliation, and when the next may start. */
  @Property({ type: 'integer', default: 0 })
  attempts: number = 0;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  nextAttemptAt: Date = new Date();

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  updatedAt: Date = new Date();
}
