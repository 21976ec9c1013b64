import type { Mismatch } from '../../lib/contracts/reconciliation';
import type { PayoutLedgerKind } from './ledger';

/**
 * Reconciliation's rules as pure functions: Xendit's records (as listed, plus those looked up one by one) against
 * ours, one to one. Each answers the mismatches it finds; none changes anything.
 */

/** The invoice statuses in which Xendit holds the buyer's money. */
export const PAID_AT_XENDIT: readonly string[] = ['PAID', 'SETTLED'];

export interface XenditInvoiceFact {
  id: string;
  externalId: string;
  status: string;
  amount: number;
}

export interface PaymentFact {
  id: string;
  invoiceId: string | null;
  /** The amount of each capture group in the ledger (PAYMENT_CAPTURED, ESCROW_HELD, LATE_PAYMENT_CAPTURED). */
  captures: number[];
}

/**
 * Every invoice Xendit has PAID is exactly one capture of that amount here, and every capture here is an invoice
 * Xendit has PAID. `xendit` holds the paid invoices of the window and whatever was looked up for our captures.
 */
export function matchInvoices(xendit: XenditInvoiceFact[], payments: PaymentFact[]): Mismatch[] {
  const mismatches: Mismatch[] = [];
  const byId = new Map(payments.map((p) => [p.id, p]));
  const byInvoice = new Map(payments.filter((p) => p.invoiceId).map((p) => [p.invoiceId!, p]));
  const paidInvoiceOf = new Set<string>();

  for (const invoice of xendit) {
    if (!PAID_AT_XENDIT.includes(invoice.status)) continue;
    const payment = byInvoice.get(invoice.id) ?? byId.get(invoice.externalId);
    const mismatch = (kind: Mismatch['kind'], detail: string, id = payment?.id ?? invoice.id) =>
      mismatches.push({ kind, id, xenditId: invoice.id, detail });
    if (!payment) {
      mismatch(
        'INVOICE_UNKNOWN',
        `Xendit has invoice ${invoice.id} (${invoice.externalId}) ${invoice.status}, no payment here`,
      );
      continue;
    }
    if (payment.invoiceId !== invoice.id) {
      mismatch(
        'INVOICE_NOT_CAPTURED',
        `Xendit has a second invoice ${invoice.id} of payment ${payment.id} ${invoice.status}; the payment's is ${payment.invoiceId ?? 'none'}`,
      );
      continue;
    }
    paidInvoiceOf.add(payment.id);
    if (payment.captures.length === 0)
      mismatch('INVOICE_NOT_CAPTURED', `Xendit has invoice ${invoice.id} ${invoice.status}, the ledger has no capture`);
    else if (payment.captures.length > 1)
      mismatch('CAPTURE_DUPLICATED', `The ledger captures invoice ${invoice.id} ${payment.captures.length} times`);
    else if (payment.captures[0] !== invoice.amount)
      mismatch(
        'CAPTURE_AMOUNT_DIFFERS',
        `The ledger captured ${payment.captures[0]}, Xendit's invoice ${invoice.id} is ${invoice.amount}`,
      );
  }

  const xenditById = new Map(xendit.map((invoice) => [invoice.id, invoice]));
  for (const payment of payments) {
    if (payment.captures.length === 0 || paidInvoiceOf.has(payment.id)) continue;
    const invoice = payment.invoiceId ? xenditById.get(payment.invoiceId) : undefined;
    mismatches.push({
      kind: 'CAPTURE_NOT_PAID_AT_XENDIT',
      id: payment.id,
      xenditId: invoice?.id ?? null,
      detail: invoice
        ? `The ledger captured payment ${payment.id}, Xendit has its invoice ${invoice.id} ${invoice.status}`
        : `The ledger captured payment ${payment.id}, Xendit has no invoice ${payment.invoiceId ?? '(none)'}`,
    });
  }
  return mismatches;
}

export interface XenditRefundFact {
  id: string;
  /** Our refund id, which we send as `reference_id`. */
  referenceId: string | null;
  amount: number;
  status: string;
}

export interface RefundFact {
  id: string;
  xenditRefundId: string | null;
  amount: number;
  status: string;
  destination: string;
  /** The amount of each REFUND_SETTLED group in the ledger. */
  settlements: number[];
}

/**
 * Every refund at Xendit is exactly one refund row here with its amount and status; every row that says Xendit
 * has it (a Xendit id, or SUCCEEDED to the original method) is at Xendit; and a SUCCEEDED refund to the original
 * method left buyer_refunds exactly once, for its amount, while no other did.
 */
