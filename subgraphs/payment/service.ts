import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Payment } from './entities/payment.entity';
import { Refund } from './entities/refund.entity';
import { badInput, conflict, forbidden, isUniqueViolation, notFound } from '../../lib/errors';
import { idSchema, nonEmpty, parseInput, rupiah } from '../../lib/validation';
import { paginate, type PageArgs } from '../../lib/pagination';
import type { Caller } from '../../lib/internal-auth';
import { isId, newId } from '../../lib/ids';
import type { Logger } from '../../lib/logger';
import { traceCarrier } from '../../lib/telemetry';
import type { OutboxMessage } from '../../lib/outbox';
import { EARNINGS_TRANSITIONS, ESCROW_TRANSITIONS, PAYMENT_TRANSITIONS, REFUND_TRANSITIONS } from './states';
import { statesLeadingTo, transition } from '../../lib/state-machine';
import {
  ACCOUNTS,
  escrowLiability,
  MONEY_EXIT_KINDS,
  refundReservePostings,
  releasePostings,
  REFUND_SETTLE_KINDS,
  walletCreditPostings,
} from './ledger';
import {
  creditWallet,
  notifyBuyer,
  postLedger,
  submitRefundAfterCommit,
  tellOwner,
  WALLET_CREDIT_PATH,
} from './effects';
import { factoryFigures, type FactoryFiguresRow } from './factory-money';
import type { OrderEarnings, RefundOrderAnswer, RefundView } from '../../lib/contracts/seller';
import { type PaymentGateway, REFUND_REASONS, type RefundReason, xenditGateway } from './xendit';
import type { Config } from '../../lib/config';
import { type XenditRecords, xenditRecords } from './reconciliation';

/** The reason of the automatic refund of money paid after its payment expired (webhooks.ts). */
export const LATE_PAYMENT_REASON = 'LATE_PAYMENT';

const createSchema = z.object({
  orderId: idSchema,
  userId: idSchema,
  amount: rupiah,
  description: nonEmpty(500),
  /** The factory the ledger owes the money to (an order is one factory's). */
  factoryId: idSchema,
  refundTo: z.enum(['ORIGINAL_METHOD', 'WALLET']).nullish(),
});

const refundOrderSchema = z.object({ orderId: idSchema, reason: nonEmpty(200) });

const refundIdSchema = z.object({ refundId: idSchema });

const escrowSchema = z.object({
  sessionId: idSchema,
  participantId: idSchema,
  userId: idSchema,
  factoryId: idSchema,
  amount: rupiah,
  expiresAt: z
    .string()
    .datetime({ offset: true })
    .transform((value) => new Date(value)),
  description: nonEmpty(500),
  refundTo: z.enum(['ORIGINAL_METHOD', 'WALLET']).nullish(),
});

const sessionSchema = z.object({ sessionId: idSchema });
/** Payments per call of the session-wide steps: the caller repeats while more is left. */
const chunkLimit = z.number().int().min(1).max(1000).default(500);
const expireSessionSchema = z.object({ sessionId: idSchema, after: idSchema.nullish(), limit: chunkLimit });
const abandonSchema = z.union([
  z.object({ orderId: idSchema }).strict(),
  z.object({ participantId: idSchema }).strict(),
]);
const refundSessionSchema = z.object({
  sessionId: idSchema,
  reason: nonEmpty(200).default('CANCELLATION'),
  limit: chunkLimit,
});

/** Refunds sent to Xendit at once within one refund-session call. */
const REFUND_SENDS_IN_FLIGHT = 8;
const linkSchema = z.object({
  links: z
    .array(z.object({ participantId: idSchema, orderId: idSchema }))
    .min(1)
    .max(1000),
});

/** What creating a payment answers (docs/internal-api.md). */
export interface PaymentCreated {
  id: string;
  status: string;
  invoiceUrl: string | null;
  amount: number;
}

export interface LedgerInvariants {
  ok: boolean;
  sum: number;
  /** The escrow liability (the negated balance of the `escrow` account; see ledger.ts). */
  escrowBalance: number;
  heldEscrowTotal: number;
  doubleSettled: string[];
  unbalancedGroups: string[];
  /** Per factory (DESIGN.md §5): released − commission = available + inPayout + paidOut, none negative. */
  factories: FactoryFiguresRow[];
  /** The factories whose figures break that rule. */
  factoryMismatches: string[];
  /** The platform_revenue account's income: the sum of every factory's commission. */
  platformRevenue: number;
  commissionTotal: number;
}

