import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { FaultPlan } from './faults';
import type { CallbackAttempt, CallbackDelivery, CallbackSender } from './callbacks';

/** The business the sandbox pretends to be: `user_id` on invoices, `business_id` on refund callbacks. */
export const SANDBOX_BUSINESS_ID = '5f27a14a9bf05c73dd040bc8';
export const SANDBOX_MERCHANT_NAME = 'Group Buying Marketplace';
/** Xendit's default logo for merchants that did not upload one. */
const DEFAULT_MERCHANT_PICTURE = 'https://du8nwjtfkinx.cloudfront.net/xendit.png';
const DEFAULT_INVOICE_DURATION_SECONDS = 24 * 3600;

const CURRENCIES = ['IDR', 'USD', 'THB', 'VND', 'PHP', 'MYR'] as const;
const REFUND_REASONS = ['FRAUDULENT', 'DUPLICATE', 'REQUESTED_BY_CUSTOMER', 'CANCELLATION', 'OTHERS'] as const;

/** Every sandbox payment is a BCA virtual-account transfer. */
const PAYMENT_METHOD = 'BANK_TRANSFER';
const PAYMENT_CHANNEL = 'BCA';

export type InvoiceStatus = 'PENDING' | 'PAID' | 'SETTLED' | 'EXPIRED';

/** An invoice exactly as Xendit's API answers it (snake_case wire format). */
export interface XenditInvoice {
  id: string;
  external_id: string;
  user_id: string;
  status: InvoiceStatus;
  merchant_name: string;
  merchant_profile_picture_url: string;
  amount: number;
  currency: string;
  payer_email?: string;
  description?: string;
  expiry_date: string;
  invoice_url: string;
  available_banks: object[];
  available_retail_outlets: object[];
  available_ewallets: object[];
  available_qr_codes: object[];
  available_direct_debits: object[];
  available_paylaters: object[];
  should_exclude_credit_card: boolean;
  should_send_email: boolean;
  created: string;
  updated: string;
  success_redirect_url?: string;
  failure_redirect_url?: string;
  metadata?: Record<string, unknown>;
  paid_amount?: number;
  paid_at?: string;
  payment_method?: string;
  payment_channel?: string;
  payment_destination?: string;
  bank_code?: string;
  payment_id?: string;
}

export type RefundStatus = 'PENDING' | 'SUCCEEDED' | 'FAILED';

/** A refund as Xendit's Refund API answers it. */
export interface XenditRefund {
  id: string;
  payment_id: string;
  invoice_id: string;
  payment_request_id: string | null;
  payment_method_type: string;
  channel_code: string;
  country: string;
  amount: number;
  currency: string;
  status: RefundStatus;
  reason: string;
  reference_id: string | null;
  failure_code: string | null;
  refund_fee_amount: number;
  created: string;
  updated: string;
  metadata: Record<string, unknown> | null;
}

export interface InvoiceRecord {
  invoice: XenditInvoice;
  /** Every callback sent for this invoice, oldest first. */
  callbacks: CallbackDelivery[];
}

export interface RefundRecord {
  refund: XenditRefund;
  callback?: CallbackDelivery;
}

/** A refusal in Xendit's error shape: `{ error_code, message, errors? }` with its HTTP status. */
export class XenditError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    /** Each invalid field, as Xendit lists them on API_VALIDATION_ERROR. */
    readonly errors?: { path: string; message: string }[],
  ) {
    super(message);
  }
}

export const createInvoiceSchema = z.object({
  external_id: z.string().min(1).max(255),
  amount: z.number().int().positive(),
  payer_email: z.string().email().optional(),
  description: z.string().max(1000).optional(),
  invoice_duration: z.number().int().min(1).max(31_536_000).optional(),
  currency: z.enum(CURRENCIES).default('IDR'),
  success_redirect_url: z.string().url().optional(),
  failure_redirect_url: z.string().url().optional(),
  metadata: z.record(z.unknown()).optional(),
});

