import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import { badInput, conflict, isUniqueViolation, notFound } from '../../lib/errors';
import { idSchema, parseInput, rupiah } from '../../lib/validation';
import { isId } from '../../lib/ids';
import type { FactoryBalance, PayoutReserveAnswer, PayoutSettleAnswer } from '../../lib/contracts/seller';
import { PayoutReservation } from './entities/payout-reservation.entity';
import {
  ACCOUNTS,
  factoryBalances,
  type FactoryFigures,
  payoutReservePostings,
  type PayoutOutcome,
  payoutSettlePostings,
  RELEASE_KINDS,
} from './ledger';
import { PAYOUT_RESERVATION_TRANSITIONS } from './states';
import { statesLeadingTo, transition } from '../../lib/state-machine';
import { postLedger } from './effects';

/**
 * A factory's money in payment's ledger (DESIGN.md §5): what settlement reserves for a payout and books as its
 * outcome, and the balance and per-factory figures, all read from ledger rows.
 */

const reserveSchema = z.object({ payoutId: idSchema, factoryId: idSchema, amount: rupiah });
const settleSchema = z.object({
  payoutId: idSchema,
  outcome: z.enum(['SUCCEEDED', 'FAILED', 'CANCELLED', 'REVERSED']),
});

export interface FactoryFiguresRow extends FactoryFigures {
  factoryId: string;
  /** Paid regular orders not yet delivered (the factory_pending account; held escrow is not in the ledger per factory). */
  pendingOrders: number;
  balanced: boolean;
}

/**
 * Every factory's figures (or one factory's), from ledger rows only: an account's liability is its negated
 * balance; paid out is what PAYOUT_SUCCEEDED took from in-payout less what PAYOUT_REVERSED gave back;
 * released − commission is what the release groups (ORDER_DELIVERED, ESCROW_RELEASED) credited to available,
 * and commission is those groups' platform_revenue legs.
 */
export async function factoryFigures(em: EntityManager, factoryId?: string): Promise<FactoryFiguresRow[]> {
  const factoryOf = (column: string) => `substr(${column}, strpos(${column}, ':') + 1)`;
  // One factory's rows by exact account names (the account index), or every factory's.
  const scope = factoryId
    ? {
        legs: 'account in (?)',
        legParams: [
          [
            ACCOUNTS.factoryPending(factoryId),
            ACCOUNTS.factoryAvailable(factoryId),
            ACCOUNTS.factoryInPayout(factoryId),
          ],
        ],
        released: 'released.account = ?',
        releasedParams: [ACCOUNTS.factoryAvailable(factoryId)],
      }
    : {
        legs: `account like 'factory\\_%'`,
        legParams: [],
        released: `released.account like 'factory\\_available:%'`,
        releasedParams: [],
      };
  const [accounts, commissions] = await Promise.all([
    em.execute<Record<string, string>[]>(
      `select ${factoryOf('account')} as factory_id,
              -coalesce(sum(amount) filter (where account like 'factory\\_pending:%'), 0) as pending,
              -coalesce(sum(amount) filter (where account like 'factory\\_available:%'), 0) as available,
              -coalesce(sum(amount) filter (where account like 'factory\\_in\\_payout:%'), 0) as in_payout,
              coalesce(sum(amount) filter (where (account like 'factory\\_in\\_payout:%' and kind = 'PAYOUT_SUCCEEDED')
                                              or (account like 'factory\\_available:%' and kind = 'PAYOUT_REVERSED')), 0) as paid_out,
              -coalesce(sum(amount) filter (where account like 'factory\\_available:%' and kind in (?)), 0) as net_released
         from transaction_ledger
        where ${scope.legs}
        group by 1 order by 1`,
      [RELEASE_KINDS, ...scope.legParams],
    ),
    em.execute<{ factory_id: string; commission: string }[]>(
      `select ${factoryOf('released.account')} as factory_id, -sum(revenue.amount) as commission
         from transaction_ledger released
         join transaction_ledger revenue on revenue.group_id = released.group_id and revenue.account = ?
        where ${scope.released} and released.kind in (?)
        group by 1`,
      [ACCOUNTS.platformRevenue, ...scope.releasedParams, RELEASE_KINDS],
    ),
  ]);
  const commissionOf = new Map(commissions.map((row) => [row.factory_id, Number(row.commission)]));
  return accounts.map((row) => {
    const commission = commissionOf.get(row.factory_id) ?? 0;
    const figures: FactoryFigures = {
      released: Number(row.net_released) + commission,
      commission,
      available: Number(row.available),
      inPayout: Number(row.in_payout),
      paidOut: Number(row.paid_out),
    };
    return {
      factoryId: row.factory_id,
      ...figures,
      pendingOrders: Number(row.pending),
      balanced: factoryBalances(figures) && Number(row.pending) >= 0,
    };
  });
}

export class FactoryMoneyService {
  constructor(private readonly em: EntityManager) {}