export function paymentView(payment: Payment) {
  return {
    id: payment.id,
    userId: payment.userId,
    orderId: payment.orderId ?? null,
    sessionId: payment.sessionId ?? null,
    participantId: payment.participantId ?? null,
    amount: payment.amount,
    currency: payment.currency,
    status: payment.status,
    isInEscrow: payment.isInEscrow,
    escrowStatus: payment.escrowStatus ?? null,
    invoiceId: payment.invoiceId ?? null,
    invoiceUrl: payment.invoiceUrl ?? null,
    paidAt: payment.paidAt?.toISOString() ?? null,
    createdAt: payment.createdAt.toISOString(),
  };
}

const created = (payment: Payment): PaymentCreated => ({
  id: payment.id,
  status: payment.status,
  invoiceUrl: payment.invoiceUrl ?? null,
  amount: payment.amount,
});

const refundView = (refund: Refund): RefundView => ({
  id: refund.id,
  paymentId: refund.paymentId,
  amount: refund.amount,
  status: refund.status,
  destination: refund.destination,
});

/**
 * A WALLET refund completes only once the wallet has taken its credit: payment's outbox calls this in the
 * transaction that records the credit's delivery, and only then is the refund SUCCEEDED and the payment
 * REFUNDED, with the credit's ledger pair, the owner told and the buyer notified. A credit the wallet
 * refuses (400/409/422) is a dead letter logged at error: the refund stays PENDING, the payment PAID with
 * its escrow REFUNDED and the money in buyer_refunds, until an operator fixes the cause and retries it
 * (`POST /internal/outbox/dead/:id/retry`). No payment is ever REFUNDED without its credit.
 */
export async function completeWalletRefund(tx: EntityManager, message: OutboxMessage): Promise<void> {
  if (message.service !== 'wallet' || message.path !== WALLET_CREDIT_PATH) return;
  const refund = await transition(tx, Refund, String(message.body.reference), 'SUCCEEDED', {
    table: REFUND_TRANSITIONS,
    set: { completedAt: new Date() },
    where: { destination: 'WALLET' },
  });
  if (!refund) return;
  const payment = await transition(tx, Payment, refund.paymentId, 'REFUNDED', { table: PAYMENT_TRANSITIONS });
  if (!payment) throw new Error(`Wallet refund ${refund.id} was credited but payment ${refund.paymentId} is not PAID`);
  postLedger(tx, 'WALLET_CREDITED', walletCreditPostings(refund.amount, refund.userId), {
    paymentId: payment.id,
    refundId: refund.id,
  });
  await tellOwner(tx, payment, 'REFUNDED');
  await notifyBuyer(tx, 'REFUND_COMPLETED', payment, { refundId: refund.id });
}

/** What payment's services are given once at start (index.ts): the gateway to Xendit and the settings they apply. */
export interface PaymentDeps {
  gateway: PaymentGateway;
  logger: Logger;
  /** How long a regular order's invoice stays payable: the order's unpaid hold (UNPAID_HOLD_MINUTES). */
  regularInvoiceSeconds: number;
  /** The platform's commission on every release to a factory (PLATFORM_FEE_BPS). */
  feeBps: number;
  /** Xendit's invoices and refunds as reconciliation reads them (reconciliation.ts). */
  xenditRecords: XenditRecords;
}

/** Payment's dependencies as production has them: Xendit (XENDIT_API_URL) and the configured hold and fee. */
export function paymentDeps(config: Config, logger: Logger): PaymentDeps {
  return {
    gateway: xenditGateway(config),
    logger,
    regularInvoiceSeconds: Math.max(1, Math.round(config.UNPAID_HOLD_MINUTES * 60)),
    feeBps: config.PLATFORM_FEE_BPS,
    xenditRecords: xenditRecords(config),
  };
}

export class PaymentService {
  constructor(
    private readonly em: EntityManager,
    private readonly deps: PaymentDeps,
  ) {}