export const createRefundSchema = z
  .object({
    invoice_id: z.string().min(1).optional(),
    payment_request_id: z.string().min(1).optional(),
    reference_id: z.string().min(1).max(255).optional(),
    amount: z.number().int().positive().optional(),
    currency: z.enum(CURRENCIES).optional(),
    reason: z.enum(REFUND_REASONS),
    metadata: z.record(z.unknown()).nullable().optional(),
  })
  .refine((body) => Boolean(body.invoice_id) !== Boolean(body.payment_request_id), {
    message: 'exactly one of invoice_id and payment_request_id is required',
  });

export type CreateInvoiceInput = z.infer<typeof createInvoiceSchema>;

/** A time range of a list filter; Xendit applies one only when both ends are given. */
export interface TimeRange {
  after: Date;
  before: Date;
}

export interface InvoiceListFilter {
  externalId?: string;
  statuses?: InvoiceStatus[];
  limit: number;
  created?: TimeRange;
  paid?: TimeRange;
  expired?: TimeRange;
  lastInvoiceId?: string;
}

/** Xendit's cursor paging (refunds, payouts): newest first, after or before an item's id. */
export interface CursorPage {
  limit: number;
  afterId?: string;
  beforeId?: string;
}

export interface RefundListFilter extends CursorPage {
  invoiceId?: string;
  paymentRequestId?: string;
}
export type CreateRefundInput = z.infer<typeof createRefundSchema>;

export interface XenditAccountSettings {
  publicUrl: string;
  webhookBaseUrl: string;
  callbacks: CallbackSender;
}

/**
 * The simulated Xendit merchant account: its invoices, refunds and the callbacks it sends. Lives in
 * memory; the HTTP routers only translate to and from this.
 */
export class XenditAccount {
  readonly faults = new FaultPlan();
  /** Delays (ms) for the next calls, which then answer normally. */
  readonly slowdowns = new FaultPlan();
  /** Statuses for the next calls that take effect: the answer is lost after the work is done. */
  readonly lateFaults = new FaultPlan();
  /** Delays (ms) for the answers of the next calls that take effect, after the work is done. */
  readonly lateSlowdowns = new FaultPlan();
  private readonly invoices = new Map<string, InvoiceRecord>();
  private readonly refunds = new Map<string, RefundRecord>();
  private readonly refundIdempotency = new Map<string, { refundId: string; fingerprint: string }>();
  /** Refunds still to complete without any callback, as when Xendit gave up on delivering it. */
  private refundCallbacksToLose = 0;
  /** Invoices still to be paid without any callback reaching us (reconciliation finds them). */
  private invoiceCallbacksToLose = 0;

  constructor(private readonly settings: XenditAccountSettings) {}

  loseRefundCallbacks(count: number): void {
    this.refundCallbacksToLose += count;
  }

  loseInvoiceCallbacks(count: number): void {
    this.invoiceCallbacksToLose += count;
  }

  createInvoice(input: CreateInvoiceInput): XenditInvoice {
    const id = randomBytes(12).toString('hex');
    const now = new Date();
    const duration = input.invoice_duration ?? DEFAULT_INVOICE_DURATION_SECONDS;
    const invoice: XenditInvoice = {
      id,
      external_id: input.external_id,
      user_id: SANDBOX_BUSINESS_ID,
      status: 'PENDING',
      merchant_name: SANDBOX_MERCHANT_NAME,
      merchant_profile_picture_url: DEFAULT_MERCHANT_PICTURE,
      amount: input.amount,
      currency: input.currency,
      payer_email: input.payer_email,
      description: input.description,
      expiry_date: new Date(now.getTime() + duration * 1000).toISOString(),
      invoice_url: `${this.settings.publicUrl}/checkout/${id}`,
      ...paymentOptions(input.amount),
      should_exclude_credit_card: false,
      should_send_email: false,
      created: now.toISOString(),
      updated: now.toISOString(),
      success_redirect_url: input.success_redirect_url,
      failure_redirect_url: input.failure_redirect_url,
      metadata: input.metadata,
    };
    this.invoices.set(id, { invoice, callbacks: [] });
    return invoice;
  }

