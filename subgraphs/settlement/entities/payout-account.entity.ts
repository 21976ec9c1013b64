import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';

/** Where a factory's payouts go: one per factory, replaced by setPayoutAccount. The number is never read out. */
@Entity({ tableName: 'payout_accounts' })
export class PayoutAccount {
  [OptionalProps]?: 'createdAt' | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  factoryId!: string;

  /** A code of PAYOUT_CHANNELS (channels.ts). */
  @Property({ type: 'string', length: 40 })
  channelCode!: string;

  /** Digits only; sent to Xendit, shown masked. */
  @Property({ type: 'string', length: 40 })
  accountNumber!: string;

  @Property({ type: 'string', length: 200 })
  accountHolderName!: string;

  /** Who set it last (the owner or an admin), for the record. */
  @Property({ type: 'uuid' })
  updatedBy!: string;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  updatedAt: Date = new Date();
}