  /** POST /api/payments — one payment per order; a retry answers the same payment and invoice. */
  async createRegular(input: unknown): Promise<PaymentCreated> {
    const p = parseInput(createSchema, input);
    await this.em
      .createQueryBuilder(Payment)
      .insert({
        id: newId(),
        userId: p.userId,
        orderId: p.orderId,
        factoryId: p.factoryId,
        isInEscrow: false,
        amount: p.amount,
        description: p.description,
        refundTo: p.refundTo ?? 'ORIGINAL_METHOD',
        traceContext: traceCarrier(),
      })
      .onConflict('order_id')
      .ignore()
      .execute();
    return created(await this.ensureInvoice({ orderId: p.orderId }, p));
  }

  /** POST /api/payments/escrow — one payment per participant; the invoice expires by the session's end. */
  async createEscrow(input: unknown): Promise<PaymentCreated> {
    const p = parseInput(escrowSchema, input);
    if (p.expiresAt.getTime() - Date.now() < 1000) throw badInput('expiresAt: the session has already ended');
    await this.em
      .createQueryBuilder(Payment)
      .insert({
        id: newId(),
        userId: p.userId,
        sessionId: p.sessionId,
        participantId: p.participantId,
        factoryId: p.factoryId,
        isInEscrow: true,
        amount: p.amount,
        description: p.description,
        refundTo: p.refundTo ?? 'ORIGINAL_METHOD',
        traceContext: traceCarrier(),
        expiresAt: p.expiresAt,
      })
      .onConflict('participant_id')
      .ignore()
      .execute();
    return created(await this.ensureInvoice({ participantId: p.participantId }, p));
  }

  /**
   * Gives a PENDING payment its invoice, once, holding no row lock during the Xendit calls: an invoice
   * made by an attempt whose answer was lost is found by external id and reused, and the invoice is
   * recorded only on a payment still PENDING without one. An invoice that lost that race (a concurrent
   * retry recorded its own, or the payment was abandoned meanwhile) is expired at Xendit at once.
   */
  private async ensureInvoice(
    where: { orderId: string } | { participantId: string },
    expected: { userId: string; amount: number },
  ): Promise<Payment> {
    const { gateway } = this.deps;
    const payment = await this.em.fork().findOneOrFail(Payment, where);
    if (payment.userId !== expected.userId || payment.amount !== expected.amount) {
      throw conflict('A payment with this key already exists for a different buyer or amount');
    }
    if (payment.invoiceUrl || payment.status !== 'PENDING') return payment;
    const seconds = payment.expiresAt
      ? Math.floor((payment.expiresAt.getTime() - Date.now()) / 1000)
      : this.deps.regularInvoiceSeconds;
    if (seconds < 1) throw badInput('expiresAt: the session has already ended');
    const invoice =
      (await gateway.findPendingInvoice(payment.id, payment.amount)) ??
      (await gateway.createInvoice({
        externalId: payment.id,
        amount: payment.amount,
        description: payment.description,
        invoiceDurationSeconds: seconds,
      }));
    const recorded = await this.em.execute(
      `update payments set invoice_id = ?, invoice_url = ?, updated_at = now()
        where id = ? and invoice_id is null and status = 'PENDING' returning *`,
      [invoice.id, invoice.invoiceUrl, payment.id],
    );
    if (recorded.length) return this.em.fork().map(Payment, recorded[0]);
    const current = await this.em.fork().findOneOrFail(Payment, { id: payment.id });
    if (current.invoiceId === invoice.id) return current;
    await gateway.expireInvoice(invoice.id);
    // An abandoned payment without an invoice keeps this closed one, so a callback for it still matches.
    await this.em.execute(
      'update payments set invoice_id = ?, invoice_url = ?, updated_at = now() where id = ? and invoice_id is null',
      [invoice.id, invoice.invoiceUrl, payment.id],
    );
    return this.em.fork().findOneOrFail(Payment, { id: payment.id });
  }

