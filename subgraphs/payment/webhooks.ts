import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import { parseInput } from '../../lib/validation';
import { conflict } from '../../lib/errors';
import { isId, newId } from '../../lib/ids';
import type { Logger } from '../../lib/logger';
import { linkToTrace } from '../../lib/telemetry';
import { Payment } from './entities/payment.entity';
import { Refund } from './entities/refund.entity';
import { PAYMENT_TRANSITIONS, REFUND_TRANSITIONS } from './states';
import { transition } from '../../lib/state-machine';
import { capturePostings, lateCapturePostings, refundSettlePostings } from './ledger';
import { notifyBuyer, postLedger, submitRefundAfterCommit, tellOwner } from './effects';
import { LATE_PAYMENT_REASON } from './service';
import type { PaymentGateway } from './xendit';

/** Invoice callback fields we act on; the rest is stored as received. */
const invoiceCallbackSchema = z
  .object({
    id: z.string().min(1).max(100),
    external_id: z.string().max(255).nullish(),
    status: z.string().min(1).max(40),
    amount: z.number().nullish(),
    paid_amount: z.number().nullish(),
    currency: z.string().max(10).nullish(),
  })
  .passthrough();

const refundCallbackSchema = z
  .object({
    event: z.string().max(60),
    data: z
      .object({
        id: z.string().min(1).max(100),
        status: z.string().min(1).max(40),
        reference_id: z.string().max(255).nullish(),
        failure_code: z.string().max(100).nullish(),
      })
      .passthrough(),
  })
  .passthrough();

export type WebhookOutcome = 'APPLIED' | 'IGNORED' | 'UNMATCHED' | 'REJECTED' | 'DUPLICATE';

/** An outcome, and for REJECTED why (the caller is answered 409 with it). */
interface Verdict {
  outcome: WebhookOutcome;
  refusal?: string;
}

/**
 * Xendit callbacks (DESIGN.md §3 "Webhook"). Each event is recorded in `webhook_events` under its
 * dedupe key in the same transaction that applies it; only a RECEIVED (in progress) or APPLIED row holds
 * the key (a partial unique index), so concurrent deliveries queue on it, the first applies and every
 * later one is a DUPLICATE that changes nothing. A delivery that changed nothing (REJECTED, IGNORED,
 * UNMATCHED) is kept for the record but leaves the key free: the genuine delivery after a forged or
 * garbled one still applies. The state machine guards out-of-order events (EXPIRED after PAID is ignored).
 *
 * A PAID callback whose amount or currency differs from the invoice is REJECTED and answered 409: it
 * will never become right, but a 2xx would tell Xendit it was handled and hide a money discrepancy.
 * Non-2xx keeps it failed on Xendit's dashboard and retried (each retry is refused again and logged at
 * error) until an operator has looked.
 */
export class XenditWebhooks {
  constructor(
    private readonly em: EntityManager,
    private readonly logger?: Logger,
  ) {}

  async invoice(body: unknown): Promise<{ outcome: WebhookOutcome }> {
    const event = parseInput(invoiceCallbackSchema, body);
    const { outcome, refusal } = await this.em.transactional(async (tx): Promise<Verdict> => {
      const eventId = await recordEvent(
        tx,
        `invoice:${event.id}:${event.status}`,
        'invoice',
        event.id,
        event.status,
        event,
      );
      if (!eventId) return { outcome: 'DUPLICATE' };
      const payment = await findInvoicePayment(tx, event.id, event.external_id);
      linkToTrace(payment?.traceContext);
      const verdict: Verdict = payment ? await this.applyInvoice(tx, payment, event) : { outcome: 'UNMATCHED' };
      await settleEvent(tx, eventId, verdict.outcome, payment?.id ?? null);
      return verdict;
    });
    if (outcome === 'REJECTED') throw conflict(`Callback not applied: ${refusal}`);
    return { outcome };
  }

  refund(body: unknown): Promise<{ outcome: WebhookOutcome }> {
    const { data } = parseInput(refundCallbackSchema, body);
    return this.em.transactional(async (tx) => {
      const eventId = await recordEvent(
        tx,
        `refund:${data.id}:${data.status}`,
        'refund',
        data.id,
        data.status,
        body as Record<string, unknown>,
      );
      if (!eventId) return { outcome: 'DUPLICATE' as const };
      const refund = await tx.findOne(
        Refund,
        isId(data.reference_id)
          ? { $or: [{ id: data.reference_id }, { xenditRefundId: data.id }] }
          : { xenditRefundId: data.id },
      );
      const outcome = refund ? await this.applyRefund(tx, refund, data) : 'UNMATCHED';
      await settleEvent(tx, eventId, outcome, refund?.paymentId ?? null);
      return { outcome };
    });
  }