  findInvoice(invoiceId: string): InvoiceRecord {
    const record = this.invoices.get(invoiceId);
    if (!record) throw new XenditError(404, 'INVOICE_NOT_FOUND_ERROR', `Invoice ${invoiceId} not found`);
    expireWhenDue(record.invoice);
    return record;
  }

  /** The invoice as its checkout page shows it, if there is one. */
  invoiceForCheckout(invoiceId: string): XenditInvoice | undefined {
    return this.invoices.has(invoiceId) ? this.findInvoice(invoiceId).invoice : undefined;
  }

  /**
   * `GET /v2/invoices` as Xendit lists: newest created first, `limit` at a time; the next page starts after the
   * previous page's last invoice (`last_invoice_id`).
   */
  listInvoices(filter: InvoiceListFilter): XenditInvoice[] {
    const newestFirst = [...this.invoices.values()].map((record) => record.invoice).reverse();
    newestFirst.forEach(expireWhenDue);
    const matching = newestFirst.filter(
      (invoice) =>
        (filter.externalId === undefined || invoice.external_id === filter.externalId) &&
        (filter.statuses === undefined || filter.statuses.includes(invoice.status)) &&
        within(invoice.created, filter.created) &&
        within(invoice.paid_at, filter.paid) &&
        within(invoice.expiry_date, filter.expired),
    );
    return afterCursor(matching, (invoice) => invoice.id, filter.lastInvoiceId).slice(0, filter.limit);
  }

  /**
   * The merchant cancels an unpaid invoice (`POST /invoices/:id/expire!`). It sends no callback: the
   * merchant asked for it and already knows. Expiring an expired invoice answers it unchanged.
   */
  expireInvoice(invoiceId: string): XenditInvoice {
    const { invoice } = this.findInvoice(invoiceId);
    if (invoice.status === 'EXPIRED') return invoice;
    if (invoice.status !== 'PENDING') {
      throw new XenditError(
        400,
        'INVOICE_NOT_FOUND_ERROR',
        `Invoice ${invoiceId} is ${invoice.status} and can no longer be expired`,
      );
    }
    invoice.status = 'EXPIRED';
    invoice.updated = new Date().toISOString();
    return invoice;
  }

  /** The buyer pays in full by BCA virtual account; the PAID callback goes out as Xendit would send it. */
  async payInvoice(invoiceId: string): Promise<{ invoice: XenditInvoice; callback: CallbackAttempt }> {
    const record = this.findPendingInvoice(invoiceId, 'paid');
    markPaid(record.invoice);
    if (this.invoiceCallbacksToLose > 0) {
      this.invoiceCallbacksToLose -= 1;
      return { invoice: record.invoice, callback: { status: null, body: null, error: 'callback lost (sandbox)' } };
    }
    return {
      invoice: record.invoice,
      callback: await this.sendInvoiceCallback(record, invoiceCallbackBody(record.invoice)),
    };
  }

  /**
   * Invoices made and paid in one go, with no callback: a history of payments the receiver already has
   * (tests seed large sessions this way instead of paying thousands of invoices one by one).
   */
  seedPaidInvoices(inputs: CreateInvoiceInput[]): XenditInvoice[] {
    return inputs.map((input) => {
      const invoice = this.createInvoice(input);
      markPaid(invoice);
      return invoice;
    });
  }

  /** The invoice runs out of time and the EXPIRED callback goes out (accounts can ask Xendit for it). */
  async lapseInvoice(invoiceId: string): Promise<{ invoice: XenditInvoice; callback: CallbackAttempt }> {
    const record = this.findPendingInvoice(invoiceId, 'expired');
    const { invoice } = record;
    invoice.status = 'EXPIRED';
    invoice.updated = new Date().toISOString();
    return { invoice, callback: await this.sendInvoiceCallback(record, invoiceCallbackBody(invoice)) };
  }