  /**
   * POST /api/payments/expire-session — expires the session's unpaid escrow invoices at Xendit first
   * (Xendit decides whether the buyer paid in time), then here with the owner told and the buyer notified;
   * no row is locked during a Xendit call. Takes at most `limit` payments after the cursor `after` (id
   * order) and answers `next` when more may follow, so a large session goes in chunks. Answers how many
   * of the session's escrow payments are EXPIRED, the same on every call.
   */
  async expireSession(input: unknown): Promise<{ expired: number; next?: string }> {
    const { sessionId, after, limit } = parseInput(expireSessionSchema, input);
    const { gateway } = this.deps;
    const pending = await this.em.find(
      Payment,
      { sessionId, isInEscrow: true, status: 'PENDING', ...(after ? { id: { $gt: after } } : {}) },
      { orderBy: { id: 'asc' }, limit },
    );
    for (const payment of pending) {
      if (payment.invoiceId && (await gateway.expireInvoice(payment.invoiceId)) === 'PAID') continue;
      await this.em.fork().transactional(async (tx) => {
        const expired = await transition(tx, Payment, payment.id, 'EXPIRED', { table: PAYMENT_TRANSITIONS });
        if (!expired) return;
        await tellOwner(tx, expired, 'EXPIRED');
        await notifyBuyer(tx, 'PAYMENT_FAILED', expired);
      });
    }
    const expired = await this.em.fork().count(Payment, { sessionId, isInEscrow: true, status: 'EXPIRED' });
    return pending.length === limit ? { expired, next: pending[pending.length - 1].id } : { expired };
  }

  /**
   * POST /api/payments/abandon `{ orderId }` or `{ participantId }` — the owner gave up on this payment
   * (its create call got no answer and the order or join was undone, or the unpaid hold ran out), so its
   * invoice must not stay payable. The payment is claimed EXPIRED first and committed (a create still in
   * progress then expires its own invoice); then the invoice is expired at Xendit holding no lock.
   * Neither the owner nor the buyer is told (both already know). Answers the payment's status, or NONE
   * when no payment was made: nothing to close, and a success (a 404 would only make the caller's outbox
   * retry, since only 400/409/422 end its retries). An invoice paid in the moment before the claim
   * leaves the payment PAID; one paid after it makes its PAID callback find a late payment, refunded
   * automatically. A failed Xendit call answers 5xx and the retry expires the invoice again.
   */
  async abandon(input: unknown): Promise<{ status: string }> {
    const where = parseInput(abandonSchema, input);
    const { gateway } = this.deps;
    const payment = await this.em.fork().findOne(Payment, where);
    if (!payment) return { status: 'NONE' };
    const claimed =
      payment.status === 'PENDING'
        ? await transition(this.em.fork(), Payment, payment.id, 'EXPIRED', { table: PAYMENT_TRANSITIONS })
        : null;
    const current = claimed ?? (await this.em.fork().findOneOrFail(Payment, { id: payment.id }));
    if (
      current.status === 'EXPIRED' &&
      current.invoiceId &&
      (await gateway.expireInvoice(current.invoiceId)) === 'PAID'
    ) {
      this.deps.logger.warn(
        { paymentId: current.id, ...where },
        'an abandoned payment was paid; its PAID callback will refund it',
      );
    }
    if (current.status === 'PAID') await this.refundAbandoned(current);
    return { status: current.status };
  }

  /**
   * Money captured in the moment before its owner gave up (the PAID callback beat the cancel or the hold's
   * end): no order or place will use it and the owner refuses the PAID notice, so it goes back to the buyer as
   * they chose, once (a payment has one refund).
   */
  private async refundAbandoned(payment: Payment): Promise<void> {
    await this.em.fork().transactional(async (tx) => {
      if (await tx.findOne(Refund, { paymentId: payment.id })) return;
      const claimed = await claimForRefund(tx, payment);
      if (!claimed) return;
      const refund = await reserveRefund(tx, claimed, 'CANCELLATION');
      if (refund.destination === 'ORIGINAL_METHOD') await submitRefundAfterCommit(tx, refund);
      this.deps.logger.warn({ paymentId: payment.id, refundId: refund.id }, 'paid as its owner gave up; refunding it');
    });
  }

