import { Entity, Index, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { moneyType } from '../../../lib/money';
import type { PayoutReservationStatus } from '../states';

/**
 * Money a factory's payout (settlement's row, same id) took from its available balance, and what became of it.
 * The id is the business key: a repeated reservation finds this row and answers what it answered first.
 */
@Entity({ tableName: 'payout_reservations' })
export class PayoutReservation {
  [OptionalProps]?: 'createdAt' | 'updatedAt' | 'status';

  /** Settlement's payout id. */
  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @Index()
  @Property({ type: 'uuid' })
  factoryId!: string;

  @Property({ type: moneyType() })
  amount!: number;

  @Property({ type: 'string', length: 20 })
  status: PayoutReservationStatus = 'RESERVED';

  /** The factory's available money right after this reservation (the answer to every repeat). */
  @Property({ type: moneyType() })
  availableAfter!: number;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', defaultRaw: 'now()', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