  /** Sends the last invoice callback again, as Xendit sometimes does. */
  async redeliverInvoiceCallback(invoiceId: string): Promise<{ invoice: XenditInvoice; callback: CallbackAttempt }> {
    const record = this.findInvoice(invoiceId);
    const last = record.callbacks.at(-1);
    if (!last) throw new XenditError(409, 'NO_CALLBACK_SENT', `No callback was sent for invoice ${invoiceId} yet`);
    return { invoice: record.invoice, callback: await this.sendInvoiceCallback(record, last.body) };
  }

  /**
   * Creates a PENDING refund, or answers the refund already made under the same idempotency key. A key
   * reused for a different request is refused, as Xendit does.
   */
  createRefund(
    input: CreateRefundInput,
    idempotencyKey: string | undefined,
  ): { refund: XenditRefund; created: boolean } {
    const fingerprint = JSON.stringify([input.invoice_id, input.payment_request_id, input.amount, input.reason]);
    const earlier = idempotencyKey === undefined ? undefined : this.refundIdempotency.get(idempotencyKey);
    if (earlier) {
      if (earlier.fingerprint !== fingerprint) {
        throw new XenditError(
          409,
          'IDEMPOTENCY_ERROR',
          'The idempotency key was already used for a different refund request',
        );
      }
      return { refund: this.findRefund(earlier.refundId).refund, created: false };
    }

    if (!input.invoice_id) {
      // This sandbox issues invoices only, so no payment request id can be known to it.
      throw new XenditError(404, 'DATA_NOT_FOUND', `Payment request ${input.payment_request_id} not found`);
    }
    const invoice = this.invoices.get(input.invoice_id)?.invoice;
    if (!invoice) throw new XenditError(404, 'DATA_NOT_FOUND', `Invoice ${input.invoice_id} not found`);
    if ((invoice.status !== 'PAID' && invoice.status !== 'SETTLED') || !invoice.payment_id || !invoice.paid_amount) {
      throw new XenditError(
        400,
        'INELIGIBLE_TRANSACTION',
        `Invoice ${invoice.id} is ${invoice.status}: only paid invoices can be refunded`,
      );
    }
    if (input.currency && input.currency !== invoice.currency) {
      throw new XenditError(
        400,
        'API_VALIDATION_ERROR',
        `currency must be ${invoice.currency}, the currency of the payment`,
      );
    }
    const refundable = invoice.paid_amount - this.refundedAmount(invoice.id);
    if (refundable <= 0) {
      throw new XenditError(400, 'MAXIMUM_REFUND_AMOUNT_REACHED', `Invoice ${invoice.id} is already fully refunded`);
    }
    const amount = input.amount ?? refundable;
    if (amount > refundable) {
      throw new XenditError(
        400,
        'MAXIMUM_REFUND_AMOUNT_REACHED',
        `Refund amount ${amount} exceeds the refundable amount ${refundable} of invoice ${invoice.id}`,
      );
    }

    const now = new Date().toISOString();
    const refund: XenditRefund = {
      id: `rfd-${randomUUID()}`,
      payment_id: invoice.payment_id,
      invoice_id: invoice.id,
      payment_request_id: null,
      payment_method_type: 'VIRTUAL_ACCOUNT',
      channel_code: invoice.payment_channel ?? PAYMENT_CHANNEL,
      country: 'ID',
      amount,
      currency: invoice.currency,
      status: 'PENDING',
      reason: input.reason,
      reference_id: input.reference_id ?? null,
      failure_code: null,
      refund_fee_amount: 0,
      created: now,
      updated: now,
      metadata: input.metadata ?? null,
    };
    this.refunds.set(refund.id, { refund });
    if (idempotencyKey !== undefined) this.refundIdempotency.set(idempotencyKey, { refundId: refund.id, fingerprint });
    return { refund, created: true };
  }