  /**
   * POST /api/payments/release-escrow — one transaction for the whole session: every HELD payment is
   * claimed by one statement and gets its ledger pair; a second or concurrent call finds nothing HELD.
   * Answers how many of the session's payments are released, the same on every call.
   */
  async releaseEscrow(input: unknown): Promise<{ released: number }> {
    const { sessionId } = parseInput(sessionSchema, input);
    const { feeBps } = this.deps;
    return this.em.transactional(async (tx) => {
      const rows = await tx.execute(
        `update payments set escrow_status = 'RELEASED', released_at = now(), updated_at = now()
         where session_id = ? and is_in_escrow and status = 'PAID' and escrow_status in (?) returning *`,
        [sessionId, statesLeadingTo(ESCROW_TRANSITIONS, 'RELEASED')],
      );
      for (const row of rows) {
        const payment = tx.map(Payment, row);
        const { kind, postings } = releasePostings(payment, feeBps);
        postLedger(tx, kind, postings, { paymentId: payment.id });
        await notifyBuyer(tx, 'ESCROW_RELEASED', payment);
      }
      return { released: await tx.count(Payment, { sessionId, escrowStatus: 'RELEASED' }) };
    });
  }

  /**
   * POST /api/payments/refund-session — step 1 (one transaction): up to `limit` HELD payments of the
   * session are claimed for refund, get their refund row (unique per payment) and ledger legs; a wallet
   * refund's credit goes out through the outbox and completes it when the wallet took it. Step 2, after
   * that commit and holding no row lock: up to `limit` PENDING refunds not yet accepted by Xendit are
   * sent, a few at a time, each with its own id as idempotency key. A crash between or during the steps
   * is finished by calling again. Answers `{ refunds: [], more: true }` while HELD payments or unsent
   * refunds are left (call again), then the session's refunds.
   */
  async refundSession(input: unknown): Promise<{ refunds: RefundView[]; more?: true }> {
    const { sessionId, reason, limit } = parseInput(refundSessionSchema, input);
    const { gateway } = this.deps;
    const refundable = statesLeadingTo(ESCROW_TRANSITIONS, 'REFUNDED');
    await this.em.fork().transactional(async (tx) => {
      // The chunk is materialized first: as a plain `id in (… limit ? for update)` PostgreSQL may rescan it per
      // row, skip the rows this statement already changed and claim the whole session at once.
      const rows = await tx.execute(
        `with chunk as materialized (
           select id from payments where session_id = ? and is_in_escrow and status = 'PAID' and escrow_status in (?)
            order by id limit ? for update)
         update payments set escrow_status = 'REFUNDED', updated_at = now()
          where id in (select id from chunk) and status = 'PAID' and escrow_status in (?)
         returning *`,
        [sessionId, refundable, limit, refundable],
      );
      for (const row of rows) {
        await reserveRefund(tx, tx.map(Payment, row), reason, sessionId);
      }
    });

    const unsentWhere = { sessionId, destination: 'ORIGINAL_METHOD', status: 'PENDING', xenditRefundId: null } as const;
    const unsent = await this.em.fork().find(Refund, unsentWhere, { orderBy: { id: 'asc' }, limit });
    let transientFailure: unknown;
    const queue = [...unsent];
    const sender = async () => {
      // After a transient failure nothing new is started: Xendit is struggling, and the caller retries later.
      for (let refund = queue.shift(); refund && !transientFailure; refund = queue.shift()) {
        await this.submitRefund(gateway, refund).catch((error: unknown) => (transientFailure ??= error));
      }
    };
    await Promise.all(Array.from({ length: REFUND_SENDS_IN_FLIGHT }, sender));
    // Step 2 is resumable: an error makes the caller retry, and the retry sends only what is left.
    if (transientFailure) throw transientFailure;
    const more =
      (await this.em
        .fork()
        .count(Payment, { sessionId, isInEscrow: true, status: 'PAID', escrowStatus: { $in: refundable } })) > 0 ||
      (await this.em.fork().count(Refund, unsentWhere)) > 0;
    if (more) return { refunds: [], more: true };
    const refunds = await this.em.fork().find(Refund, { sessionId }, { orderBy: { id: 'asc' } });
    return { refunds: refunds.map(refundView) };
  }

  /**
   * POST /api/payments/refunds/submit `{ refundId }` — sends one PENDING ORIGINAL_METHOD refund to Xendit
   * (payment's own outbox calls it after the refund row committed). Once Xendit has it, a repeat sends
   * nothing; an error answers 5xx so the outbox retries.
   */
  async sendRefund(input: unknown): Promise<RefundView> {
    const { refundId } = parseInput(refundIdSchema, input);
    const { gateway } = this.deps;
    const refund = await this.em.fork().findOne(Refund, { id: refundId });
    if (!refund) throw notFound('No refund with this id');
    if (refund.destination === 'ORIGINAL_METHOD' && refund.status === 'PENDING' && !refund.xenditRefundId)
      await this.submitRefund(gateway, refund);
    return refundView(await this.em.fork().findOneOrFail(Refund, { id: refundId }));
  }