  /**
   * POST PAYOUT_RESERVE_PATH — moves `amount` from the factory's available money to in-payout. Reservations of
   * one factory queue on a transaction-scoped advisory lock, so each reads the available balance its
   * predecessor left and none can overdraw it. A repeat (same payout id, factory and amount) answers what the
   * first answered; the same id with another factory or amount is a CONFLICT.
   */
  async reservePayout(input: unknown): Promise<PayoutReserveAnswer> {
    const { payoutId, factoryId, amount } = parseInput(reserveSchema, input);
    try {
      return await this.em.fork().transactional(async (tx) => {
        await tx.execute('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`factory-available:${factoryId}`]);
        const earlier = await tx.findOne(PayoutReservation, { id: payoutId });
        if (earlier) return repeatedReservation(earlier, factoryId, amount);
        const available = await liabilityOf(tx, ACCOUNTS.factoryAvailable(factoryId));
        if (amount > available)
          throw badInput(`amount: ${amount} is more than the factory's available ${available}`, { available });
        tx.create(PayoutReservation, { id: payoutId, factoryId, amount, availableAfter: available - amount });
        postLedger(tx, 'PAYOUT_RESERVED', payoutReservePostings(factoryId, amount), { payoutId });
        return { payoutId, available: available - amount };
      });
    } catch (error) {
      // The same payout id reserved concurrently for another factory (whose lock this one did not queue on).
      if (!isUniqueViolation(error)) throw error;
      const earlier = await this.em.fork().findOneOrFail(PayoutReservation, { id: payoutId });
      return repeatedReservation(earlier, factoryId, amount);
    }
  }

  /**
   * POST PAYOUT_SETTLE_PATH — books a reserved payout's outcome with one atomic claim of the reservation and
   * its ledger groups. The claim tries each state the outcome may come from in turn, so it knows which
   * movements are due: REVERSED of a payout still RESERVED (its SUCCEEDED not delivered yet) books paid out
   * and then reversed. A repeat of an outcome already booked changes nothing (SUCCEEDED stays true of a
   * payout later REVERSED); any other move its history does not allow is a CONFLICT.
   */
  async settlePayout(input: unknown): Promise<PayoutSettleAnswer> {
    const { payoutId, outcome } = parseInput(settleSchema, input);
    return this.em.fork().transactional(async (tx) => {
      for (const from of statesLeadingTo(PAYOUT_RESERVATION_TRANSITIONS, outcome)) {
        const reservation = await transition(tx, PayoutReservation, payoutId, outcome, {
          table: PAYOUT_RESERVATION_TRANSITIONS,
          from: [from],
        });
        if (!reservation) continue;
        const steps: PayoutOutcome[] =
          from === 'RESERVED' && outcome === 'REVERSED' ? ['SUCCEEDED', outcome] : [outcome];
        for (const step of steps) {
          const { kind, postings } = payoutSettlePostings(reservation.factoryId, reservation.amount, step);
          postLedger(tx, kind, postings, { payoutId });
        }
        return { payoutId, outcome };
      }
      const current = await tx.findOne(PayoutReservation, { id: payoutId });
      if (!current) throw notFound('No payout was reserved with this id');
      const booked = current.status === outcome || (outcome === 'SUCCEEDED' && current.status === 'REVERSED');
      if (!booked) throw conflict(`The payout is ${current.status}; it cannot become ${outcome}`);
      return { payoutId, outcome };
    });
  }

  /** GET factoryBalancePath(factoryId) — zeros for a factory the ledger has never seen. */
  async balance(factoryId: string): Promise<FactoryBalance> {
    if (!isId(factoryId)) throw badInput('factoryId: is not a valid id');
    const [[figures], held] = await Promise.all([
      factoryFigures(this.em, factoryId),
      this.em.execute<{ total: string }[]>(
        `select coalesce(sum(amount), 0) as total from payments
          where factory_id = ? and is_in_escrow and status = 'PAID' and escrow_status = 'HELD'`,
        [factoryId],
      ),
    ]);
    return {
      factoryId,
      pending: Number(held[0]?.total ?? 0) + (figures?.pendingOrders ?? 0),
      available: figures?.available ?? 0,
      inPayout: figures?.inPayout ?? 0,
      paidOut: figures?.paidOut ?? 0,
      commission: figures?.commission ?? 0,
      released: figures?.released ?? 0,
      currency: 'IDR',
    };
  }
}

function repeatedReservation(earlier: PayoutReservation, factoryId: string, amount: number): PayoutReserveAnswer {
  if (earlier.factoryId !== factoryId || earlier.amount !== amount)
    throw conflict('This payout id was reserved for another factory or amount');
  return { payoutId: earlier.id, available: earlier.availableAfter };
}

/** What a liability account owes (its negated balance). */
async function liabilityOf(tx: EntityManager, account: string): Promise<number> {
  const [row] = await tx.execute<{ total: string }[]>(
    'select coalesce(sum(amount), 0) as total from transaction_ledger where account = ?',
    [account],
  );
  return 0 - Number(row?.total ?? 0);
}
