import type { Transitions } from '../../lib/state-machine';

/** DESIGN.md §4. Settlement (orders, refunds) follows a status change; see service.ts. */
export const SESSION_STATUSES = [
  'FORMING',
  'MOQ_REACHED',
  'IN_PRODUCTION',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

export const SESSION_TRANSITIONS: Transitions<SessionStatus> = {
  FORMING: ['MOQ_REACHED', 'FAILED', 'CANCELLED'],
  MOQ_REACHED: ['IN_PRODUCTION'],
  IN_PRODUCTION: ['COMPLETED'],
  COMPLETED: [],
  FAILED: [],
  CANCELLED: [],
};

export const PARTICIPANT_STATUSES = ['PENDING_PAYMENT', 'PAID', 'ORDERED', 'EXPIRED', 'REFUNDED'] as const;
export type ParticipantStatus = (typeof PARTICIPANT_STATUSES)[number];

/**
 * PAID → REFUNDED: the session failed or was cancelled. ORDERED → REFUNDED: the factory cancelled the bulk order
 * while the escrow was held (order's cancelOrder; payment refunds it from escrow and tells us).
 */
export const PARTICIPANT_TRANSITIONS: Transitions<ParticipantStatus> = {
  PENDING_PAYMENT: ['PAID', 'EXPIRED'],
  PAID: ['ORDERED', 'REFUNDED'],
  ORDERED: ['REFUNDED'],
  EXPIRED: [],
  REFUNDED: [],
};

export type RefundPreference = 'ORIGINAL_METHOD' | 'WALLET';

/** What an ended session becomes: production goes ahead only when paid units reach the MOQ. */
export function moqOutcome(paidQuantity: number, moq: number): 'MOQ_REACHED' | 'FAILED' {
  return paidQuantity >= moq ? 'MOQ_REACHED' : 'FAILED';
}

/** Paid units as a whole percentage of the MOQ, rounded down (99.9 % is not yet there), capped at 100. */
export function progressPercent(paidQuantity: number, moq: number): number {
  if (moq <= 0) return 100;
  return Math.min(100, Math.floor((paidQuantity * 100) / moq));
}

/** Units still open for joining; null when the session has no maximum. */
export function remainingQuantity(maxQuantity: number | null | undefined, joinedQuantity: number): number | null {
  return maxQuantity == null ? null : Math.max(0, maxQuantity - joinedQuantity);
}
