import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Wallet } from './entities/wallet.entity';
import { WalletTransaction, type WalletTransactionType } from './entities/wallet-transaction.entity';
import { badInput, conflict, isUniqueViolation } from '../../lib/errors';
import { idSchema, nonEmpty, parseInput, rupiah, optionalText } from '../../lib/validation';
import { paginate, type PageArgs } from '../../lib/pagination';
import { isId, newId } from '../../lib/ids';

const movementSchema = z.object({
  userId: idSchema,
  amount: rupiah,
  reference: nonEmpty(200),
  description: optionalText(500),
});

const creditSchema = movementSchema.extend({
  type: z.enum(['REFUND_CREDIT', 'ADJUSTMENT']).default('REFUND_CREDIT'),
});

/** The answer of credit and debit, the same on every replay of a reference. */
export interface MovementResult {
  transactionId: string;
  balanceAfter: number;
}

export class WalletService {
  constructor(private readonly em: EntityManager) {}

  /** The user's wallet, created empty on first use. */
  async walletOf(userId: string): Promise<Wallet> {
    await ensureWallet(this.em, userId);
    return this.em.findOneOrFail(Wallet, { userId });
  }

  transactions(walletId: string, page: PageArgs) {
    return paginate(this.em, WalletTransaction, { walletId }, page, { newestFirst: true });
  }

  /** For operators and tests; reading never creates a wallet. */
  async summary(userId: string): Promise<{ userId: string; balance: number; transactions: number }> {
    if (!isId(userId)) throw badInput('userId: is not a valid id');
    const wallet = await this.em.findOne(Wallet, { userId });
    const transactions = wallet ? await this.em.count(WalletTransaction, { walletId: wallet.id }) : 0;
    return { userId, balance: wallet?.balance ?? 0, transactions };
  }

  credit(input: unknown): Promise<MovementResult> {
    const { userId, amount, reference, description, type } = parseInput(creditSchema, input);
    return this.move({ userId, delta: amount, type, reference, description });
  }

  /** Spends credit; more than the balance is a CONFLICT and changes nothing. */
  debit(input: unknown): Promise<MovementResult> {
    const { userId, amount, reference, description } = parseInput(movementSchema, input);
    return this.move({ userId, delta: -amount, type: 'PURCHASE_DEBIT', reference, description });
  }

  /**
   * Applies a signed movement at most once per reference. The wallet row is locked first, so movements
   * of one wallet run one after another: no lost update, each `balance_after` is exact, and a replay
   * that waited for the lock sees the first one's row. The guarded UPDATE (and the CHECK) keeps the
   * balance from going negative.
   */
  private async move(movement: {
    userId: string;
    delta: number;
    type: WalletTransactionType;
    reference: string;
    description: string | null;
  }): Promise<MovementResult> {
    const { userId, delta, type, reference, description } = movement;
    try {
      return await this.em.transactional(async (tx) => {
        await ensureWallet(tx, userId);
        const [wallet]: { id: string }[] = await tx.execute('select id from wallets where user_id = ? for update', [
          userId,
        ]);
        const replay = await findReplay(tx, movement);
        if (replay) return replay;
        const updated: { balance: string }[] = await tx.execute(
          'update wallets set balance = balance + ?, updated_at = now() where id = ? and balance + ? >= 0 returning balance',
          [delta, wallet.id, delta],
        );
        if (updated.length === 0) throw conflict('The wallet balance is too low for this debit');
        // Created after the lock, so id order (the listing order) is the order of the balances.
        const transaction = tx.create(WalletTransaction, {
          id: newId(),
          walletId: wallet.id,
          amount: delta,
          type,
          balanceAfter: Number(updated[0].balance),
          reference,
          description,
        });
        return { transactionId: transaction.id, balanceAfter: transaction.balanceAfter };
      });
    } catch (error) {
      // The same reference committed meanwhile on another user's wallet: answer as for any replay.
      if (!isUniqueViolation(error)) throw error;
      const replay = await findReplay(this.em.fork(), movement);
      if (!replay) throw error;
      return replay;
    }
  }
}

async function ensureWallet(em: EntityManager, userId: string): Promise<void> {
  await em.execute(
    `insert into wallets (id, user_id, balance, currency, created_at, updated_at)
     values (?, ?, 0, 'IDR', now(), now()) on conflict (user_id) do nothing`,
    [newId(), userId],
  );
}

/** The first answer for a reference; the same reference for a different movement is a CONFLICT. */
async function findReplay(
  em: EntityManager,
  movement: { userId: string; delta: number; type: WalletTransactionType; reference: string },
): Promise<MovementResult | null> {
  const [row]: { id: string; amount: string; type: string; balance_after: string; user_id: string }[] =
    await em.execute(
      `select t.id, t.amount, t.type, t.balance_after, w.user_id
     from wallet_transactions t join wallets w on w.id = t.wallet_id where t.reference = ?`,
      [movement.reference],
    );
  if (!row) return null;
  if (row.user_id !== movement.userId || Number(row.amount) !== movement.delta || row.type !== movement.type) {
    throw conflict(`The reference ${movement.reference} was already used for a different movement`);
  }
  return { transactionId: row.id, balanceAfter: Number(row.balance_after) };
}
