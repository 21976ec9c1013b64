import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../../lib/config';
import type { InternalClient } from '../../lib/internal-client';
import type { Logger } from '../../lib/logger';
import { AppError, badInput, conflict, forbidden, isUniqueViolation } from '../../lib/errors';
import { idSchema, nonEmpty, parseInput, rupiah } from '../../lib/validation';
import { paginate, type Connection, type PageArgs } from '../../lib/pagination';
import {
  factoryBalancePath,
  factoryPath,
  PAYOUT_RESERVE_PATH,
  type FactoryBalance,
  type FactorySnapshot,
  type PayoutReserveAnswer,
  type PayoutReserveRequest,
} from '../../lib/contracts/seller';
import { PayoutAccount } from './entities/payout-account.entity';
import { Payout } from './entities/payout.entity';
import { PAYOUT_CHANNEL_CODES } from './channels';
import { acceptPayout, settlePayout } from './payouts';
import { type PayoutGateway, PayoutRefused, type RemotePayout } from './xendit';

const payoutAccountSchema = z.object({
  factoryId: idSchema,
  channelCode: z
    .string()
    .trim()
    .toUpperCase()
    .refine((code) => (PAYOUT_CHANNEL_CODES as readonly string[]).includes(code), {
      message: `must be one of ${PAYOUT_CHANNEL_CODES.join(', ')}`,
    }),
  // Bank account numbers run 10–16 digits in Indonesia, e-wallets are phone numbers (08…, up to 15).
  accountNumber: z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be digits only')
    .min(6, 'must be at least 6 digits')
    .max(20, 'must be at most 20 digits'),
  accountHolderName: nonEmpty(100),
});

const payoutRequestSchema = z.object({
  factoryId: idSchema,
  amount: rupiah,
  idempotencyKey: z.string().trim().min(1, 'must not be empty').max(200).nullish(),
});

export interface SettlementDeps {
  client: InternalClient;
  config: Config;
  gateway: PayoutGateway;
  logger?: Logger;
}

/**
 * A factory's payout account, balance and payouts. A payout goes: recorded REQUESTED (invisible) → its money
 * reserved at payment (per payout id; a refusal deletes it) → visible → sent to Xendit with the payout id as
 * idempotency key → ACCEPTED. Every step is idempotent, so a payout left REQUESTED by a crash anywhere is
 * resumed (resumeRequested) and never sent twice; the outcome arrives by callback or reconciliation.
 */
export class SettlementService {
  constructor(
    private readonly em: EntityManager,
    private readonly deps: SettlementDeps,
  ) {}

  payoutAccountOf(factoryId: string): Promise<PayoutAccount | null> {
    return this.em.findOne(PayoutAccount, { factoryId });
  }

  /** Sets or replaces the factory's payout account (the caller may manage the factory). */
  async setPayoutAccount(callerId: string, input: unknown): Promise<PayoutAccount> {
    const account = parseInput(payoutAccountSchema, input);
    const rows = await this.em.execute(
      `insert into payout_accounts (factory_id, channel_code, account_number, account_holder_name, updated_by)
       values (?, ?, ?, ?, ?)
       on conflict (factory_id) do update set channel_code = excluded.channel_code, account_number = excluded.account_number,
         account_holder_name = excluded.account_holder_name, updated_by = excluded.updated_by, updated_at = now()
       returning *`,
      [account.factoryId, account.channelCode, account.accountNumber, account.accountHolderName, callerId],
    );
    return this.em.map(PayoutAccount, rows[0]);
  }

  /** The factory's money, from payment's ledger. */
  balanceOf(factoryId: string): Promise<FactoryBalance> {
    return this.deps.client.get<FactoryBalance>('payment', factoryBalancePath(factoryId));
  }

  /** Payouts newest first; one whose reservation is not settled yet is not shown. */
  payouts(factoryId: string, page: PageArgs): Promise<Connection<Payout>> {
    return paginate(this.em, Payout, { factoryId, reservedAt: { $ne: null } }, page, { newestFirst: true });
  }

  /**
   * Sends available money to the factory's payout account (the caller may manage the factory). The same
   * idempotency key for the factory answers the same payout; nothing is stored or moved on a refusal.
   */
  async requestPayout(callerId: string, input: unknown): Promise<Payout> {
    const { factoryId, amount, idempotencyKey } = parseInput(payoutRequestSchema, input);
    if (idempotencyKey) {
      const earlier = await this.em.findOne(Payout, { factoryId, idempotencyKey });
      if (earlier) return this.replay(earlier, amount);
    }
    const minimum = this.deps.config.MIN_PAYOUT_AMOUNT;
    if (amount < minimum)
      throw badInput(`amount: the smallest payout is Rp ${minimum.toLocaleString('id-ID')}`, { fields: ['amount'] });
    const factory = await this.deps.client.get<FactorySnapshot>('factory', factoryPath(factoryId));
    if (!factory.verified) throw forbidden('Only a verified factory can be paid out; an admin verifies factories');
    const account = await this.payoutAccountOf(factoryId);
    if (!account) throw badInput('Set a payout account for this factory first', { fields: ['factoryId'] });

    const payout = this.em.create(Payout, {
      factoryId,
      idempotencyKey: idempotencyKey ?? null,
      requestedBy: callerId,
      amount,
      channelCode: account.channelCode,
      accountNumber: account.accountNumber,
      accountHolderName: account.accountHolderName,
    });
    try {
      await this.em.persistAndFlush(payout);
    } catch (error) {
      // A concurrent request with the same key was first: this one is its replay.
      if (!idempotencyKey || !isUniqueViolation(error)) throw error;
      this.em.clear();
      return this.replay(await this.em.findOneOrFail(Payout, { factoryId, idempotencyKey }), amount);
    }
    return this.advance(payout);
  }