  private async submitRefund(gateway: PaymentGateway, refund: Refund): Promise<void> {
    const payment = await this.em.fork().findOneOrFail(Payment, { id: refund.paymentId });
    if (!payment.invoiceId) throw new Error(`Payment ${payment.id} has no invoice to refund`);
    const xenditReason: RefundReason = (REFUND_REASONS as readonly string[]).includes(refund.reason)
      ? (refund.reason as RefundReason)
      : 'CANCELLATION';
    try {
      const accepted = await gateway.createRefund({
        refundId: refund.id,
        invoiceId: payment.invoiceId,
        amount: refund.amount,
        reason: xenditReason,
      });
      await this.em
        .fork()
        .execute('update refunds set xendit_refund_id = ? where id = ? and xendit_refund_id is null', [
          accepted.id,
          refund.id,
        ]);
    } catch (error) {
      const status = Number((error as { status?: unknown }).status);
      if (!(status >= 400 && status < 500 && status !== 409 && status !== 429)) throw error;
      // Xendit refused this refund for good: the money stays in buyer_refunds for an operator.
      const code = String((error as { errorCode?: unknown }).errorCode ?? status);
      this.deps.logger.error({ refundId: refund.id, code }, 'Xendit refused a refund');
      await transition(this.em.fork(), Refund, refund.id, 'FAILED', {
        table: REFUND_TRANSITIONS,
        set: { failureCode: code },
      });
    }
  }

  /**
   * POST orderDeliveredPath(orderId) — the regular order was delivered: its payment's money moves from the
   * factory's pending money to its available money, less commission to platform_revenue, in one claim of the
   * earnings (PENDING → AVAILABLE) with its ledger group. A repeat answers the same from that group; a
   * group-buying order (released with its session), an unpaid or refunded payment is a CONFLICT.
   */
  async orderDelivered(orderId: string): Promise<OrderEarnings> {
    if (!isId(orderId)) throw notFound('No payment for this order');
    const { feeBps } = this.deps;
    return this.em.fork().transactional(async (tx) => {
      const payment = await tx.findOne(Payment, { orderId });
      if (!payment) throw notFound('No payment for this order');
      if (payment.isInEscrow)
        throw conflict("A group-buying order's money is released with its session's production, not at delivery");
      const rows = await tx.execute(
        `update payments set earnings_status = 'AVAILABLE', released_at = now(), updated_at = now()
          where id = ? and status = 'PAID' and earnings_status in (?) returning *`,
        [payment.id, statesLeadingTo(EARNINGS_TRANSITIONS, 'AVAILABLE')],
      );
      if (rows.length) {
        const claimed = tx.map(Payment, rows[0]);
        const { kind, postings } = releasePostings(claimed, feeBps);
        postLedger(tx, kind, postings, { paymentId: claimed.id });
      }
      const [current] = await tx.execute<{ status: string; earnings_status: string | null }[]>(
        'select status, earnings_status from payments where id = ?',
        [payment.id],
      );
      if (current.earnings_status !== 'AVAILABLE')
        throw conflict(
          `The order's payment is ${current.status}${current.earnings_status === 'REFUNDED' ? ' and refunded' : ''}; its money cannot become the factory's`,
        );
      // A fresh claim's legs are not flushed yet: read them back after the flush, the same way a repeat does.
      await tx.flush();
      return earningsOf(tx, payment);
    });
  }

