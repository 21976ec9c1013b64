import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import { parseInput } from '../../lib/validation';
import { isId, newId } from '../../lib/ids';
import type { Logger } from '../../lib/logger';
import { Payment } from './entities/payment.entity';
import { Refund } from './entities/refund.entity';
import { REFUND_TRANSITIONS, sourcesOf } from './states';
import { capturePostings, refundSettlePostings } from './ledger';
import { notifyBuyer, postLedger, tellOwner } from './effects';
import { claimPayment } from './service';
import type { PaymentGateway } from './xendit';

/** Invoice callback fields we act on; the rest is stored as received. */
const invoiceCallbackSchema = z
  .object({
    id: z.string().min(1).max(100),
    external_id: z.string().max(255).nullish(),
    status: z.string().min(1).max(40),
    amount: z.number().nullish(),
    paid_amount: z.number().nullish(),
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

/**
 * Xendit callbacks (DESIGN.md §3 "Webhook"). Each event is recorded in `webhook_events` under its
 * dedupe key by `INSERT … ON CONFLICT DO NOTHING` in the same transaction that applies it: concurrent
 * deliveries queue on that key, the first applies, every later one sees the key taken and changes
 * nothing. The state machine guards out-of-order events (EXPIRED after PAID is ignored).
 */
export class XenditWebhooks {
  constructor(private readonly em: EntityManager, private readonly logger?: Logger) {}

  invoice(body: unknown): Promise<{ outcome: WebhookOutcome }> {
    const event = parseInput(invoiceCallbackSchema, body);
    return this.em.transactional(async (tx) => {
      const eventId = await recordEvent(tx, `invoice:${event.id}:${event.status}`, 'invoice', event.id, event.status, event);
      if (!eventId) return { outcome: 'DUPLICATE' as const };
      const payment = await findInvoicePayment(tx, event.id, event.external_id);
      const outcome = payment ? await this.applyInvoice(tx, payment, event) : 'UNMATCHED';
      await settleEvent(tx, eventId, outcome, payment?.id ?? null);
      return { outcome };
    });
  }

  refund(body: unknown): Promise<{ outcome: WebhookOutcome }> {
    const { data } = parseInput(refundCallbackSchema, body);
    return this.em.transactional(async (tx) => {
      const eventId = await recordEvent(tx, `refund:${data.id}:${data.status}`, 'refund', data.id, data.status, body as Record<string, unknown>);
      if (!eventId) return { outcome: 'DUPLICATE' as const };
      const refund = await tx.findOne(
        Refund,
        isId(data.reference_id) ? { $or: [{ id: data.reference_id }, { xenditRefundId: data.id }] } : { xenditRefundId: data.id },
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
    const overdue = await this.em.fork().find(
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
      const data = { id: remote.id, status: remote.status, reference_id: remote.referenceId, failure_code: remote.failureCode };
      const { outcome } = await this.refund({ event, data, reconciled: true });
      this.logger?.warn({ refundId: refund.id, status: remote.status, outcome }, 'refund settled from Xendit without its callback');
      if (outcome === 'APPLIED') settled += 1;
    }
    return settled;
  }

  private async applyInvoice(tx: EntityManager, payment: Payment, event: z.infer<typeof invoiceCallbackSchema>): Promise<WebhookOutcome> {
    if (event.status === 'PAID' || event.status === 'SETTLED') {
      const paid = event.paid_amount ?? event.amount;
      if (paid !== payment.amount) {
        this.logger?.error({ paymentId: payment.id, paid, expected: payment.amount }, 'PAID callback with a different amount; not applied');
        return 'REJECTED';
      }
      const claimed = await claimPayment(
        tx,
        payment.id,
        'PAID',
        `, paid_at = now(), escrow_status = case when is_in_escrow then 'HELD' else null end`,
      );
      if (!claimed) return 'IGNORED';
      const { kind, postings } = capturePostings(claimed);
      postLedger(tx, kind, postings, { paymentId: claimed.id });
      await tellOwner(tx, claimed, 'PAID');
      await notifyBuyer(tx, 'PAYMENT_SUCCEEDED', claimed);
      return 'APPLIED';
    }
    if (event.status === 'EXPIRED') {
      const expired = await claimPayment(tx, payment.id, 'EXPIRED');
      if (!expired) return 'IGNORED';
      await tellOwner(tx, expired, 'EXPIRED');
      await notifyBuyer(tx, 'PAYMENT_FAILED', expired);
      return 'APPLIED';
    }
    return 'IGNORED';
  }

  private async applyRefund(tx: EntityManager, refund: Refund, data: z.infer<typeof refundCallbackSchema>['data']): Promise<WebhookOutcome> {
    const to = data.status === 'SUCCEEDED' ? 'SUCCEEDED' : data.status === 'FAILED' ? 'FAILED' : null;
    if (!to) return 'IGNORED';
    const rows = await tx.execute(
      `update refunds set status = ?, completed_at = now(), failure_code = ?, xendit_refund_id = coalesce(xendit_refund_id, ?)
       where id = ? and status in (?) returning *`,
      [to, data.failure_code ?? null, data.id, refund.id, sourcesOf(REFUND_TRANSITIONS, to)],
    );
    if (!rows.length) return 'IGNORED';
    if (to === 'FAILED') {
      // The reserved amount stays in buyer_refunds until an operator decides; nothing else moves.
      this.logger?.error({ refundId: refund.id, failureCode: data.failure_code }, 'Xendit refund failed');
      return 'APPLIED';
    }
    const payment = await claimPayment(tx, refund.paymentId, 'REFUNDED');
    if (!payment) throw new Error(`Refund ${refund.id} succeeded but payment ${refund.paymentId} is not PAID`);
    postLedger(tx, 'REFUND_SETTLED', refundSettlePostings(refund.amount), { paymentId: payment.id, refundId: refund.id });
    await tellOwner(tx, payment, 'REFUNDED');
    await notifyBuyer(tx, 'REFUND_COMPLETED', payment, { refundId: refund.id });
    return 'APPLIED';
  }
}

/** The event's row id, or null when the key was already taken (a replay, or a concurrent twin that committed). */
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
     values (?, ?, ?, ?, ?, 'RECEIVED', ?, now()) on conflict (dedupe_key) do nothing returning id`,
    [newId(), dedupeKey, source, externalId, status, JSON.stringify(payload)],
  );
  return rows[0]?.id ?? null;
}

async function settleEvent(tx: EntityManager, eventId: string, outcome: WebhookOutcome, paymentId: string | null): Promise<void> {
  await tx.execute('update webhook_events set outcome = ?, payment_id = ? where id = ?', [outcome, paymentId, eventId]);
}

/** Our payment id is the invoice's external id; the stored invoice id is the fallback. */
async function findInvoicePayment(tx: EntityManager, invoiceId: string, externalId: string | null | undefined): Promise<Payment | null> {
  if (isId(externalId)) {
    const payment = await tx.findOne(Payment, { id: externalId });
    if (payment) return payment;
  }
  return tx.findOne(Payment, { invoiceId });
}