export function matchRefunds(xendit: XenditRefundFact[], refunds: RefundFact[]): Mismatch[] {
  const mismatches: Mismatch[] = [];
  const byXenditId = new Map(refunds.filter((r) => r.xenditRefundId).map((r) => [r.xenditRefundId!, r]));
  const byId = new Map(refunds.map((r) => [r.id, r]));
  const matched = new Map<string, string>();

  for (const remote of xendit) {
    const refund = byXenditId.get(remote.id) ?? (remote.referenceId ? byId.get(remote.referenceId) : undefined);
    const mismatch = (kind: Mismatch['kind'], detail: string) =>
      mismatches.push({ kind, id: refund?.id ?? remote.id, xenditId: remote.id, detail });
    if (!refund) {
      mismatch('REFUND_UNKNOWN', `Xendit has refund ${remote.id} of ${remote.amount} ${remote.status}, no refund here`);
      continue;
    }
    const earlier = matched.get(refund.id);
    if (earlier) {
      mismatch('REFUND_DUPLICATED_AT_XENDIT', `Xendit has refunds ${earlier} and ${remote.id} for refund ${refund.id}`);
      continue;
    }
    matched.set(refund.id, remote.id);
    if (refund.amount !== remote.amount)
      mismatch(
        'REFUND_AMOUNT_DIFFERS',
        `Refund ${refund.id} is ${refund.amount}, Xendit's ${remote.id} is ${remote.amount}`,
      );
    if (refund.status !== remote.status)
      mismatch(
        'REFUND_STATUS_DIFFERS',
        `Refund ${refund.id} is ${refund.status}, Xendit's ${remote.id} is ${remote.status}`,
      );
  }

  for (const refund of refunds) {
    if (refund.destination !== 'ORIGINAL_METHOD') continue;
    const mismatch = (kind: Mismatch['kind'], detail: string) =>
      mismatches.push({ kind, id: refund.id, xenditId: refund.xenditRefundId, detail });
    if (!matched.has(refund.id) && (refund.xenditRefundId || refund.status === 'SUCCEEDED'))
      mismatch(
        'REFUND_NOT_AT_XENDIT',
        `Refund ${refund.id} is ${refund.status} as ${refund.xenditRefundId ?? 'no Xendit refund'}, Xendit has none`,
      );
    const expected = refund.status === 'SUCCEEDED' ? [refund.amount] : [];
    if (!sameAmounts(refund.settlements, expected))
      mismatch(
        'REFUND_LEDGER',
        `Refund ${refund.id} is ${refund.status} for ${refund.amount}; the ledger settled it [${refund.settlements.join(', ')}]`,
      );
  }
  return mismatches;
}

export interface PayoutFact {
  id: string;
  amount: number;
  /** Settlement's status. */
  status: string;
}

export interface PayoutMovement {
  kind: PayoutLedgerKind;
  amount: number;
}

/** The ledger movements each payout status stands for (ledger.ts), in the order they happen. */
const PAYOUT_MOVEMENTS: Record<string, PayoutLedgerKind[]> = {
  REQUESTED: ['PAYOUT_RESERVED'],
  ACCEPTED: ['PAYOUT_RESERVED'],
  SUCCEEDED: ['PAYOUT_RESERVED', 'PAYOUT_SUCCEEDED'],
  FAILED: ['PAYOUT_RESERVED', 'PAYOUT_FAILED'],
  CANCELLED: ['PAYOUT_RESERVED', 'PAYOUT_CANCELLED'],
  REVERSED: ['PAYOUT_RESERVED', 'PAYOUT_SUCCEEDED', 'PAYOUT_REVERSED'],
};

/** Each payout settlement reports has exactly the ledger movements its status stands for, each of its amount. */
export function matchPayoutLedger(payouts: PayoutFact[], movements: Map<string, PayoutMovement[]>): Mismatch[] {
  const mismatches: Mismatch[] = [];
  for (const payout of payouts) {
    const booked = movements.get(payout.id) ?? [];
    const expected = PAYOUT_MOVEMENTS[payout.status] ?? [];
    const kinds = booked.map((m) => m.kind).sort();
    if (kinds.join() !== [...expected].sort().join() || booked.some((movement) => movement.amount !== payout.amount)) {
      mismatches.push({
        kind: 'PAYOUT_LEDGER',
        id: payout.id,
        xenditId: null,
        detail: `Payout ${payout.id} is ${payout.status} for ${payout.amount}; the ledger has [${booked
          .map((m) => `${m.kind} ${m.amount}`)
          .join(', ')}]`,
      });
    }
  }
  return mismatches;
}

function sameAmounts(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((amount, i) => amount === b[i]);
}
