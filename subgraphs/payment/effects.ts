import type { EntityManager } from '@mikro-orm/postgresql';
import { enqueue } from '../../lib/outbox';
import { notify } from '../../lib/notify';
import type { NotificationType } from '../../lib/contracts/notification';
import { newId } from '../../lib/ids';
import type { Payment } from './entities/payment.entity';
import type { Refund } from './entities/refund.entity';
import { LedgerEntry } from './entities/ledger-entry.entity';
import { isBalanced, type LedgerKind, type Posting } from './ledger';

/**
 * The side effects of a payment transition, written in its transaction: ledger legs, and outbox
 * messages that tell the owner (order or group-buying), notification and wallet after it commits.
 */

/** One balanced group of legs, naming the payment (and refund) or the payout that moved the money. */
export function postLedger(
  tx: EntityManager,
  kind: LedgerKind,
  postings: Posting[],
  refs: { paymentId: string; refundId?: string } | { payoutId: string },
): void {
  if (!isBalanced(postings)) throw new Error(`Unbalanced ${kind} posting`);
  const groupId = newId();
  for (const posting of postings) {
    tx.create(LedgerEntry, {
      groupId,
      kind,
      account: posting.account,
      amount: posting.amount,
      paymentId: 'paymentId' in refs ? refs.paymentId : null,
      refundId: 'refundId' in refs ? (refs.refundId ?? null) : null,
      payoutId: 'payoutId' in refs ? refs.payoutId : null,
    });
  }
}

type OwnerStatus = 'PAID' | 'EXPIRED' | 'FAILED' | 'REFUNDED';

/**
 * Order for regular payments, group-buying for escrow payments; both idempotent per payment + status. An
 * escrow payment refunded after its bulk order was made (refund-order) is the order's news too.
 */
export async function tellOwner(tx: EntityManager, payment: Payment, status: OwnerStatus): Promise<void> {
  if (payment.isInEscrow && payment.participantId) {
    await enqueue(tx, {
      dedupeKey: `participant-status:${payment.id}:${status}`,
      service: 'group-buying',
      path: '/api/group-buying/participants/payment-status',
      body: { participantId: payment.participantId, sessionId: payment.sessionId, paymentId: payment.id, status },
    });
  }
  if (payment.orderId && (!payment.isInEscrow || status === 'REFUNDED')) {
    await enqueue(tx, {
      dedupeKey: `order-status:${payment.id}:${status}`,
      service: 'order',
      path: '/api/orders/payment-status',
      body: { orderId: payment.orderId, paymentId: payment.id, status },
    });
  }
}

/** What the buyer is told, at most once each per payment; a late payment's notice is a PAYMENT_FAILED notification. */
export type BuyerNotice =
  | Extract<NotificationType, 'PAYMENT_SUCCEEDED' | 'PAYMENT_FAILED' | 'REFUND_COMPLETED' | 'ESCROW_RELEASED'>
  | 'LATE_PAYMENT_REFUNDING';

const rupiah = (amount: number) => `Rp${amount.toLocaleString('id-ID')}`;

function message(notice: BuyerNotice, payment: Payment): { title: string; body: string } {
  const what = `${rupiah(payment.amount)} for ${payment.description}`;
  switch (notice) {
    case 'PAYMENT_SUCCEEDED':
      return { title: 'Payment received', body: `We received your payment of ${what}.` };
    case 'PAYMENT_FAILED':
      return { title: 'Payment not completed', body: `Your invoice of ${what} expired before it was paid.` };
    case 'REFUND_COMPLETED':
      return { title: 'Refund completed', body: `Your payment of ${what} was refunded.` };
    case 'ESCROW_RELEASED':
      return { title: 'Payment released to the factory', body: `Your payment of ${what} was released to the factory.` };
    case 'LATE_PAYMENT_REFUNDING':
      return {
        title: 'Payment arrived too late',
        body: `Your payment of ${what} arrived after its invoice had expired, so nothing was bought with it. We are refunding it to the method you paid with.`,
      };
  }
}

/** One notification per payment and notice (the dedupe key makes retries and replays harmless). */
export async function notifyBuyer(
  tx: EntityManager,
  notice: BuyerNotice,
  payment: Payment,
  extra: { refundId?: string } = {},
): Promise<void> {
  await notify(tx, {
    dedupeKey: `payment:${payment.id}:${notice}`,
    userId: payment.userId,
    type: notice === 'LATE_PAYMENT_REFUNDING' ? 'PAYMENT_FAILED' : notice,
    ...message(notice, payment),
    data: { paymentId: payment.id, orderId: payment.orderId ?? null, sessionId: payment.sessionId ?? null, ...extra },
  });
}

export const WALLET_CREDIT_PATH = '/api/wallets/credit';

/**
 * The wallet credit of a WALLET refund, idempotent at the wallet per refund id. The refund completes when
 * the outbox records its delivery (service.ts `completeWalletRefund`), never before.
 */
export async function creditWallet(tx: EntityManager, refund: Refund, payment: Payment): Promise<void> {
  await enqueue(tx, {
    dedupeKey: `wallet-credit:${refund.id}`,
    service: 'wallet',
    path: WALLET_CREDIT_PATH,
    // The wallet refuses a description over 500 characters; a payment's own may be that long.
    body: {
      userId: refund.userId,
      amount: refund.amount,
      reference: refund.id,
      description: `Refund of ${payment.description}`.slice(0, 500),
    },
  });
}

/**
 * Sends an ORIGINAL_METHOD refund to Xendit once this transaction has committed: payment asks itself
 * through the outbox, so a crash or a Xendit outage only delays it (the refund id is the idempotency key).
 */
export async function submitRefundAfterCommit(tx: EntityManager, refund: Refund): Promise<void> {
  await enqueue(tx, {
    dedupeKey: `refund-submit:${refund.id}`,
    service: 'payment',
    path: '/api/payments/refunds/submit',
    body: { refundId: refund.id },
  });
}
