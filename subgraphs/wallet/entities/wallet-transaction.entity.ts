import { Check, Entity, Index, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { newId } from '../../../lib/ids';
import { moneyType } from '../../../lib/money';

export type WalletTransactionType = 'REFUND_CREDIT' | 'PURCHASE_DEBIT' | 'ADJUSTMENT';

/** One movement of a wallet: signed amount (credits positive), the balance it left, and its business key. */
@Entity({ tableName: 'wallet_transactions' })
@Check({ name: 'wallet_transactions_amount_check', expression: 'amount <> 0' })
@Check({ name: 'wallet_transactions_balance_after_check', expression: 'balance_after >= 0' })
@Check({
  name: 'wallet_transactions_type_check',
  expression: "type in ('REFUND_CREDIT', 'PURCHASE_DEBIT', 'ADJUSTMENT')",
})
export class WalletTransaction {
  [OptionalProps]?: 'createdAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Index()
  @Property({ type: 'uuid' })
  walletId!: string;

  /** IDR, integer rupiah; negative for debits. */
  @Property({ type: moneyType() })
  amount!: number;

  @Property({ type: 'string', length: 24 })
  type!: WalletTransactionType;

  @Property({ type: moneyType() })
  balanceAfter!: number;

  /** The caller's business key (a refund id for refund credits): one transaction per reference. */
  @Property({ type: 'string', length: 200, unique: true })
  reference!: string;

  @Property({ type: 'string', length: 500, nullable: true })
  description?: string | null;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();
}
