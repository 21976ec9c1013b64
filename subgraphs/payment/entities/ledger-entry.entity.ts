import { Entity, Index, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { newId } from '../../../lib/ids';
import { moneyType } from '../../../lib/money';
import type { LedgerKind } from '../ledger';

/**
 * One leg of a double-entry movement (DESIGN.md §5). Debits are positive, credits negative; the legs of
 * a group sum to zero. Each names what moved it: a payment, or a payout (settlement's id). The unique keys
 * make a second posting of the same movement for a payment or a payout fail.
 */
@Entity({ tableName: 'transaction_ledger' })
@Unique({ properties: ['paymentId', 'kind', 'account'] })
@Unique({ properties: ['payoutId', 'kind', 'account'] })
export class LedgerEntry {
  [OptionalProps]?: 'createdAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Index()
  @Property({ type: 'uuid' })
  groupId!: string;

  @Index()
  @Property({ type: 'string', length: 120 })
  account!: string;

  @Property({ type: moneyType() })
  amount!: number;

  @Property({ type: 'uuid', nullable: true })
  paymentId?: string | null;

  @Property({ type: 'uuid', nullable: true })
  refundId?: string | null;

  @Property({ type: 'uuid', nullable: true })
  payoutId?: string | null;

  @Property({ type: 'string', length: 40 })
  kind!: LedgerKind;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();
}