  /**
   * POST REFUND_ORDER_PATH — the order was cancelled after payment: its payment is refunded in full, once. A
   * regular payment's money is claimed from the factory's pending money (earnings PENDING → REFUNDED), a
   * group-buying order's from escrow while HELD; the refund row and its REFUND_RESERVED legs are written in
   * that transaction, then the refund goes the usual way: to Xendit through payment's own outbox, or to the
   * wallet where the buyer chose it (the payment is REFUNDED when either completes). A repeat, or a concurrent
   * twin, answers the same refund. CONFLICT when the money was already the factory's (delivered or released)
   * or the payment is not paid.
   */
  async refundOrder(input: unknown): Promise<RefundOrderAnswer> {
    const { orderId, reason } = parseInput(refundOrderSchema, input);
    const refund = await this.em.fork().transactional(async (tx) => {
      const payment = await tx.findOne(Payment, { orderId });
      if (!payment) throw notFound('No payment for this order');
      const earlier = await tx.findOne(Refund, { paymentId: payment.id });
      if (earlier) return earlier;
      const claimed = await claimForRefund(tx, payment);
      if (!claimed) {
        // A concurrent refund of this order may have claimed it first: its refund is the answer.
        const raced = await tx.findOne(Refund, { paymentId: payment.id });
        if (raced) return raced;
        const [current] = await tx.execute<
          { status: string; escrow_status: string | null; earnings_status: string | null }[]
        >('select status, escrow_status, earnings_status from payments where id = ?', [payment.id]);
        const money = current.escrow_status ?? current.earnings_status;
        throw conflict(
          `The order's payment is ${current.status}${money ? ` (${money})` : ''}; it cannot be refunded from here`,
        );
      }
      const created = await reserveRefund(tx, claimed, reason);
      if (created.destination === 'ORIGINAL_METHOD') await submitRefundAfterCommit(tx, created);
      return created;
    });
    return { refund: refundView(refund) };
  }

