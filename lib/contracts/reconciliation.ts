import { z } from 'zod';
import type { InternalClient } from '../internal-client';

/**
 * Reconciliation against Xendit (docs/internal-api.md): what a mismatch looks like, payment's report, and
 * settlement's payouts for a window, declared once and imported by payment, settlement and scripts/reconcile.ts.
 */

export type MismatchKind =
  /** Xendit has the invoice PAID, no payment here knows it. */
  | 'INVOICE_UNKNOWN'
  /** Xendit has the invoice PAID, its payment has no capture in the ledger (a lost callback, a second invoice). */
  | 'INVOICE_NOT_CAPTURED'
  /** A payment captured more than once in the ledger. */
  | 'CAPTURE_DUPLICATED'
  | 'CAPTURE_AMOUNT_DIFFERS'
  /** The ledger holds a capture whose invoice Xendit does not show paid. */
  | 'CAPTURE_NOT_PAID_AT_XENDIT'
  /** A refund at Xendit with no refund row here. */
  | 'REFUND_UNKNOWN'
  | 'REFUND_DUPLICATED_AT_XENDIT'
  | 'REFUND_AMOUNT_DIFFERS'
  | 'REFUND_STATUS_DIFFERS'
  /** A refund row here that says Xendit has (or paid) it, which Xendit does not show. */
  | 'REFUND_NOT_AT_XENDIT'
  /** A refund's REFUND_SETTLED ledger movement is missing, doubled, of another amount, or booked while not SUCCEEDED. */
  | 'REFUND_LEDGER'
  | 'PAYOUT_NOT_AT_XENDIT'
  | 'PAYOUT_DUPLICATED_AT_XENDIT'
  | 'PAYOUT_AMOUNT_DIFFERS'
  | 'PAYOUT_STATUS_DIFFERS'
  /** Payment's ledger movements of a payout do not tell its status (missing, doubled, of another amount). */
  | 'PAYOUT_LEDGER';

export interface Mismatch {
  kind: MismatchKind;
  /** Our id (payment, refund or payout) when we have the thing, else Xendit's. */
  id: string;
  /** Xendit's id (invoice, `rfd-…`, `disb-…`) when Xendit has it. */
  xenditId: string | null;
  /** What differs, for a person. */
  detail: string;
}

/** A reconciliation's time window, ISO 8601; `from` inclusive, `to` exclusive. */
export interface ReconciliationWindow {
  from: string;
  to: string;
}

const DAY_MS = 24 * 3600_000;
/** The longest window one reconciliation covers: its work grows with it. */
const MAX_WINDOW_DAYS = 31;
const instant = z.string().datetime({ offset: true }).pipe(z.coerce.date());

/** The window as both sides read it from the query: `to` defaults to now, `from` to a day before `to`. */
export const windowSchema = z
  .object({ from: instant.optional(), to: instant.optional() })
  .transform(({ from, to = new Date() }) => ({ from: from ?? new Date(to.getTime() - DAY_MS), to }))
  .refine(({ from, to }) => from < to, { message: 'must be before to', path: ['from'] })
  .refine(({ from, to }) => to.getTime() - from.getTime() <= MAX_WINDOW_DAYS * DAY_MS, {
    message: `the window may span ${MAX_WINDOW_DAYS} days at most`,
    path: ['from'],
  });

/**
 * payment (3006) `GET ?from=&to=` (both optional: the last 24 hours): Xendit's paid invoices, refunds and (through
 * settlement) payouts of the window compared one to one with the payments, refunds and ledger. Reads only.
 */
export const RECONCILIATION_PATH = '/internal/reconciliation';
/** How long a caller waits for a reconciliation (it pages through Xendit's lists). */
export const RECONCILIATION_TIMEOUT_MS = 120_000;
export interface ReconciliationReport extends ReconciliationWindow {
  ok: boolean;
  /** How many of each were compared. */
  checked: { invoices: number; refunds: number; payouts: number };
  mismatches: Mismatch[];
}

/**
 * settlement (3013) `GET ?from=&to=`: its payouts made in the window (once reserved), each compared with the
 * payouts Xendit lists under its reference id; payment checks its ledger against `payouts`.
 */
export const PAYOUT_RECONCILIATION_PATH = '/internal/reconciliation/payouts';
export interface PayoutReconciliation {
  payouts: { id: string; amount: number; status: string }[];
  mismatches: Mismatch[];
}

export function fetchPayoutReconciliation(
  client: InternalClient,
  window: ReconciliationWindow,
): Promise<PayoutReconciliation> {
  // One Xendit call per payout: longer than an ordinary internal call may take.
  return client.call('settlement', 'GET', `${PAYOUT_RECONCILIATION_PATH}?${new URLSearchParams({ ...window })}`, {
    timeoutMs: RECONCILIATION_TIMEOUT_MS,
  });
}