  /** Sandbox refunds always succeed: mark it so and send `refund.succeeded`. */
  async completeRefund(refundId: string): Promise<void> {
    const record = this.findRefund(refundId);
    record.refund.status = 'SUCCEEDED';
    record.refund.updated = new Date().toISOString();
    const { refund } = record;
    if (this.refundCallbacksToLose > 0) {
      this.refundCallbacksToLose -= 1;
      return;
    }
    const body = {
      event: 'refund.succeeded',
      business_id: SANDBOX_BUSINESS_ID,
      created: refund.updated,
      data: { ...refund },
    };
    const { delivery } = await this.settings.callbacks.send(this.webhookUrl('refund'), body);
    record.callback = delivery;
  }

  findRefund(refundId: string): RefundRecord {
    const record = this.refunds.get(refundId);
    if (!record) throw new XenditError(404, 'DATA_NOT_FOUND', `Refund ${refundId} not found`);
    return record;
  }

  refundsOf(invoiceId: string | undefined): RefundRecord[] {
    return [...this.refunds.values()].filter((r) => invoiceId === undefined || r.refund.invoice_id === invoiceId);
  }

  /**
   * `GET /refunds` as Xendit lists: newest first, `limit` at a time, `has_more` when older ones follow;
   * `after_id` continues after the refund it names, `before_id` gives the ones just newer than it.
   */
  listRefunds(filter: RefundListFilter): { data: XenditRefund[]; has_more: boolean } {
    const newestFirst = this.refundsOf(filter.invoiceId)
      .map((record) => record.refund)
      .filter(
        (refund) => filter.paymentRequestId === undefined || refund.payment_request_id === filter.paymentRequestId,
      )
      .reverse();
    return pageOf(newestFirst, (refund) => refund.id, filter);
  }

  reset(): void {
    this.invoices.clear();
    this.refunds.clear();
    this.refundIdempotency.clear();
    this.refundCallbacksToLose = 0;
    this.invoiceCallbacksToLose = 0;
    this.clearFaults();
  }

  clearFaults(): void {
    this.faults.clear();
    this.slowdowns.clear();
    this.lateFaults.clear();
    this.lateSlowdowns.clear();
  }

  private findPendingInvoice(invoiceId: string, becoming: string): InvoiceRecord {
    const record = this.findInvoice(invoiceId);
    if (record.invoice.status !== 'PENDING') {
      throw new XenditError(
        409,
        'INVOICE_NOT_PENDING',
        `Invoice ${invoiceId} is ${record.invoice.status}, it cannot be ${becoming}`,
      );
    }
    return record;
  }

  private refundedAmount(invoiceId: string): number {
    return this.refundsOf(invoiceId)
      .filter((r) => r.refund.status !== 'FAILED')
      .reduce((sum, r) => sum + r.refund.amount, 0);
  }

  private async sendInvoiceCallback(record: InvoiceRecord, body: unknown): Promise<CallbackAttempt> {
    const { delivery, firstAttempt } = await this.settings.callbacks.send(this.webhookUrl('invoice'), body);
    record.callbacks.push(delivery);
    return firstAttempt;
  }

  private webhookUrl(kind: 'invoice' | 'refund'): string {
    return `${this.settings.webhookBaseUrl}/api/webhooks/xendit/${kind}`;
  }
}

/** The buyer paid in full by BCA virtual account. */
function markPaid(invoice: XenditInvoice): void {
  const now = new Date().toISOString();
  Object.assign(invoice, {
    status: 'PAID',
    paid_amount: invoice.amount,
    paid_at: now,
    payment_method: PAYMENT_METHOD,
    payment_channel: PAYMENT_CHANNEL,
    bank_code: PAYMENT_CHANNEL,
    payment_destination: `8808${String(randomInt(1e9)).padStart(10, '0')}`,
    payment_id: randomBytes(12).toString('hex'),
    updated: now,
  } satisfies Partial<XenditInvoice>);
}

