import { Check, Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { newId } from '../../../lib/ids';
import { moneyType } from '../../../lib/money';

/** A user's marketplace credit. `balance` changes only together with a wallet transaction (DESIGN.md §5). */
@Entity({ tableName: 'wallets' })
@Check({ name: 'wallets_balance_check', expression: 'balance >= 0' })
export class Wallet {
  [OptionalProps]?: 'balance' | 'currency' | 'createdAt' | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Property({ type: 'uuid', unique: true })
  userId!: string;

  /** IDR, integer rupiah. */
  @Property({ type: moneyType(), default: 0 })
  balance: number = 0;

  @Property({ type: 'string', length: 3, default: 'IDR' })
  currency: string = 'IDR';

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  updatedAt: Date = new Date();
}