  private replay(earlier: Payout, amount: number): Promise<Payout> {
    if (earlier.amount !== amount)
      throw conflict(
        `This idempotencyKey was used for a payout of Rp ${earlier.amount.toLocaleString('id-ID')}; use a new key`,
      );
    // The first attempt may have died before its reservation or its Xendit call: finishing it is idempotent.
    return earlier.status === 'REQUESTED' ? this.advance(earlier) : Promise.resolve(earlier);
  }

  /**
   * Takes a REQUESTED payout as far as it goes: reserved, then sent to Xendit and ACCEPTED (or FAILED when
   * Xendit refuses it). Answers the payout as it stands; one left REQUESTED (Xendit or payment unreachable)
   * is resumed later. Safe to run twice at once: the reservation and the Xendit create are idempotent per
   * payout id, and ACCEPTED is a claim.
   */
  async advance(payout: Payout): Promise<Payout> {
    if (!payout.reservedAt) await this.reserve(payout);
    const remote = await this.send(payout);
    if (remote) await this.em.fork().transactional((tx) => acceptPayout(tx, payout.id, remote.id));
    return this.em.fork().findOneOrFail(Payout, { id: payout.id });
  }

  /**
   * Xendit's payout, or null when the call failed without an answer to act on (timeout, 5xx: resumed later with
   * the same key). A refusal makes the payout FAILED with Xendit's error code, its money returned.
   */
  private async send(payout: Payout): Promise<RemotePayout | null> {
    try {
      return await this.deps.gateway.createPayout(payout);
    } catch (error) {
      if (!(error instanceof PayoutRefused)) {
        this.deps.logger?.warn(
          { err: error, payoutId: payout.id },
          'payout not sent to Xendit yet; it will be resumed',
        );
        return null;
      }
      this.deps.logger?.error(
        { payoutId: payout.id, status: error.status, errorCode: error.errorCode, message: error.message },
        'Xendit refused a payout; its money returns to available',
      );
      await this.em
        .fork()
        .transactional((tx) => settlePayout(tx, payout.id, 'FAILED', { failureCode: error.errorCode }));
      return null;
    }
  }

  /** Payment moves the amount from available to in-payout; a refusal (not enough available) deletes the payout. */
  private async reserve(payout: Payout): Promise<void> {
    try {
      await this.deps.client.post<PayoutReserveAnswer>('payment', PAYOUT_RESERVE_PATH, {
        payoutId: payout.id,
        factoryId: payout.factoryId,
        amount: payout.amount,
      } satisfies PayoutReserveRequest);
    } catch (error) {
      if (error instanceof AppError && error.code === 'BAD_USER_INPUT') {
        await this.em.fork().nativeDelete(Payout, { id: payout.id, status: 'REQUESTED', reservedAt: null });
        throw badInput(`amount: ${error.message}`, { fields: ['amount'] });
      }
      throw error;
    }
    await this.em.fork().nativeUpdate(Payout, { id: payout.id, reservedAt: null }, { reservedAt: new Date() });
  }

  /**
   * Resumes payouts left REQUESTED (a crash, Xendit or payment unreachable) once `settleMs` after their
   * creation has passed, so a request still being served is left to finish; each resumption waits longer
   * (1 s doubling, at most 5 min). Answers how many were taken.
   */
  async resumeRequested(settleMs: number): Promise<number> {
    const rows = await this.em.execute(
      `update payouts set attempts = attempts + 1,
              next_attempt_at = now() + least(300000, 1000 * power(2, least(attempts, 20))) * interval '1 millisecond'
        where id in (select id from payouts
                      where status = 'REQUESTED' and next_attempt_at <= now() and created_at < now() - ? * interval '1 millisecond'
                      order by next_attempt_at limit 20 for update skip locked)
        returning *`,
      [settleMs],
    );
    for (const row of rows) {
      const payout = this.em.map(Payout, row);
      await this.advance(payout).catch((error: unknown) =>
        this.deps.logger?.warn({ err: error, payoutId: payout.id }, 'resuming a requested payout failed'),
      );
    }
    return rows.length;
  }
}