  /** POST /api/payments/link-orders — escrow payments learn their bulk order; relinking the same pair is a no-op. */
  async linkOrders(input: unknown): Promise<{ linked: number }> {
    const { links } = parseInput(linkSchema, input);
    try {
      return await this.em.transactional(async (tx) => {
        for (const link of links) {
          const rows = await tx.execute(
            'update payments set order_id = ?, updated_at = now() where participant_id = ? and (order_id is null or order_id = ?) returning id',
            [link.orderId, link.participantId, link.orderId],
          );
          if (rows.length) continue;
          const payment = await tx.findOne(Payment, { participantId: link.participantId });
          if (!payment) throw notFound(`No payment for participant ${link.participantId}`);
          throw conflict(`The payment of participant ${link.participantId} is linked to another order`);
        }
        return { linked: links.length };
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict('One of these orders already has a payment');
      throw error;
    }
  }

  async byOrder(orderId: string) {
    const payment = isId(orderId) ? await this.em.findOne(Payment, { orderId }) : null;
    if (!payment) throw notFound('No payment for this order');
    return paymentView(payment);
  }

  /** GET /api/payments/ledger/invariants (DESIGN.md §5), cheap enough to run after every test. */
  async ledgerInvariants(): Promise<LedgerInvariants> {
    const one = async (sql: string, params: unknown[] = []) =>
      Number((await this.em.execute(sql, params))[0]?.total ?? 0);
    const ids = async (sql: string, params: unknown[] = []) =>
      (await this.em.execute<{ id: string }[]>(sql, params)).map((row) => String(row.id));
    const [sum, escrowAccount, heldEscrowTotal, doubleSettled, unbalancedGroups] = await Promise.all([
      one('select coalesce(sum(amount), 0) as total from transaction_ledger'),
      one(`select coalesce(sum(amount), 0) as total from transaction_ledger where account = 'escrow'`),
      one(`select coalesce(sum(amount), 0) as total from payments where escrow_status = 'HELD'`),
      ids(
        `select payment_id as id from transaction_ledger where kind in (?) group by payment_id having count(distinct group_id) > 1
         union select payment_id as id from transaction_ledger where kind in (?) group by payment_id having count(distinct group_id) > 1`,
        [MONEY_EXIT_KINDS, REFUND_SETTLE_KINDS],
      ),
      ids('select group_id as id from transaction_ledger group by group_id having sum(amount) <> 0'),
    ]);
    const [factories, platformAccount] = await Promise.all([
      factoryFigures(this.em),
      one('select coalesce(sum(amount), 0) as total from transaction_ledger where account = ?', [
        ACCOUNTS.platformRevenue,
      ]),
    ]);
    const factoryMismatches = factories.filter((row) => !row.balanced).map((row) => row.factoryId);
    const platformRevenue = 0 - platformAccount;
    const commissionTotal = factories.reduce((total, row) => total + row.commission, 0);
    const escrowBalance = escrowLiability(escrowAccount);
    return {
      ok:
        sum === 0 &&
        escrowBalance === heldEscrowTotal &&
        doubleSettled.length === 0 &&
        unbalancedGroups.length === 0 &&
        factoryMismatches.length === 0 &&
        platformRevenue === commissionTotal,
      sum,
      escrowBalance,
      heldEscrowTotal,
      doubleSettled,
      unbalancedGroups,
      factories,
      factoryMismatches,
      platformRevenue,
      commissionTotal,
    };
  }

  /** One account's balance in the ledger's sign convention (credits negative), for operators and tests. */
  async accountBalance(account: string): Promise<{ account: string; balance: number }> {
    const rows = await this.em.execute<{ total: string | null }[]>(
      'select coalesce(sum(amount), 0) as total from transaction_ledger where account = ?',
      [account],
    );
    return { account, balance: Number(rows[0]?.total ?? 0) };
  }

  // GraphQL reads.

  myPayments(caller: Caller, page: PageArgs) {
    return paginate(this.em, Payment, { userId: caller.userId }, page, { newestFirst: true });
  }

  /** The owner or an admin sees a payment; anyone else is refused. */
  async payment(caller: Caller, id: string): Promise<Payment | null> {
    const payment = isId(id) ? await this.em.findOne(Payment, { id }) : null;
    if (!payment) return null;
    if (!canSee(caller, payment)) throw forbidden('This payment belongs to someone else');
    return payment;
  }
}

/** Claims a PAID payment's money for a refund: its held escrow, or a regular order's factory money; null when gone. */
async function claimForRefund(tx: EntityManager, payment: Payment): Promise<Payment | null> {
  const rows = payment.isInEscrow
    ? await tx.execute(
        `update payments set escrow_status = 'REFUNDED', updated_at = now()
          where id = ? and status = 'PAID' and escrow_status in (?) returning *`,
        [payment.id, statesLeadingTo(ESCROW_TRANSITIONS, 'REFUNDED')],
      )
    : await tx.execute(
        `update payments set earnings_status = 'REFUNDED', updated_at = now()
          where id = ? and status = 'PAID' and earnings_status in (?) returning *`,
        [payment.id, statesLeadingTo(EARNINGS_TRANSITIONS, 'REFUNDED')],
      );
  return rows.length ? tx.map(Payment, rows[0]) : null;
}

/**
 * A full refund of a claimed payment, in the claim's transaction: its money reserved into buyer_refunds (from
 * escrow, or the factory's pending money for a regular order), and a WALLET refund's credit enqueued. Sending an
 * ORIGINAL_METHOD refund to Xendit is the caller's: one at once, a session's in batches after the commit.
 */
async function reserveRefund(tx: EntityManager, payment: Payment, reason: string, sessionId?: string): Promise<Refund> {
  const refund = tx.create(Refund, {
    paymentId: payment.id,
    sessionId,
    userId: payment.userId,
    amount: payment.amount,
    destination: payment.refundTo,
    reason,
  });
  postLedger(tx, 'REFUND_RESERVED', refundReservePostings(payment), { paymentId: payment.id, refundId: refund.id });
  if (payment.refundTo === 'WALLET') await creditWallet(tx, refund, payment);
  return refund;
}

async function earningsOf(tx: EntityManager, payment: Payment): Promise<OrderEarnings> {
  const [legs] = await tx.execute<{ available: string; commission: string }[]>(
    `select coalesce(-sum(amount) filter (where account = ?), 0) as available,
            coalesce(-sum(amount) filter (where account = ?), 0) as commission
       from transaction_ledger where payment_id = ? and kind = 'ORDER_DELIVERED'`,
    [ACCOUNTS.factoryAvailable(payment.factoryId!), ACCOUNTS.platformRevenue, payment.id],
  );
  return {
    paymentId: payment.id,
    factoryId: payment.factoryId!,
    available: Number(legs.available),
    commission: Number(legs.commission),
  };
}

export function canSee(caller: Caller | null, payment: Payment): boolean {
  return caller?.role === 'ADMIN' || caller?.userId === payment.userId;
}