function within(timestamp: string | undefined, range: TimeRange | undefined): boolean {
  if (!range) return true;
  if (timestamp === undefined) return false;
  const at = Date.parse(timestamp);
  return at > range.after.getTime() && at < range.before.getTime();
}

/** The items after the one with id `cursor` (all of them without one); an unknown cursor is refused. */
function afterCursor<T>(items: T[], idOf: (item: T) => string, cursor: string | undefined): T[] {
  if (cursor === undefined) return items;
  const at = items.findIndex((item) => idOf(item) === cursor);
  if (at < 0) throw new XenditError(400, 'API_VALIDATION_ERROR', `No item with id ${cursor} to continue from`);
  return items.slice(at + 1);
}

/** One page of a newest-first list by `after_id` / `before_id`, and whether older items follow it. */
export function pageOf<T>(
  newestFirst: T[],
  idOf: (item: T) => string,
  page: CursorPage,
): { data: T[]; has_more: boolean } {
  if (page.beforeId !== undefined) {
    const at = newestFirst.findIndex((item) => idOf(item) === page.beforeId);
    if (at < 0) throw new XenditError(400, 'API_VALIDATION_ERROR', `No item with id ${page.beforeId} to page from`);
    // Paging towards newer items: has_more says whether still newer ones are left.
    return { data: newestFirst.slice(Math.max(0, at - page.limit), at), has_more: at > page.limit };
  }
  const rest = afterCursor(newestFirst, idOf, page.afterId);
  return { data: rest.slice(0, page.limit), has_more: rest.length > page.limit };
}

/** Xendit expires an unpaid invoice at its expiry date; checked whenever the invoice is looked at. */
function expireWhenDue(invoice: XenditInvoice): void {
  if (invoice.status === 'PENDING' && Date.parse(invoice.expiry_date) <= Date.now()) {
    invoice.status = 'EXPIRED';
    invoice.updated = invoice.expiry_date;
  }
}

/** The invoice callback body: the fields Xendit posts, without the checkout-only ones. */
function invoiceCallbackBody(invoice: XenditInvoice) {
  return {
    id: invoice.id,
    external_id: invoice.external_id,
    user_id: invoice.user_id,
    is_high: false,
    status: invoice.status,
    merchant_name: invoice.merchant_name,
    amount: invoice.amount,
    paid_amount: invoice.paid_amount,
    paid_at: invoice.paid_at,
    payment_method: invoice.payment_method,
    payment_channel: invoice.payment_channel,
    payment_destination: invoice.payment_destination,
    bank_code: invoice.bank_code,
    payment_id: invoice.payment_id,
    currency: invoice.currency,
    payer_email: invoice.payer_email,
    description: invoice.description,
    success_redirect_url: invoice.success_redirect_url,
    failure_redirect_url: invoice.failure_redirect_url,
    created: invoice.created,
    updated: invoice.updated,
  };
}

/** The channels a real Indonesian account offers; xendit-node refuses an invoice without these lists. */
function paymentOptions(amount: number) {
  return {
    available_banks: ['BCA', 'BNI', 'BRI', 'MANDIRI', 'PERMATA'].map((bank_code) => ({
      bank_code,
      collection_type: 'POOL',
      transfer_amount: amount,
      bank_branch: 'Virtual Account',
      account_holder_name: SANDBOX_MERCHANT_NAME.toUpperCase(),
      identity_amount: 0,
    })),
    available_retail_outlets: ['ALFAMART', 'INDOMARET'].map((retail_outlet_name) => ({ retail_outlet_name })),
    available_ewallets: ['OVO', 'DANA', 'SHOPEEPAY', 'LINKAJA'].map((ewallet_type) => ({ ewallet_type })),
    available_qr_codes: [{ qr_code_type: 'QRIS' }],
    available_direct_debits: [{ direct_debit_type: 'DD_BRI' }],
    available_paylaters: [{ paylater_type: 'KREDIVO' }],
  };
}
