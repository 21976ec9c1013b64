import type { Transitions } from '../../lib/state-machine';

export type PaymentStatus = 'PENDING' | 'PAID' | 'EXPIRED' | 'FAILED' | 'LATE_PAID' | 'REFUNDED';
export type EscrowStatus = 'HELD' | 'RELEASED' | 'REFUNDED';
export type RefundStatus = 'PENDING' | 'SUCCEEDED' | 'FAILED';
export type RefundDestination = 'ORIGINAL_METHOD' | 'WALLET';
export type EarningsStatus = 'PENDING' | 'AVAILABLE' | 'REFUNDED';
export type PayoutReservationStatus = 'RESERVED' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'REVERSED';

/**
 * DESIGN.md §4: PENDING → PAID → REFUNDED; PENDING → EXPIRED | FAILED. Money that arrives after the
 * payment gave up (the order or participant is already undone) makes it LATE_PAID: captured and being
 * refunded to the original method, never PAID, so nothing is revived; REFUNDED once Xendit confirms.
 */
export const PAYMENT_TRANSITIONS: Transitions<PaymentStatus> = {
  PENDING: ['PAID', 'EXPIRED', 'FAILED'],
  PAID: ['REFUNDED'],
  EXPIRED: ['LATE_PAID'],
  FAILED: ['LATE_PAID'],
  LATE_PAID: ['REFUNDED'],
  REFUNDED: [],
};

/**
 * Escrow money is HELD once paid and leaves exactly once: RELEASED to the factory or REFUNDED to the
 * buyer. The refund claim happens when the refund is started, so a release can never race it.
 */
export const ESCROW_TRANSITIONS: Transitions<EscrowStatus> = {
  HELD: ['RELEASED', 'REFUNDED'],
  RELEASED: [],
  REFUNDED: [],
};

/**
 * A paid regular order's money waits in the factory's pending money and leaves exactly once: AVAILABLE to
 * the factory when the order is delivered, or REFUNDED to the buyer (claimed when the refund starts).
 */
export const EARNINGS_TRANSITIONS: Transitions<EarningsStatus> = {
  PENDING: ['AVAILABLE', 'REFUNDED'],
  AVAILABLE: [],
  REFUNDED: [],
};

/**
 * A payout's money (DESIGN.md §4, Payout): reserved, then paid out or returned; paid out may come back.
 * RESERVED → REVERSED is a reversal delivered before its success (settlement's outbox retries the SUCCEEDED
 * that payment missed while down): it books both movements, and the late SUCCEEDED is a replay.
 */
export const PAYOUT_RESERVATION_TRANSITIONS: Transitions<PayoutReservationStatus> = {
  RESERVED: ['SUCCEEDED', 'FAILED', 'CANCELLED', 'REVERSED'],
  SUCCEEDED: ['REVERSED'],
  FAILED: [],
  CANCELLED: [],
  REVERSED: [],
};

export const REFUND_TRANSITIONS: Transitions<RefundStatus> = {
  PENDING: ['SUCCEEDED', 'FAILED'],
  SUCCEEDED: [],
  FAILED: [],
};
