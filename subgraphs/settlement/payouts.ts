import type { EntityManager } from '@mikro-orm/postgresql';
import { transition } from '../../lib/state-machine';
import { enqueue } from '../../lib/outbox';
import { notify } from '../../lib/notify';
import { publishOnCommit } from '../../lib/events';
import { PAYOUT_SETTLE_PATH, type PayoutOutcome, type PayoutSettleRequest } from '../../lib/contracts/seller';
import { Payout } from './entities/payout.entity';
import { PAYOUT_TRANSITIONS } from './states';
import { maskAccountNumber } from './channels';

/** LISTEN/NOTIFY channel of payoutUpdated: `{ factoryId, payoutId }` on every status change. */
export const PAYOUT_UPDATED = 'payout_updated';
export interface PayoutUpdatedEvent {
  factoryId: string;
  payoutId: string;
}

const rupiah = (amount: number) => `Rp ${amount.toLocaleString('id-ID')}`;

/** Xendit accepted the payout: it is on its way (REQUESTED → ACCEPTED), with Xendit's id. */
export function acceptPayout(tx: EntityManager, payoutId: string, xenditPayoutId: string): Promise<Payout | null> {
  return transition(tx, Payout, payoutId, 'ACCEPTED', {
    table: PAYOUT_TRANSITIONS,
    set: { xenditPayoutId, acceptedAt: new Date() },
    effects: published,
  });
}

/**
 * A payout's outcome, as an atomic claim with its consequences in the same transaction: payment books it
 * (outbox: SUCCEEDED → paid out; FAILED, CANCELLED, REVERSED → available again) and the factory's owner is
 * told. Null when the payout's history does not allow it (a repeat, or SUCCEEDED after FAILED).
 */
export async function settlePayout(
  tx: EntityManager,
  payoutId: string,
  to: PayoutOutcome,
  facts: { xenditPayoutId?: string | null; failureCode?: string | null } = {},
): Promise<Payout | null> {
  const set: Partial<Payout> = {};
  if (facts.xenditPayoutId) set.xenditPayoutId = facts.xenditPayoutId;
  if (to === 'FAILED' || to === 'CANCELLED') set.failureCode = facts.failureCode ?? null;
  if (to !== 'REVERSED') set.completedAt = new Date();
  return transition(tx, Payout, payoutId, to, {
    table: PAYOUT_TRANSITIONS,
    set,
    effects: async (effectTx, payout) => {
      await enqueue(effectTx, {
        dedupeKey: `payout-settle:${payout.id}:${to}`,
        service: 'payment',
        path: PAYOUT_SETTLE_PATH,
        body: { payoutId: payout.id, outcome: to } satisfies PayoutSettleRequest,
      });
      await notify(effectTx, {
        dedupeKey: `payout:${payout.id}:${to}`,
        type: to === 'SUCCEEDED' ? 'PAYOUT_SUCCEEDED' : 'PAYOUT_FAILED',
        factoryId: payout.factoryId,
        ...noticeOf(payout, to),
        data: { payoutId: payout.id, amount: payout.amount, status: to, failureCode: payout.failureCode ?? null },
      });
      await published(effectTx, payout);
    },
  });
}

function noticeOf(payout: Payout, to: PayoutOutcome): { title: string; body: string } {
  const what = `${rupiah(payout.amount)} to ${payout.channelCode} ${maskAccountNumber(payout.accountNumber)}`;
  switch (to) {
    case 'SUCCEEDED':
      return { title: 'Payout sent', body: `Your payout of ${what} has arrived.` };
    case 'FAILED':
      return {
        title: 'Payout failed',
        body: `Your payout of ${what} failed (${payout.failureCode ?? 'no reason given'}); the amount is available again.`,
      };
    case 'CANCELLED':
      return {
        title: 'Payout cancelled',
        body: `Your payout of ${what} was cancelled; the amount is available again.`,
      };
    case 'REVERSED':
      return {
        title: 'Payout returned',
        body: `Your payout of ${what} was returned by the bank; the amount is available again.`,
      };
  }
}

function published(tx: EntityManager, payout: Payout): Promise<void> {
  return publishOnCommit(tx, PAYOUT_UPDATED, {
    factoryId: payout.factoryId,
    payoutId: payout.id,
  } satisfies PayoutUpdatedEvent);
}