  /**
   * Xendit retries a callback for a day and then gives up; a refund whose callback never came would stay
   * PENDING for ever, with the buyer never told. Refunds sent more than `graceMs` ago and still PENDING are
   * looked up at Xendit, and a final answer goes through `refund()` like the callback it stands for: under
   * the same dedupe key, so the real callback arriving later is a DUPLICATE and nothing happens twice.
   */
  async reconcileOverdueRefunds(gateway: PaymentGateway, graceMs: number): Promise<number> {
    const overdue = await this.em
      .fork()
      .find(
        Refund,
        { status: 'PENDING', xenditRefundId: { $ne: null }, createdAt: { $lt: new Date(Date.now() - graceMs) } },
        { orderBy: { createdAt: 'asc' }, limit: 50 },
      );
    let settled = 0;
    for (const refund of overdue) {
      // One refund Xendit cannot answer for must not hold up the ones behind it.
      const remote = await gateway.getRefund(refund.xenditRefundId!).catch((error: unknown) => {
        this.logger?.warn({ err: error, refundId: refund.id }, 'could not look up an overdue refund at Xendit');
        return null;
      });
      if (remote?.status !== 'SUCCEEDED' && remote?.status !== 'FAILED') continue;
      const event = `refund.${remote.status.toLowerCase()}`;
      const data = {
        id: remote.id,
        status: remote.status,
        reference_id: remote.referenceId,
        failure_code: remote.failureCode,
      };
      const { outcome } = await this.refund({ event, data, reconciled: true });
      this.logger?.warn(
        { refundId: refund.id, status: remote.status, outcome },
        'refund settled from Xendit without its callback',
      );
      if (outcome === 'APPLIED') settled += 1;
    }
    return settled;
  }

  private async applyInvoice(
    tx: EntityManager,
    payment: Payment,
    event: z.infer<typeof invoiceCallbackSchema>,
  ): Promise<Verdict> {
    if (event.status === 'PAID' || event.status === 'SETTLED') {
      const refusal = moneyMismatch(payment, event);
      if (refusal) {
        this.logger?.error(
          { paymentId: payment.id, invoiceId: event.id, status: event.status, refusal },
          'invoice callback refused; not applied',
        );
        return { outcome: 'REJECTED', refusal };
      }
      // Escrow money is held for its session; a regular order's waits in the factory's pending money.
      const claimed = await transition(tx, Payment, payment.id, 'PAID', {
        table: PAYMENT_TRANSITIONS,
        set: payment.isInEscrow
          ? { paidAt: new Date(), escrowStatus: 'HELD', earningsStatus: null }
          : { paidAt: new Date(), escrowStatus: null, earningsStatus: 'PENDING' },
      });
      if (!claimed) return { outcome: await this.applyLatePayment(tx, payment.id) };
      const { kind, postings } = capturePostings(claimed);
      postLedger(tx, kind, postings, { paymentId: claimed.id });
      await tellOwner(tx, claimed, 'PAID');
      await notifyBuyer(tx, 'PAYMENT_SUCCEEDED', claimed);
      return { outcome: 'APPLIED' };
    }
    if (event.status === 'EXPIRED') {
      const expired = await transition(tx, Payment, payment.id, 'EXPIRED', { table: PAYMENT_TRANSITIONS });
      if (!expired) return { outcome: 'IGNORED' };
      await tellOwner(tx, expired, 'EXPIRED');
      await notifyBuyer(tx, 'PAYMENT_FAILED', expired);
      return { outcome: 'APPLIED' };
    }
    this.logger?.warn(
      { paymentId: payment.id, invoiceId: event.id, status: event.status },
      'invoice callback with a status we do not act on',
    );
    return { outcome: 'IGNORED' };
  }

  /**
   * Money for a payment that had already given up (EXPIRED or FAILED: the order was cancelled or the
   * participant expired, stock and place released). It is recorded straight into buyer_refunds and
   * refunded to how the buyer paid, through the outbox once this commits; the owner is not told, so
   * nothing is revived. The LATE_PAID claim makes it happen once, however often the callback comes.
   */
  private async applyLatePayment(tx: EntityManager, paymentId: string): Promise<WebhookOutcome> {
    const late = await transition(tx, Payment, paymentId, 'LATE_PAID', {
      table: PAYMENT_TRANSITIONS,
      set: { paidAt: new Date() },
    });
    if (!late) return 'IGNORED';
    const refund = tx.create(Refund, {
      paymentId: late.id,
      userId: late.userId,
      amount: late.amount,
      destination: 'ORIGINAL_METHOD',
      reason: LATE_PAYMENT_REASON,
    });
    postLedger(tx, 'LATE_PAYMENT_CAPTURED', lateCapturePostings(late.amount), {
      paymentId: late.id,
      refundId: refund.id,
    });
    await submitRefundAfterCommit(tx, refund);
    await notifyBuyer(tx, 'LATE_PAYMENT_REFUNDING', late, { refundId: refund.id });
    this.logger?.warn(
      { paymentId: late.id, refundId: refund.id, amount: late.amount },
      'paid after the payment expired; refunding it',
    );
    return 'APPLIED';
  }

