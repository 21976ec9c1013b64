import { XenditSdkError } from 'xendit-node';
import type { Config } from '../../lib/config';
import { withTimeout, xenditClient } from '../../lib/xendit';

export interface GatewayInvoice {
  id: string;
  invoiceUrl: string;
  status: string;
  amount: number;
}

/** What payment needs from Xendit; an interface so the service can be driven without the network. */
export interface PaymentGateway {
  createInvoice(input: {
    externalId: string;
    amount: number;
    description: string;
    invoiceDurationSeconds: number;
  }): Promise<GatewayInvoice>;
  /** A PENDING invoice made earlier for this external id (a create whose answer was lost), if any. */
  findPendingInvoice(externalId: string, amount: number): Promise<GatewayInvoice | null>;
  /** Expires an unpaid invoice; 'PAID' when the buyer paid first (the PAID callback is on its way). */
  expireInvoice(invoiceId: string): Promise<'EXPIRED' | 'PAID'>;
  createRefund(input: {
    refundId: string;
    invoiceId: string;
    amount: number;
    reason: RefundReason;
  }): Promise<{ id: string }>;
  /** A refund as Xendit has it now (for callbacks that never came). */
  getRefund(xenditRefundId: string): Promise<GatewayRefund>;
}

export interface GatewayRefund {
  id: string;
  status: string;
  referenceId: string | null;
  failureCode: string | null;
}

export const REFUND_REASONS = ['FRAUDULENT', 'DUPLICATE', 'REQUESTED_BY_CUSTOMER', 'CANCELLATION', 'OTHERS'] as const;
export type RefundReason = (typeof REFUND_REASONS)[number];

/** Payment's gateway to Xendit, built once at start (index.ts) and shared by REST handlers and background work. */
export function xenditGateway(config: Config): PaymentGateway {
  const xendit = xenditClient(config);
  const ms = config.HTTP_TIMEOUT_MS;
  const toInvoice = (invoice: { id?: string; invoiceUrl: string; status: string; amount: number }): GatewayInvoice => ({
    id: invoice.id!,
    invoiceUrl: invoice.invoiceUrl,
    status: invoice.status,
    amount: invoice.amount,
  });
  return {
    async createInvoice({ externalId, amount, description, invoiceDurationSeconds }) {
      const invoice = await withTimeout(
        xendit.Invoice.createInvoice({
          data: { externalId, amount, description, invoiceDuration: invoiceDurationSeconds, currency: 'IDR' },
        }),
        ms,
        'createInvoice',
      );
      return toInvoice(invoice);
    },
    async findPendingInvoice(externalId, amount) {
      const invoices = await withTimeout(xendit.Invoice.getInvoices({ externalId, limit: 10 }), ms, 'getInvoices');
      const reusable = invoices.find((invoice) => invoice.status === 'PENDING' && invoice.amount === amount);
      return reusable ? toInvoice(reusable) : null;
    },
    async expireInvoice(invoiceId) {
      try {
        const invoice = await withTimeout(xendit.Invoice.expireInvoice({ invoiceId }), ms, 'expireInvoice');
        return invoice.status === 'EXPIRED' ? 'EXPIRED' : 'PAID';
      } catch (error) {
        // Xendit refuses to expire an invoice that is already paid (or settled).
        if (error instanceof XenditSdkError && Number(error.status) === 400) {
          const invoice = await withTimeout(xendit.Invoice.getInvoiceById({ invoiceId }), ms, 'getInvoiceById');
          if (invoice.status === 'PAID' || invoice.status === 'SETTLED') return 'PAID';
          if (invoice.status === 'EXPIRED') return 'EXPIRED';
        }
        throw error;
      }
    },
    async createRefund({ refundId, invoiceId, amount, reason }) {
      const refund = await withTimeout(
        xendit.Refund.createRefund({
          idempotencyKey: refundId,
          data: { invoiceId, referenceId: refundId, amount, currency: 'IDR', reason },
        }),
        ms,
        'createRefund',
      );
      return { id: refund.id! };
    },
    // Straight to `GET /refunds/{id}`: xendit-node's Refund model drops `status` (EXTERNAL.md).
    async getRefund(xenditRefundId) {
      const response = await fetch(`${config.xenditApiUrl}/refunds/${encodeURIComponent(xenditRefundId)}`, {
        headers: { authorization: `Basic ${Buffer.from(`${config.XENDIT_SECRET_KEY}:`).toString('base64')}` },
        signal: AbortSignal.timeout(ms),
      });
      if (!response.ok) throw new Error(`Xendit getRefund answered ${response.status}`);
      const refund = (await response.json()) as {
        id: string;
        status: string;
        reference_id?: string | null;
        failure_code?: string | null;
      };
      return {
        id: refund.id,
        status: refund.status,
        referenceId: refund.reference_id ?? null,
        failureCode: refund.failure_code ?? null,
      };
    },
  };
}