  private async applyRefund(
    tx: EntityManager,
    refund: Refund,
    data: z.infer<typeof refundCallbackSchema>['data'],
  ): Promise<WebhookOutcome> {
    const to = data.status === 'SUCCEEDED' ? 'SUCCEEDED' : data.status === 'FAILED' ? 'FAILED' : null;
    if (!to) return 'IGNORED';
    const completed = await transition(tx, Refund, refund.id, to, {
      table: REFUND_TRANSITIONS,
      // The callback names Xendit's refund id, the same one the submit recorded if it got there first.
      set: {
        completedAt: new Date(),
        failureCode: data.failure_code ?? null,
        xenditRefundId: refund.xenditRefundId ?? data.id,
      },
    });
    if (!completed) return 'IGNORED';
    if (to === 'FAILED') {
      // The reserved amount stays in buyer_refunds until an operator decides; nothing else moves.
      this.logger?.error({ refundId: refund.id, failureCode: data.failure_code }, 'Xendit refund failed');
      return 'APPLIED';
    }
    const [before] = await tx.execute<{ status: string }[]>('select status from payments where id = ? for update', [
      refund.paymentId,
    ]);
    const payment = await transition(tx, Payment, refund.paymentId, 'REFUNDED', { table: PAYMENT_TRANSITIONS });
    if (!payment)
      throw new Error(`Refund ${refund.id} succeeded but payment ${refund.paymentId} is not PAID or LATE_PAID`);
    postLedger(tx, 'REFUND_SETTLED', refundSettlePostings(refund.amount), {
      paymentId: payment.id,
      refundId: refund.id,
    });
    // The owner of a late payment never heard it was paid: there is nothing to undo there.
    if (before?.status !== 'LATE_PAID') await tellOwner(tx, payment, 'REFUNDED');
    await notifyBuyer(tx, 'REFUND_COMPLETED', payment, { refundId: refund.id });
    return 'APPLIED';
  }
}

/**
 * Why a PAID callback cannot be the invoice's money, or null. Xendit invoices carry their currency, so a
 * callback without one is refused too.
 */
function moneyMismatch(payment: Payment, event: z.infer<typeof invoiceCallbackSchema>): string | null {
  if (event.currency !== payment.currency)
    return `currency ${event.currency ?? '(none)'} is not the invoice's ${payment.currency}`;
  const paid = event.paid_amount ?? event.amount;
  if (paid !== payment.amount) return `paid amount ${paid ?? '(none)'} is not the invoice's ${payment.amount}`;
  return null;
}

/**
 * The event's row id, or null when an applied (or in-progress) delivery holds the key: a replay, or a
 * concurrent twin, whose transaction this insert waits for. The conflict target names the partial
 * unique index of migration Migration20261203131500.
 */
async function recordEvent(
  tx: EntityManager,
  dedupeKey: string,
  source: 'invoice' | 'refund',
  externalId: string,
  status: string,
  payload: Record<string, unknown>,
): Promise<string | null> {
  const rows = await tx.execute(
    `insert into webhook_events (id, dedupe_key, source, external_id, status, outcome, payload, received_at)
     values (?, ?, ?, ?, ?, 'RECEIVED', ?, now())
     on conflict (dedupe_key) where outcome in ('RECEIVED', 'APPLIED') do nothing returning id`,
    [newId(), dedupeKey, source, externalId, status, JSON.stringify(payload)],
  );
  return rows[0]?.id ?? null;
}

async function settleEvent(
  tx: EntityManager,
  eventId: string,
  outcome: WebhookOutcome,
  paymentId: string | null,
): Promise<void> {
  await tx.execute('update webhook_events set outcome = ?, payment_id = ? where id = ?', [outcome, paymentId, eventId]);
}

/** Our payment id is the invoice's external id; the stored invoice id is the fallback. */
async function findInvoicePayment(
  tx: EntityManager,
  invoiceId: string,
  externalId: string | null | undefined,
): Promise<Payment | null> {
  if (isId(externalId)) {
    const payment = await tx.findOne(Payment, { id: externalId });
    if (payment) return payment;
  }
  return tx.findOne(Payment, { invoiceId });
}
